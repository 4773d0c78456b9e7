"""The byte pipes MQTT runs on: TCP, TLS over TCP, and WebSocket (RFC 6455, wsproto) over
either. The caller has resolved the broker; the connection goes through the module's one connection
path (services/net/dial.py: the network policy, the fault rules, TLS without Python's
verification and the broker's certificate checked at the module's clock, as for sockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atwifi.services.net.dial import Dialer

READ_CHUNK = 65536


class UpgradeRefused(Exception):
    """The WebSocket upgrade was answered with something other than 101."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail


class Link:
    """A connected byte stream (TCP or TLS). ``recv`` returns b"" at the end."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @property
    def peer_der(self) -> bytes | None:
        obj = self.writer.get_extra_info("ssl_object")
        return obj.getpeercert(binary_form=True) if obj is not None else None

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self) -> bytes:
        return await self.reader.read(READ_CHUNK)

    def abort(self) -> None:
        """Drop the connection at once (no DISCONNECT, no close handshake): a lost link."""
        transport = self.writer.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        except (OSError, TimeoutError, ssl.SSLError):
            self.abort()


class WsLink:
    """MQTT over WebSocket (binary frames, subprotocol ``mqtt``) on a Link."""

    def __init__(self, link: Link) -> None:
        from wsproto import ConnectionType, WSConnection

        self.link = link
        self.ws = WSConnection(ConnectionType.CLIENT)
        self._pending: list[bytes] = []
        self._closed = False

    @property
    def peer_der(self) -> bytes | None:
        return self.link.peer_der

    async def handshake(self, host: str, path: str) -> None:
        from wsproto.events import AcceptConnection, RejectConnection, RejectData, Request

        await self.link.send(self.ws.send(Request(host=host, target=path, subprotocols=["mqtt"])))
        while True:
            data = await self.link.recv()
            if not data:
                raise UpgradeRefused(0, "connection closed during the WebSocket upgrade")
            self.ws.receive_data(data)
            for ev in self.ws.events():
                if isinstance(ev, AcceptConnection):
                    return
                if isinstance(ev, RejectConnection):
                    raise UpgradeRefused(ev.status_code, f"upgrade answered {ev.status_code}")
                if isinstance(ev, RejectData):
                    continue
                if isinstance(ev, bytes):  # pragma: no cover - wsproto never yields bytes here
                    self._pending.append(ev)

    async def send(self, data: bytes) -> None:
        from wsproto.events import Message

        await self.link.send(self.ws.send(Message(data=data)))

    async def recv(self) -> bytes:
        from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage

        while not self._pending:
            if self._closed:
                return b""
            data = await self.link.recv()
            if not data:
                self._closed = True
                return b""
            self.ws.receive_data(data)
            for ev in self.ws.events():
                if isinstance(ev, BytesMessage):
                    self._pending.append(bytes(ev.data))
                elif isinstance(ev, TextMessage):  # MQTT is binary; keep the bytes anyway
                    self._pending.append(ev.data.encode("utf-8"))
                elif isinstance(ev, Ping):
                    await self.link.send(self.ws.send(ev.response()))
                elif isinstance(ev, CloseConnection):
                    with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
                        await self.link.send(self.ws.send(ev.response()))
                    self._closed = True
        return self._pending.pop(0)

    def abort(self) -> None:
        self.link.abort()

    async def close(self) -> None:
        from wsproto.events import CloseConnection

        # Already closed, or the peer went first: nothing to tell it.
        with contextlib.suppress(Exception):
            await self.link.send(self.ws.send(CloseConnection(code=1000)))
        await self.link.close()


async def open_link(
    dialer: Dialer,
    ip: str,
    port: int,
    *,
    tls: bool,
    server_name: str,
    path: str | None,
    host_header: str,
    timeout: float,
    deadline: float | None = None,
) -> Link | WsLink:
    """Connect through the module's connection path (``dialer``: policy, fault rules, TLS
    and the broker's certificate checked at the module's clock before anything is sent);
    with a ``path``, upgrade to a WebSocket there. Raises OSError/ssl.SSLError/TimeoutError,
    the dialer's ``Blocked``, UpgradeRefused, or the TLS service's certificate error."""
    if deadline is None:
        deadline = asyncio.get_running_loop().time() + timeout
    async with asyncio.timeout_at(deadline):
        reader, writer = await dialer.open_connection(
            host=server_name,
            ip=ip,
            port=port,
            tls_name=server_name if tls else None,
            handshake_timeout=timeout if tls else None,
            limit=READ_CHUNK,
            faultable=True,  # fault.socket client=mqtt, while it is open
        )
    link = Link(reader, writer)
    try:
        if path is None:
            return link
        ws = WsLink(link)
        async with asyncio.timeout_at(deadline):
            await ws.handshake(host_header, path)
        return ws
    except BaseException:
        link.abort()
        raise


class ServiceWsLink:
    """MQTT over a WebSocket of the module's WebSocket service (``services/websocket``): the
    connection sits on the slot MQTT reserved there. Failures come out as ConnectionError."""

    def __init__(self, websockets: Any, slot: int, client: Any) -> None:
        self.websockets = websockets
        self.slot = slot
        self.client = client

    @property
    def peer_der(self) -> bytes | None:
        return None  # the WebSocket service checked the broker itself

    async def send(self, data: bytes) -> None:
        from atwifi.services.errors import ServiceError

        try:
            await self.client.send(data, binary=True)
        except ServiceError as e:
            raise ConnectionError(str(e)) from None

    async def recv(self) -> bytes:
        return await self.client.recv()

    def abort(self) -> None:
        self.websockets.release(self.slot)  # aborts the connection on it

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.close(1000)
        self.websockets.release(self.slot)


class QuietWsEvents:
    """What the WebSocket service reports about MQTT's own connection: nothing for the host
    (no WIND:88/89; the MQTT session notices the end through ``recv``), notes to the trace."""

    def __init__(self, note: Callable[[str], None]) -> None:
        self._note = note

    def data(self, cid: int, last_frame: bool, last_frag: bool, received: int, unread: int):  # type: ignore[no-untyped-def]
        return None

    def closed(self, cid: int, code: int | None, reason: str) -> None:
        return None

    def note(self, text: str) -> None:
        self._note(f"MQTT: {text}")
