"""WebSocketPart: publishes ``device.websockets`` and turns its events into +WIND:88/89.

Name resolution and the network policy are the net service's (``device.net``), TLS the
sockets part's TLS service (``device.tls``: certificates checked at the module's clock). At a
reset or power-off every WebSocket goes, unread data included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.errors import AtError
from atwifi.services.errors import ServiceError
from atwifi.services.websocket import WebSockets, WsFault

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

UNIT = 1500  # ip_sock_memsize counts in units of 1500 bytes (Table 7)


class WindEvents:
    """WebSocket events as the SPWF04's indications (Table 14)."""

    def __init__(self, device: Device) -> None:
        self.device = device

    def data(self, cid: int, last_frame: bool, last_frag: bool, received: int, unread: int) -> None:
        self.device.wind(88, cid, int(last_frame), int(last_frag), received, unread)

    def closed(self, cid: int, code: int | None, reason: str) -> None:
        self.device.trace_note(f"websocket {cid} closed by the server: {code} {reason}".rstrip())
        self.device.wind(89, cid)

    def note(self, text: str) -> None:
        self.device.trace_note(text)


class WebSocketPart:
    attr = "websockets"

    def __init__(self, device: Device) -> None:
        self.device = device

    async def _resolve(self, host: str) -> str:
        net = self.device.net
        try:
            if net is None:
                from atwifi.services.sockets import literal_resolve

                return await literal_resolve(host)
            return await net.resolve(host)
        except (AtError, ServiceError) as e:  # DNS failure: the net part's 65, or a literal's
            raise ServiceError(WsFault.RESOLVE, e.detail or str(e)) from None

    def _check(self, ip: str, port: int) -> None:
        net = self.device.net
        if net is None:
            return
        try:
            net.check(ip, port)
        except AtError as e:  # blocked by the policy, or the module's own console
            raise ServiceError(WsFault.BLOCKED, e.detail or str(e)) from None

    def _capacity(self) -> int:
        return max(1, int(self.device.config.get("ip_sock_memsize"))) * UNIT

    def _threshold(self) -> int:
        return min(100, max(0, int(self.device.config.get("ip_sock_threshold"))))

    async def start(self) -> None:
        d = self.device
        d.websockets = WebSockets(
            WindEvents(d),
            capacity=self._capacity,
            threshold=self._threshold,
            resolve=self._resolve,
            check=self._check,
            tls=d.tls,
            heap=d.heap,
        )

    async def after_boot(self) -> None:
        return None

    async def stop(self) -> None:
        ws = getattr(self.device, "websockets", None)
        if ws is not None:
            ws.close_all()
            self.device.websockets = None
