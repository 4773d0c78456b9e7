"""Client library: the module's sockets as objects, reads driven by WIND:55.

    sock = await client.socket_open("example.test", 443, "s")
    await sock.write(b"GET / HTTP/1.0\\r\\n\\r\\n")
    data = await sock.recv()          # waits for +WIND:55, then reads with SOCKR
    await sock.close()

    srv = await client.socket_listen(7000, "t")
    peer = await srv.accept()         # waits for +WIND:61
    await peer.write(await peer.recv())

The mixin uses only ``self.command``, ``self.on_wind``; it does not import the client core.
Writes go out in chunks of at most 730 bytes (the firmware's TCP MSS, wire-notes).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

CHUNK = 730
CLOSED_SOCKET = 72  # SOCKR on a socket the peer closed, with nothing left to read
NOT_CONNECTED = 78


class ModuleSocket:
    """A client socket of the module (``sid`` None) or a client of one of its servers."""

    def __init__(
        self, client: Any, cid: int, kind: str, ip: str, port: int, sid: int | None = None
    ) -> None:
        self.client = client
        self.id = cid
        self.sid = sid
        self.kind = kind
        self.ip = ip  # the server (client socket) or the peer (server side)
        self.port = port
        self.closed_reason: int | None = None  # WIND:58 / WIND:62 reason once the peer left
        self.dropped = 0  # bytes the module dropped (WIND:63, UDP)
        self.unread_hint = 0  # the module's unread count, as last announced
        self._event = asyncio.Event()
        self._gone = False  # closed by us

    def __repr__(self) -> str:
        where = f"{self.sid}:{self.id}" if self.sid is not None else str(self.id)
        return f"<ModuleSocket {where} {self.kind} {self.ip}:{self.port}>"

    @property
    def peer_closed(self) -> bool:
        return self.closed_reason is not None

    def _ids(self) -> str:
        return f"{self.id}" if self.sid is None else f"{self.sid},{self.id}"

    def _poke(self) -> None:
        self._event.set()

    async def write(self, data: bytes) -> None:
        verb = "SOCKW" if self.sid is None else "SOCKDW"
        view = memoryview(data)
        for i in range(0, len(view), CHUNK):
            piece = bytes(view[i : i + CHUNK])
            await self.client.command(f"AT+S.{verb}={self._ids()},{len(piece)}", piece)

    async def query(self) -> int:
        verb = "SOCKQ" if self.sid is None else "SOCKDQ"
        reply = await self.client.command(f"AT+S.{verb}={self._ids()}")
        self.unread_hint = int(reply.value("AT-S.Query:"))
        return self.unread_hint

    async def read(self, n: int = 0) -> bytes:
        """One SOCKR/SOCKDR: up to ``n`` bytes (0: all unread), b"" when nothing is there."""
        verb = "SOCKR" if self.sid is None else "SOCKDR"
        reply = await self.client.command(f"AT+S.{verb}={self._ids()},{n or ''}", check=False)
        if not reply.ok:
            # 72: a client socket the peer closed, drained. 78: a server's client that left
            # and was drained has freed its id already. Both mean end of stream.
            if reply.error_number == CLOSED_SOCKET or (
                self.sid is not None and reply.error_number == NOT_CONNECTED
            ):
                self.unread_hint = 0
                if self.closed_reason is None and reply.error_number == NOT_CONNECTED:
                    self.closed_reason = 0
                return b""
            from atwifi.client.errors import error_for

            raise error_for(reply)
        got, before = (int(x) for x in reply.value("AT-S.Reading:").split(":")[:2])
        self.unread_hint = max(0, before - got)
        return reply.raw

    async def recv(self, n: int = 0, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        """Wait for data (WIND:55) and read it; b"" once the peer has closed and everything
        has been read."""
        async with asyncio.timeout(timeout):
            while True:
                self._event.clear()
                data = await self.read(n)
                if data:
                    return data
                if self.peer_closed or self._gone:
                    return b""
                await self._event.wait()

    async def recv_exactly(self, n: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        out = bytearray()
        async with asyncio.timeout(timeout):
            while len(out) < n:
                data = await self.recv(n - len(out))
                if not data:
                    raise EOFError(f"peer closed after {len(out)} of {n} bytes")
                out += data
        return bytes(out)

    async def close(self) -> None:
        """SOCKC/SOCKDC; reads what is left first (the module refuses with 77 otherwise)."""
        while await self.read():
            pass
        if self.sid is None:
            await self.client.command(f"AT+S.SOCKC={self.id}")
        else:
            reply = await self.client.command(f"AT+S.SOCKDC={self.sid},{self.id}", check=False)
            # A client that left and was drained has already freed its id (78/76): fine.
            if not reply.ok and reply.error_number not in (76, 78):
                from atwifi.client.errors import error_for

                raise error_for(reply)
        self._gone = True
        self.client._sockets_watch().forget(self)


class ModuleServer:
    def __init__(self, client: Any, sid: int, port: int, kind: str) -> None:
        self.client = client
        self.id = sid
        self.port = port
        self.kind = kind
        self._incoming: asyncio.Queue[ModuleSocket] = asyncio.Queue()
        self.clients: dict[int, ModuleSocket] = {}
        self.refused = 0  # WIND:83 seen while this server was open

    def __repr__(self) -> str:
        return f"<ModuleServer {self.id} {self.kind} port {self.port}>"

    async def accept(self, timeout: float | None = None) -> ModuleSocket:  # noqa: ASYNC109
        """The next client (WIND:61)."""
        async with asyncio.timeout(timeout):
            return await self._incoming.get()

    async def close(self) -> None:
        for peer in list(self.clients.values()):
            with contextlib.suppress(Exception):
                while await peer.read():
                    pass
        await self.client.command(f"AT+S.SOCKDC={self.id}")
        self.client._sockets_watch().servers.pop(self.id, None)


class _Watch:
    """Routes socket WINDs (55, 58, 61, 62, 63, 83) to the socket objects."""

    def __init__(self, client: Any) -> None:
        self.sockets: dict[int, ModuleSocket] = {}
        self.servers: dict[int, ModuleServer] = {}
        client.on_wind(self._on_wind)

    def forget(self, sock: ModuleSocket) -> None:
        if sock.sid is None:
            if self.sockets.get(sock.id) is sock:
                del self.sockets[sock.id]
        else:
            srv = self.servers.get(sock.sid)
            if srv is not None and srv.clients.get(sock.id) is sock:
                del srv.clients[sock.id]

    def _target(self, sid: str, cid: str) -> ModuleSocket | None:
        try:
            c = int(cid)
            if sid == "":
                return self.sockets.get(c)
            srv = self.servers.get(int(sid))
        except ValueError:
            return None
        return srv.clients.get(c) if srv is not None else None

    def _on_wind(self, w: Any) -> None:
        f = w.fields
        try:
            if w.number == 55 and len(f) >= 4:
                s = self._target(f[0], f[1])
                if s is not None:
                    s.unread_hint = int(f[3])
                    s._poke()
            elif w.number == 58 and len(f) >= 2:
                s = self.sockets.get(int(f[0]))
                if s is not None:
                    s.closed_reason = int(f[1])
                    s._poke()
            elif w.number == 61 and len(f) >= 4:
                srv = self.servers.get(int(f[2]))
                if srv is not None:
                    peer = ModuleSocket(
                        srv.client, int(f[3]), srv.kind, f[0], int(f[1]), sid=srv.id
                    )
                    srv.clients[peer.id] = peer
                    srv._incoming.put_nowait(peer)
            elif w.number == 62 and len(f) >= 5:
                s = self._target(f[2], f[3])
                if s is not None:
                    s.closed_reason = int(f[4])
                    s._poke()
            elif w.number == 63 and len(f) >= 3:
                s = self._target(f[0], f[1])
                if s is not None:
                    s.dropped += int(f[2])
            elif w.number == 83:
                for srv in self.servers.values():
                    srv.refused += 1
        except ValueError:
            pass  # a malformed WIND is not ours to fix


def _bytes(data: bytes | str | Path) -> bytes:
    if isinstance(data, Path):
        return data.read_bytes()
    if isinstance(data, str):
        return data.encode("latin-1")
    return bytes(data)


class SocketsMixin:
    """Socket and certificate helpers for AsyncClient (and, through it, Client)."""

    def _sockets_watch(self) -> _Watch:
        w = getattr(self, "_sock_watch", None)
        if w is None:
            w = self._sock_watch = _Watch(self)
        return w

    async def socket_open(self, host: str, port: int, kind: str = "t") -> ModuleSocket:
        """SOCKON: kind ``t``, ``u``, ``s`` (TLS, host checked as the name), or the TLS
        server name to check instead. Raises CertificateError when TLS checks fail."""
        watch = self._sockets_watch()
        reply = await self.command(f"AT+S.SOCKON={host},{port},,{kind}")  # type: ignore[attr-defined]
        ip, _, cid = reply.value("AT-S.On:").rpartition(":")
        k = kind if kind in ("t", "u") else "s"
        sock = ModuleSocket(self, int(cid), k, ip, port)
        watch.sockets[sock.id] = sock
        return sock

    async def socket_listen(self, port: int, kind: str = "t") -> ModuleServer:
        """SOCKDON: kind ``t``, ``u``, ``s1`` (TLS) or ``s2`` (mutual TLS)."""
        watch = self._sockets_watch()
        reply = await self.command(f"AT+S.SOCKDON={port},{kind}")  # type: ignore[attr-defined]
        srv = ModuleServer(self, int(reply.value("AT-S.On:")), port, kind)
        watch.servers[srv.id] = srv
        return srv

    async def socket_list(self) -> list[str]:
        reply = await self.command("AT+S.SOCKL")  # type: ignore[attr-defined]
        return reply.values("AT-S.List:")

    async def tls_load(self, kind: str, data: bytes | str | Path) -> None:
        """TLSCERT: kind ``Ca``, ``Cert``, ``Key`` or ``Auth``; PEM or DER, bytes or a file."""
        raw = _bytes(data)
        await self.command(f"AT+S.TLSCERT={kind},{len(raw)}", raw)  # type: ignore[attr-defined]

    async def tls_load_all(
        self,
        ca: bytes | str | Path | None = None,
        cert: bytes | str | Path | None = None,
        key: bytes | str | Path | None = None,
        clear: bool = True,
    ) -> None:
        """Replace the store's contents (the module refuses to load over an existing item)."""
        if clear:
            await self.tls_clear()
        for kind, data in (("Ca", ca), ("Cert", cert), ("Key", key)):
            if data is not None:
                await self.tls_load(kind, data)

    async def tls_list(self) -> list[str]:
        reply = await self.command("AT+S.TLSCERT=content,1")  # type: ignore[attr-defined]
        return reply.values("AT-S.List:")

    async def tls_clear(self) -> None:
        await self.command("AT+S.TLSCERT=content,2")  # type: ignore[attr-defined]

    async def wpae_load(self, kind: str, data: bytes | str | Path) -> None:
        """WPAECERT: the radio's enterprise certificates (``Ca``, ``Cert``, ``Key``)."""
        raw = _bytes(data)
        await self.command(f"AT+S.WPAECERT={kind},{len(raw)}", raw)  # type: ignore[attr-defined]
