"""One WebSocket client connection: wsproto over the module's own asyncio transport.

Received payload bytes go into a buffer of ``capacity`` bytes until the host (or MQTT) reads
them; the buffer never holds more. Each read from the server is at most the room left; what
does not fit yet waits in order (bytes not decoded yet in ``_wire``, decoded frames and
control events in ``_queue``) and reading stops, so the TCP window closes and the server's
sends block (backpressure, as the module's sockets do). Reading also stops while more than
``MAX_UNREAD_EVENTS`` data reports wait for a read (a flood of empty frames cannot flood the
host with indications) and while our own writes back up (a server that floods pings but
never reads our pongs). With permessage-deflate, ``DEFLATE_CHUNK`` compressed bytes are
decoded at a time, which bounds what waits inflated.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import contextlib
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from atwifi.services.errors import ServiceError
from atwifi.services.sockets.conn import take_front
from atwifi.services.websocket.faults import Events, WsFault

if TYPE_CHECKING:
    from asyncio import BaseTransport

    from wsproto import WSConnection

HANDSHAKE_CHUNK = 4096  # bytes read at a time before the upgrade completes (h11 caps at 16 KB)
MAX_CHUNK = 65536
DEFLATE_CHUNK = 256  # compressed bytes decoded at a time: bounds what waits inflated
MAX_UNREAD_EVENTS = 32  # data reports outstanding before reading pauses
WRITE_TIMEOUT = 9.0  # drivers give a write 10 s
CLOSE_TIMEOUT = 2.0  # how long a host close waits for the server's Close frame


class _Offered:
    """An extension wsproto does not implement: offered verbatim, accepted when the server
    agrees, frames left as they are (a server that then sets RSV bits fails the
    connection, as it would on a module that does not implement it)."""

    def __init__(self, name: str, params: str) -> None:
        self.name = name
        self.params = params

    def enabled(self) -> bool:
        return False

    def offer(self) -> str | bool:
        return self.params or True

    def finalize(self, offer: str) -> None:
        return None


def make_extensions(spec: Sequence[str]) -> list[Any]:
    """Extension objects for the names (with parameters) the host gave:
    ``permessage-deflate`` is wsproto's, anything else is offered verbatim."""
    from wsproto.extensions import Extension, PerMessageDeflate

    out: list[Any] = []
    for item in spec:
        name, _, params = item.partition(";")
        name = name.strip()
        if not name:
            continue
        if name.lower() == PerMessageDeflate.name:
            kw: dict[str, Any] = {}
            for p in params.split(";"):
                key, _, value = p.strip().partition("=")
                key = key.strip().lower()
                if key == "client_no_context_takeover" or key == "server_no_context_takeover":
                    kw[key] = True
                elif key in ("client_max_window_bits", "server_max_window_bits") and value:
                    with contextlib.suppress(ValueError):
                        kw[key] = int(value.strip().strip('"'))
            out.append(PerMessageDeflate(**kw))
        else:
            ext = type("OfferedExtension", (_Offered, Extension), {})(name, params.strip())
            out.append(ext)
    return out


def basic_auth(username: str, password: str) -> str:
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class WsClient:
    """A WebSocket client. Made by ``WebSockets.open``; the fields are read-only to users.

    ``id``: the slot (0 or 1); ``connected``: open and the server still there;
    ``local_port``; ``subprotocol``/``extensions``: what the server accepted;
    ``close_code``/``close_reason``: the server's Close frame, once it came.
    """

    def __init__(
        self,
        cid: int,
        events: Events,
        capacity: int,
        threshold: int = 0,
        *,
        host: str = "",
        ip: str = "",
        port: int = 0,
        path: str = "/",
    ) -> None:
        self.id = cid
        self.events = events
        self.capacity = max(1, capacity)
        self.threshold = threshold  # bytes unread before a data report (ip_sock_threshold)
        self.host, self.ip, self.port, self.path = host, ip, port, path
        self.buf = bytearray()
        self.received = 0
        self.sent = 0
        self.connected = False
        self.gone = False  # the server closed or the connection was lost
        self.close_code: int | None = None
        self.close_reason = ""
        self.local_port = 0
        self.subprotocol: str | None = None
        self.extensions: list[str] = []
        self.tls = False
        self.live = False  # reports flow once the owner knows the id
        self._ws: WSConnection | None = None
        self._transport: BaseTransport | None = None
        self._upgraded: asyncio.Future[None] | None = None
        self._closed = asyncio.Event()  # TCP is gone
        self._readable = asyncio.Event()  # for recv(): data or the end
        self._writable = asyncio.Event()
        self._writable.set()
        self._paused = False
        self._write_paused = False
        self._unread_events = 0
        self._queue: deque[Any] = deque()  # server events not handled yet (buffer full)
        self._since = 0
        self._lost_exc: str | None = None  # TCP ended while events still wait in _queue
        self._wire = bytearray()  # bytes from the server not given to wsproto yet
        self._head_tail = b""  # last bytes of the HTTP head so far (its end may straddle)
        self._dead = False  # aborted: nothing more is decoded
        self._pump_soon = False
        self._pending_flags: tuple[bool, bool] | None = None
        self._deflate = False
        self._out_open = False  # a fragmented message is being sent
        self._out_binary = False
        self._out_text: codecs.IncrementalDecoder | None = None
        self._by_host = False
        self._reject_status: int | None = None
        self._handshake_error = ""

    # -- state ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<WsClient {self.id} {self.host}:{self.port}{self.path} connected={self.connected}>"

    def unread(self) -> int:
        return len(self.buf)

    @property
    def sending_fragments(self) -> bool:
        """A fragmented message was started (a frame without FIN) and not finished."""
        return self._out_open

    # -- opening (called by WebSockets.open) ---------------------------------------------
    def protocol(self) -> _Protocol:
        return _Protocol(self)

    def start_upgrade(
        self,
        transport: BaseTransport,
        host_header: str,
        *,
        username: str | None = None,
        password: str | None = None,
        origin: str | None = None,
        protocols: Sequence[str] = (),
        extensions: Sequence[Any] = (),
    ) -> asyncio.Future[None]:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import Request

        self._transport = transport
        sock = transport.get_extra_info("sockname")
        if sock:
            self.local_port = int(sock[1])
        self._ws = WSConnection(ConnectionType.CLIENT)
        headers: list[tuple[bytes, bytes]] = []
        if origin:
            headers.append((b"Origin", origin.encode("utf-8")))
        if username or password:
            headers.append((b"Authorization", basic_auth(username or "", password or "").encode()))
        req = Request(
            host=host_header,
            target=self.path,
            extra_headers=headers,
            subprotocols=list(protocols),
            extensions=list(extensions),
        )
        self._upgraded = asyncio.get_running_loop().create_future()
        self._send_raw(self._ws.send(req))
        return self._upgraded

    def handshake_failure(self) -> ServiceError:
        if self._reject_status is not None:
            return ServiceError(
                WsFault.HANDSHAKE,
                f"server answered HTTP {self._reject_status}",
                status=self._reject_status,
            )
        return ServiceError(WsFault.HANDSHAKE, self._handshake_error or "upgrade failed")

    def go_live(self) -> None:
        """The owner knows the id now: report what came before it did."""
        self.live = True
        if self.buf and self._pending_flags is not None:
            self._report(*self._pending_flags, force=True)
        if self.gone:
            self.events.closed(self.id, self.close_code, self.close_reason)

    # -- the wire ------------------------------------------------------------------------
    def _send_raw(self, data: bytes) -> None:
        t = self._transport
        if data and t is not None and not t.is_closing():
            t.write(data)  # type: ignore[attr-defined]

    def _upgrading(self) -> bool:
        return self._upgraded is not None and not self._upgraded.done()

    def _chunk(self) -> int:
        if self._ws is None or self._upgrading():
            return HANDSHAKE_CHUNK
        return max(1, min(self.capacity - len(self.buf), MAX_CHUNK))

    def _received(self, data: bytes) -> None:
        if self._ws is None or self._dead:
            return
        self._wire += data
        self._pump()

    def _feed(self) -> None:
        """Give wsproto the next piece of what the server sent: during the upgrade, up to
        the end of the HTTP head (the frames after it must wait for room like any other);
        with permessage-deflate, DEFLATE_CHUNK bytes, which bounds what they inflate to."""
        from wsproto.events import BytesMessage, TextMessage
        from wsproto.utilities import LocalProtocolError, RemoteProtocolError

        ws = self._ws
        assert ws is not None
        wire = self._wire
        n = len(wire)
        if self._upgrading():
            look = self._head_tail + bytes(wire[:HANDSHAKE_CHUNK])
            i = look.find(b"\r\n\r\n")
            if i >= 0:
                n = i + 4 - len(self._head_tail)
            self._head_tail = (self._head_tail + bytes(wire[:n]))[-3:]
        elif self._deflate:
            n = min(n, DEFLATE_CHUNK)
        chunk = bytes(wire[:n])
        del wire[:n]
        try:
            ws.receive_data(chunk)
            for ev in ws.events():
                if isinstance(ev, TextMessage):
                    piece = ev.data.encode("utf-8")
                    self._queue.append((piece, ev.frame_finished, ev.message_finished))
                elif isinstance(ev, BytesMessage):
                    self._queue.append((bytes(ev.data), ev.frame_finished, ev.message_finished))
                else:
                    self._queue.append(ev)
        except RemoteProtocolError as e:  # a bad upgrade answer
            self._handshake_error = str(e)
            self._fail_upgrade()
            self._abort()
        except LocalProtocolError:  # bytes after the connection was closed: not ours
            self._wire.clear()

    def _pump(self) -> None:
        """Handle what the server sent, in order, as far as the buffer allows: a payload
        that does not fit waits (with everything after it) until the owner reads; bytes
        not yet decoded wait as they came."""
        q = self._queue
        while True:
            while q:
                ev = q[0]
                if isinstance(ev, tuple):
                    if self._by_host:  # closing: what still arrives is not kept
                        q.popleft()
                        continue
                    if self._unread_events >= MAX_UNREAD_EVENTS:
                        break
                    piece, frame_done, msg_done = ev
                    room = self.capacity - len(self.buf)
                    if piece and room <= 0:
                        break
                    if len(piece) > room:
                        q[0] = (piece[room:], frame_done, msg_done)
                        self._deliver(piece[:room], False, False)
                        break
                    q.popleft()
                    self._deliver(piece, frame_done, msg_done)
                else:
                    q.popleft()
                    self._event(ev)
            if q or not self._wire or self._dead:
                break
            self._feed()
        if not q and not self._wire and self._lost_exc is not None:
            exc, self._lost_exc = self._lost_exc, None
            self._peer_gone(self.close_code, self.close_reason or exc)
        self._update_reading()

    def _event(self, ev: Any) -> None:
        from wsproto.events import (
            AcceptConnection,
            CloseConnection,
            Ping,
            RejectConnection,
            RejectData,
        )

        if isinstance(ev, Ping):
            assert self._ws is not None
            self._send_raw(self._ws.send(ev.response()))
            self.events.note(f"websocket {self.id}: ping ({len(ev.payload)} bytes), pong sent")
        elif isinstance(ev, CloseConnection):
            self._close_received(ev.code, ev.reason or "")
        elif isinstance(ev, AcceptConnection):
            self.connected = True
            self.subprotocol = ev.subprotocol
            self.extensions = [e.name for e in ev.extensions]
            self._deflate = any(e.name == "permessage-deflate" for e in ev.extensions)
            if self._upgraded is not None and not self._upgraded.done():
                self._upgraded.set_result(None)
        elif isinstance(ev, RejectConnection):
            self._reject_status = ev.status_code
            self._fail_upgrade()
            self._abort()
        elif isinstance(ev, RejectData):
            pass  # the body of a refusal: not kept

    def _fail_upgrade(self) -> None:
        if self._upgraded is not None and not self._upgraded.done():  # not cancelled either
            self._upgraded.set_exception(self.handshake_failure())

    def _close_received(self, code: int, reason: str) -> None:
        from wsproto.connection import ConnectionState
        from wsproto.events import CloseConnection

        ws = self._ws
        assert ws is not None
        if ws.state is ConnectionState.REMOTE_CLOSING:
            # The server closes: answer with its code, then it drops TCP.
            self._send_raw(ws.send(_close_reply(code, reason)))
            self.events.note(f"websocket {self.id}: server closed ({code} {reason})")
            self._peer_gone(code, reason)
        elif ws.state is ConnectionState.OPEN:
            # The server broke the protocol (wsproto reports it as a close): close with
            # that code and drop the connection.
            self._send_raw(ws.send(CloseConnection(code=code, reason=reason[:120])))
            self.events.note(f"websocket {self.id}: protocol error from server: {reason}")
            self._peer_gone(None, reason)
            self._close_transport()
        else:  # the answer to our own Close
            self._close_transport()

    def _close_transport(self) -> None:
        t = self._transport
        if t is not None and not t.is_closing():
            t.close()

    def _abort(self) -> None:
        self._dead = True
        self._wire.clear()
        t = self._transport
        if t is not None:
            t.abort()  # type: ignore[attr-defined]

    # -- data from the server ------------------------------------------------------------
    def _deliver(self, data: bytes, frame_done: bool, msg_done: bool) -> None:
        n = len(data)
        if not n and not frame_done:
            return
        self.buf += data
        self.received += n
        self._since += n
        self._readable.set()
        self._report(msg_done and frame_done, frame_done)

    def _report(self, last_frame: bool, last_frag: bool, force: bool = False) -> None:
        self._pending_flags = (last_frame, last_frag)
        if not self.live or (len(self.buf) < self.threshold and not force):
            return
        self._unread_events += 1
        since, self._since = self._since, 0
        self._pending_flags = None
        # What the owner has read meanwhile is not "received": never more than unread.
        self.events.data(self.id, last_frame, last_frag, min(since, len(self.buf)), len(self.buf))

    def _update_reading(self) -> None:
        t = self._transport
        if t is None or t.is_closing():
            return
        stop = (
            bool(self._queue)
            or bool(self._wire)
            or len(self.buf) >= self.capacity
            or self._unread_events >= MAX_UNREAD_EVENTS
            or self._write_paused
        )
        if stop and not self._paused:
            self._paused = True
            t.pause_reading()  # type: ignore[attr-defined]
        elif not stop and self._paused:
            self._paused = False
            t.resume_reading()  # type: ignore[attr-defined]

    # -- the owner reads -----------------------------------------------------------------
    def read(self, n: int = 0) -> tuple[bytes, int]:
        """Take up to ``n`` bytes (0: all); returns (data, unread before the read)."""
        data, avail = take_front(self.buf, n)
        n = len(data)
        self._unread_events = 0
        if self.buf and n < avail and self.live:
            # A partial read left bytes: remind the owner (received 0, no frame flags), as
            # the module's sockets do after a partial read.
            self._unread_events += 1
            self.events.data(self.id, False, False, 0, len(self.buf))
        if not self.buf and not self.gone:
            self._readable.clear()
        # What waits comes in on the next turn of the loop, as it would from the network:
        # commands that arrived together with this read (WSOCKR then WSOCKC) see the
        # buffer as this read left it.
        if not self._pump_soon:
            self._pump_soon = True
            asyncio.get_running_loop().call_soon(self._deferred_pump)
        return data, avail

    def _deferred_pump(self) -> None:
        self._pump_soon = False
        self._pump()

    async def recv(self, n: int = 0) -> bytes:
        """Wait for data and take up to ``n`` bytes (0: all); b"" once the server has gone
        and everything has been read. The byte-stream view MQTT uses."""
        while not self.buf and not self.gone and not self._by_host:
            self._readable.clear()
            await self._readable.wait()
        return self.read(n)[0]

    async def wait_closed(self) -> None:
        """Until the TCP connection has ended (whoever ended it)."""
        await self._closed.wait()

    # -- the owner writes ----------------------------------------------------------------
    async def send(self, data: bytes, *, binary: bool = False, fin: bool = True) -> None:
        """Send one data frame. A frame without ``fin`` starts (or continues) a fragmented
        message; while one is open, frames are continuation frames of the message's type
        (``binary`` is taken from its first frame) until one has ``fin``."""
        from wsproto.connection import ConnectionState
        from wsproto.events import BytesMessage, TextMessage

        ws = self._ws
        t = self._transport
        if (
            not self.connected
            or ws is None
            or t is None
            or t.is_closing()
            or ws.state is not ConnectionState.OPEN  # the server's Close is in, not yet told
        ):
            raise ServiceError(WsFault.NOT_CONNECTED, f"websocket {self.id}: server has gone")
        if not self._out_open:
            self._out_binary = binary
            self._out_text = None if binary else codecs.getincrementaldecoder("utf-8")()
        try:
            if self._out_binary:
                frame = ws.send(BytesMessage(data=bytes(data), message_finished=fin))
            else:
                assert self._out_text is not None
                try:
                    text = self._out_text.decode(bytes(data), final=fin)
                except UnicodeDecodeError as e:
                    raise ServiceError(WsFault.BAD_TEXT, f"text frame: {e}") from None
                frame = ws.send(TextMessage(data=text, message_finished=fin))
        except ServiceError:
            raise
        except Exception as e:  # wsproto refuses in this state
            raise ServiceError(WsFault.WRITE_FAILED, str(e)) from None
        self._out_open = not fin
        self.sent += len(data)
        try:
            t.write(frame)  # type: ignore[attr-defined]
        except (OSError, RuntimeError) as e:
            raise ServiceError(WsFault.WRITE_FAILED, str(e)) from None
        if not self._writable.is_set():
            try:
                await asyncio.wait_for(self._writable.wait(), WRITE_TIMEOUT)
            except TimeoutError:
                raise ServiceError(
                    WsFault.WRITE_FAILED, "server does not read: send buffer still full"
                ) from None

    async def ping(self, payload: bytes = b"") -> None:
        from wsproto.events import Ping

        if not self.connected or self._ws is None:
            raise ServiceError(WsFault.NOT_CONNECTED, f"websocket {self.id}: server has gone")
        self._send_raw(self._ws.send(Ping(payload=payload[:125])))

    # -- closing -------------------------------------------------------------------------
    async def close(
        self, code: int = 1000, reason: str = "", timeout: float = CLOSE_TIMEOUT
    ) -> None:
        """Send a Close frame with ``code``, wait (at most ``timeout``) for the server's,
        then drop TCP. No ``closed`` report follows. Unread data is the caller's concern."""
        from wsproto.connection import ConnectionState
        from wsproto.events import CloseConnection

        self._by_host = True
        ws = self._ws
        if self.connected and ws is not None and ws.state is ConnectionState.OPEN:
            self.connected = False
            self._send_raw(ws.send(CloseConnection(code=code, reason=reason)))
            # Keep reading: the server's Close frame must get through even if the buffer
            # is full (data still arriving is dropped: the host is closing).
            self.buf.clear()
            self._unread_events = 0
            self._write_paused = False
            self._pump()
            try:
                await asyncio.wait_for(self._closed.wait(), timeout)
            except TimeoutError:
                self.events.note(f"websocket {self.id}: no Close from the server in {timeout}s")
        self.connected = False
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once (reset, power-off, a failed open): no report."""
        self._by_host = True
        self.connected = False
        t = self._transport
        if t is not None and not t.is_closing():
            t.close()
        self._readable.set()

    def _peer_gone(self, code: int | None, reason: str) -> None:
        was = self.connected
        self.connected = False
        self._writable.set()
        self._readable.set()
        if self.gone or self._by_host:
            return
        self.gone = True
        self.close_code, self.close_reason = code, reason
        if was and self.live:
            self.events.closed(self.id, code, reason)

    def _lost(self, exc: BaseException | None) -> None:
        self._closed.set()
        self._writable.set()
        if self._upgraded is not None and not self._upgraded.done():
            if self._reject_status is None and not self._handshake_error:
                self._upgraded.set_exception(
                    ServiceError(WsFault.TCP, f"connection lost during the upgrade: {exc}")
                )
            else:
                self._fail_upgrade()
        reason = str(exc) if exc else "connection closed"
        if self._queue or self._wire:  # what came before the end is delivered first
            self._lost_exc = reason
        else:
            self._peer_gone(self.close_code, self.close_reason or reason)


def _close_reply(code: int, reason: str) -> Any:
    """The Close frame that answers the server's: its code (none if it sent none)."""
    from wsproto.events import CloseConnection
    from wsproto.frame_protocol import CloseReason

    if code == CloseReason.NO_STATUS_RCVD:
        return CloseConnection(code=CloseReason.NO_STATUS_RCVD)
    return CloseConnection(code=code, reason=reason)


class _Protocol(asyncio.BufferedProtocol):
    def __init__(self, client: WsClient) -> None:
        self.client = client
        self._buf = bytearray(MAX_CHUNK)
        self._view = memoryview(self._buf)

    def connection_made(self, transport: BaseTransport) -> None:  # type: ignore[override]
        self.client._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view[: self.client._chunk()]

    def buffer_updated(self, nbytes: int) -> None:
        self.client._received(bytes(self._view[:nbytes]))

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._lost(exc)

    def pause_writing(self) -> None:
        self.client._writable.clear()
        self.client._write_paused = True
        self.client._update_reading()

    def resume_writing(self) -> None:
        self.client._writable.set()
        self.client._write_paused = False
        self.client._update_reading()
