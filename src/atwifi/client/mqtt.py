"""Client library: the module's MQTT client, with incoming messages as an async iterator.

    conn = await client.mqtt_connect("broker.example", 1883, client_id="dev-1")
    await conn.subscribe("cmd/#", qos=1)
    await conn.publish("telemetry", b"\\x00\\x01 any bytes", qos=1, retain=False)
    async for msg in conn.messages():       # +WIND:86, pieces joined; ends at +WIND:87
        print(msg.topic, msg.payload)
    await conn.disconnect()

The mixin uses only ``self.command`` and ``self.on_wind``. Payloads are bytes both ways: the
module takes ``{data}`` as it is and the parser reads +WIND:86 payloads by their announced
size (CR, LF and ':' included). A message longer than one WIND's piece is joined again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from atwifi.client.protocol import MQTT_WIND, encode

CLOSED = 87
PUBLISHED = 86


@dataclass(frozen=True)
class MqttMessage:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool


def _field(value: object | None) -> str:
    return "" if value is None else str(int(value) if isinstance(value, bool) else value)


class MqttConnection:
    """The module's broker connection (id 0). ``closed_reason``: WIND:87's reason once the
    module reported the connection gone (0 connection level, 1 MQTT protocol level)."""

    def __init__(self, client: Any, cid: int, session_present: bool, backlog: int = 10000):
        self.client = client
        self.id = cid
        self.session_present = session_present
        self.closed_reason: int | None = None
        self._queue: asyncio.Queue[MqttMessage | None] = asyncio.Queue(backlog)
        self._parts: list[bytes] = []
        self._done = False
        self._unhook = client.on_wind(self._on_wind)

    def _on_wind(self, wind: Any) -> None:
        if wind.number == CLOSED:
            self.closed_reason = int(wind.fields[-1]) if wind.fields else 0
            self._finish()
        elif wind.number == PUBLISHED:
            raw = encode(wind.line)
            m = MQTT_WIND.match(raw)
            if m is None:
                return
            self._parts.append(raw[m.end() :])
            if sum(map(len, self._parts)) < int(m.group("total")):
                return  # more pieces of this message follow
            payload, self._parts = b"".join(self._parts), []
            msg = MqttMessage(
                m.group("topic").decode("utf-8", "surrogateescape"),
                payload,
                int(m.group("qos")),
                m.group("retain") == b"1",
                m.group("dup") == b"1",
            )
            if not self._queue.full():  # a host that never reads loses the newest, not memory
                self._queue.put_nowait(msg)

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._unhook()
            if self._queue.full():
                self._queue.get_nowait()
            self._queue.put_nowait(None)

    @property
    def connected(self) -> bool:
        return not self._done

    async def subscribe(self, topic: str, qos: int = 0) -> None:
        await self.client.command(f"AT+S.MQTTSUB={self.id},{topic},{qos}")

    async def unsubscribe(self, topic: str) -> None:
        await self.client.command(f"AT+S.MQTTUNSUB={self.id},{topic}")

    async def publish(
        self, topic: str, payload: bytes | str, qos: int = 0, retain: bool = False
    ) -> None:
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        await self.client.command(
            f"AT+S.MQTTPUB={self.id},{topic},{qos},{int(retain)},{len(data)}", data
        )

    async def next_message(self, timeout: float | None = None) -> MqttMessage | None:  # noqa: ASYNC109
        """The next message, None once the connection is gone."""
        if self._done and self._queue.empty():
            return None
        async with asyncio.timeout(timeout):
            msg = await self._queue.get()
        if msg is None:
            self._queue.put_nowait(None)  # every later call ends too
        return msg

    async def messages(self) -> AsyncIterator[MqttMessage]:
        """Incoming messages until the module reports the connection closed (or disconnect)."""
        while (msg := await self.next_message()) is not None:
            yield msg

    async def disconnect(self) -> None:
        try:
            await self.client.command(f"AT+S.MQTTDISC={self.id}")
        finally:
            self._finish()


class MqttMixin:
    async def mqtt_connect(
        self,
        host: str,
        port: int | None = None,
        *,
        path: str | None = None,
        tls: int | bool = 0,
        username: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
        keep_alive: int | None = None,
        retry: int | None = None,
        will_qos: int | None = None,
        will_topic: str | None = None,
        will_message: str | None = None,
    ) -> MqttConnection:
        """MQTTCONN. ``path`` selects MQTT over WebSocket; ``tls`` 1/2 (or True) TLS, checked
        with the certificates loaded by ``tls_load_all``. Raises AtCommandError (or
        CertificateError) when the module cannot connect."""
        fields = [
            host,
            port,
            path,
            int(tls),
            username,
            password,
            client_id,
            keep_alive,
            retry,
            will_qos,
            will_topic,
            will_message,
        ]
        line = "AT+S.MQTTCONN=" + ",".join(_field(f) for f in fields)
        reply = await self.command(line, timeout=15)  # type: ignore[attr-defined]
        cid, _, session = reply.value("AT-S.On:").partition(":")
        return MqttConnection(self, int(cid), session == "1")
