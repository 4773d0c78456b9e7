"""MqttPart: publishes ``device.mqtt`` and words its events as WIND 86/87.

Incoming messages: ``+WIND:86:MQTT Published:<id>:<topic>:<qos>:<retain>:<dup>:<piece size>:
<total size>:<payload piece>``, the payload raw on the line (CR, LF, any byte), at most
``PIECE`` bytes per WIND; a longer message comes as several WIND:86 whose piece sizes add up
to the total (docs/behaviour.md, "MQTT"). The connection dies with the network (the radio's
link-down) and, silently, at a reset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.services.mqtt import CloseReason, MqttService
from atwifi.services.sockets import literal_resolve

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

PIECE = 512  # payload bytes per WIND:86 (the middleware hands payloads on in 512-byte pieces)


class WindEvents:
    def __init__(self, device: Device) -> None:
        self.device = device

    def message(
        self, cid: int, topic: bytes, qos: int, retain: bool, dup: bool, payload: bytes
    ) -> None:
        t = topic.decode("latin-1")  # one character per byte: the codec sends the bytes
        total = len(payload)
        head = (cid, t, qos, int(retain), int(dup))
        if not payload:
            self.device.wind(86, *head, 0, 0, "")
            return
        for i in range(0, total, PIECE):
            piece = payload[i : i + PIECE]
            self.device.wind(86, *head, len(piece), total, piece.decode("latin-1"))

    def closed(self, cid: int, reason: CloseReason) -> None:
        # Field order: id first, as a driver reads it (the manual's table lists reason, id).
        self.device.wind(87, cid, int(reason))

    def note(self, text: str) -> None:
        self.device.trace_note(text)

    def backlog(self) -> int:
        # WINDs held while a reply is in progress or the console's host takes no output (the
        # output gate's queue; empty otherwise).
        return self.device.gate.held_bytes


class MqttPart:
    attr = "mqtt"

    def __init__(self, device: Device) -> None:
        self.device = device

    async def _resolve(self, host: str) -> str:
        net = self.device.net
        if net is None:
            return await literal_resolve(host)
        return await net.resolve(host)

    def _check(self, ip: str, port: int) -> None:
        net = self.device.net
        if net is not None:
            net.check(ip, port)  # also keeps the module off its own console endpoint

    async def start(self) -> None:
        d = self.device
        d.mqtt = MqttService(  # type: ignore[attr-defined]
            WindEvents(d),
            resolve=self._resolve,
            check=self._check,
            spawn=d.spawn,
            tls=d.tls,
            websockets=lambda: getattr(d, "websockets", None),
        )

    async def after_boot(self) -> None:
        return None

    async def stop(self) -> None:
        svc = getattr(self.device, "mqtt", None)
        if svc is not None:
            svc.close_all()
        self.device.mqtt = None  # type: ignore[attr-defined]
