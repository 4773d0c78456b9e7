"""Client library: the module's WebSocket clients as objects, reads driven by WIND:88.

    ws = await client.ws_open("echo.test", 80, "/echo", protocols="chat")
    await ws.send(b"hello")                 # one text message (WSOCKW=<id>,0,0,0,<len>)
    await ws.send(b"\\x00\\x01", binary=True)
    msg = await ws.recv_message()           # one whole message, by WIND:88's lastframe
    data = await ws.recv()                  # whatever has arrived (a byte stream)
    await ws.close(status=0)                # reads what is left, then WSOCKC

Message boundaries: WIND:88's ``rcv`` fields add up to the bytes the module has received, so
one with lastframe=1 marks where a message ends in the stream; the object keeps those
offsets, so ``recv_message`` returns messages whole even though WSOCKR reads a byte stream.
Sends larger than ``CHUNK`` go out as a fragmented message (continuation frames).

The mixin uses only ``self.command`` and ``self.on_wind``; it does not import the client core.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

CHUNK = 730  # bytes per WSOCKW: the firmware's TCP MSS (wire-notes), as for SOCKW
CLOSED_SOCKET = 72
PENDING = 77


class ModuleWebSocket:
    def __init__(self, client: Any, cid: int, host: str, port: int | None, path: str) -> None:
        self.client = client
        self.id = cid
        self.host, self.port, self.path = host, port, path
        self.server_closed = False  # WIND:89 came
        self.unread_hint = 0  # the module's unread count, as last announced
        self._read_total = 0  # bytes taken from the module so far
        self._announced = 0  # bytes the module has reported receiving (sum of WIND:88 rcv)
        self._ends: deque[int] = deque()  # stream offsets where messages end
        self._pending = bytearray()  # read, not yet returned by recv_message
        self._event = asyncio.Event()
        self._gone = False

    def __repr__(self) -> str:
        return f"<ModuleWebSocket {self.id} {self.host}:{self.port}{self.path}>"

    def _poke(self) -> None:
        self._event.set()

    # -- writing ---------------------------------------------------------------------------
    async def send_frame(
        self, data: bytes, last_frame: bool = False, last_frag: bool = False, binary: bool = False
    ) -> None:
        """One WSOCKW with the module's flags (docs/behaviour.md, "WebSocket clients")."""
        await self.client.command(
            f"AT+S.WSOCKW={self.id},{int(last_frame)},{int(last_frag)},{int(binary)},{len(data)}",
            bytes(data),
        )

    async def send(self, data: bytes | str, binary: bool = False) -> None:
        """One message: a single frame, or fragments of ``CHUNK`` bytes when larger."""
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if len(raw) <= CHUNK:
            await self.send_frame(raw, binary=binary)  # 0,0: a whole message
            return
        pieces = [raw[i : i + CHUNK] for i in range(0, len(raw), CHUNK)]
        if not binary:  # keep UTF-8 sequences whole in each fragment
            pieces = _utf8_pieces(raw)
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            await self.send_frame(piece, last_frame=last, last_frag=not last, binary=binary)

    # -- reading ---------------------------------------------------------------------------
    async def query(self) -> int:
        reply = await self.client.command(f"AT+S.WSOCKQ={self.id}")
        self.unread_hint = int(reply.value("AT-S.Query:"))
        return self.unread_hint

    async def read(self, n: int = 0) -> bytes:
        """One WSOCKR: up to ``n`` bytes (0: all unread); b"" when nothing is there or the
        server has gone and everything was read."""
        reply = await self.client.command(f"AT+S.WSOCKR={self.id},{n or 0}", check=False)
        if not reply.ok:
            if reply.error_number == CLOSED_SOCKET:
                self.unread_hint = 0
                self.server_closed = True
                return b""
            from atwifi.client.errors import error_for

            raise error_for(reply)
        got, before = (int(x) for x in reply.value("AT-S.Reading:").split(":")[:2])
        self.unread_hint = max(0, before - got)
        self._read_total += got
        return reply.raw

    async def recv(self, n: int = 0, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        """Wait for data (WIND:88) and read it; b"" once the server has closed and
        everything has been read."""
        if self._pending:
            out = bytes(self._pending if not n else self._pending[:n])
            del self._pending[: len(out)]
            return out
        async with asyncio.timeout(timeout):
            while True:
                self._event.clear()
                data = await self.read(n)
                if data:
                    return data
                if self.server_closed or self._gone:
                    return b""
                await self._event.wait()

    async def recv_message(self, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        """One whole message (its frames joined), by the lastframe flags of WIND:88.
        Raises EOFError when the server closes before a message is complete."""
        async with asyncio.timeout(timeout):
            while True:
                consumed = self._read_total - len(self._pending)
                if self._ends and self._ends[0] - consumed <= len(self._pending):
                    n = self._ends.popleft() - consumed
                    out = bytes(self._pending[:n])
                    del self._pending[:n]
                    return out
                self._event.clear()
                data = await self.read()
                if data:
                    self._pending += data
                    continue
                if self.server_closed or self._gone:
                    raise EOFError(f"server closed with {len(self._pending)} bytes of a message")
                await self._event.wait()

    def _wind88(self, last_frame: bool, received: int, cumulated: int) -> None:
        self.unread_hint = cumulated
        self._announced += received
        if last_frame:  # a message ends here in the stream
            self._ends.append(self._announced)
        self._poke()

    # -- closing ---------------------------------------------------------------------------
    async def close(self, status: int = 0, tries: int = 256) -> None:
        """WSOCKC; reads what is left first (the module refuses with 77 otherwise). A server
        that keeps sending refills the buffer between commands: after ``tries`` reads the
        77 is raised."""
        from atwifi.client.errors import error_for

        for _ in range(tries):
            while await self.read():
                pass
            reply = await self.client.command(f"AT+S.WSOCKC={self.id},{status}", check=False)
            if reply.ok:
                break
            if reply.error_number != PENDING:
                raise error_for(reply)
        else:
            raise error_for(reply)
        self._gone = True
        self.client._ws_watch().forget(self)

    async def wait_closed(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Until the server has closed (WIND:89)."""
        async with asyncio.timeout(timeout):
            while not self.server_closed:
                self._event.clear()
                await self._event.wait()


def _utf8_pieces(raw: bytes) -> list[bytes]:
    out = []
    i = 0
    while i < len(raw):
        j = min(len(raw), i + CHUNK)
        while j < len(raw) and j > i + 1 and (raw[j] & 0xC0) == 0x80:
            j -= 1  # do not cut inside a character
        out.append(raw[i:j])
        i = j
    return out


class _Watch:
    """Routes WIND:88 and WIND:89 to the WebSocket objects."""

    def __init__(self, client: Any) -> None:
        self.sockets: dict[int, ModuleWebSocket] = {}
        client.on_wind(self._on_wind)

    def forget(self, ws: ModuleWebSocket) -> None:
        if self.sockets.get(ws.id) is ws:
            del self.sockets[ws.id]

    def _on_wind(self, w: Any) -> None:
        f = w.fields
        try:
            if w.number == 88 and len(f) >= 5:
                s = self.sockets.get(int(f[0]))
                if s is not None:
                    s._wind88(f[1].strip() == "1", int(f[3]), int(f[4]))
            elif w.number == 89 and len(f) >= 1:
                s = self.sockets.get(int(f[0]))
                if s is not None:
                    s.server_closed = True
                    s._poke()
        except ValueError:
            pass  # a malformed WIND is not ours to fix


def _field(value: object | None) -> str:
    return "" if value is None else str(value)


class WebSocketMixin:
    """WebSocket helpers for AsyncClient (and, through it, Client)."""

    def _ws_watch(self) -> _Watch:
        w = getattr(self, "_wsock_watch", None)
        if w is None:
            w = self._wsock_watch = _Watch(self)
        return w

    async def ws_open(
        self,
        host: str,
        port: int | None = None,
        path: str = "/",
        tls: int = 0,
        username: str | None = None,
        password: str | None = None,
        origin: str | None = None,
        protocols: str | None = None,
        extensions: str | None = None,
    ) -> ModuleWebSocket:
        """WSOCKON. Raises WebSocketClientError (Table 11) or CertificateError."""
        watch = self._ws_watch()
        fields = [host, port, path, tls, username, password, origin, protocols, extensions]
        reply = await self.command("AT+S.WSOCKON=" + ",".join(_field(f) for f in fields))  # type: ignore[attr-defined]
        ws = ModuleWebSocket(self, int(reply.value("AT-S.On:")), host, port, path)
        watch.sockets[ws.id] = ws
        return ws

    async def ws_list(self) -> list[str]:
        """WSOCKL: ``<id>:<connected>:<unread>:<local port>`` per client."""
        reply = await self.command("AT+S.WSOCKL")  # type: ignore[attr-defined]
        return reply.values("AT-S.List:")
