"""A socket server of the module: a listening TCP/TLS socket or a bound UDP socket on the host,
with up to ``MAX_CLIENTS`` clients, each a Conn with its own buffer.

TCP/TLS: each accepted connection takes the lowest free client id (WIND:61); with all ids
taken the connection is dropped (WIND:83:1). TLS ``s2`` also checks the client's certificate
against the module's clock after the handshake and drops the client if it fails.

UDP: each new peer address becomes a client (WIND:61), so the host can answer it with SOCKDW;
a ninth peer is refused (Refusal.TOO_MANY_UDP). Every datagram is
buffered for SOCKDR (WIND:55). A broadcast (to 127.255.255.255 when the server listens in
127.0.0.0/8: a second socket bound to that address receives only broadcasts) is shown inline
by WIND:80 and is not buffered.

A client that goes away with unread data keeps its id until the host has read everything
(or closes it with SOCKDC); one with nothing unread frees its id at once.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING

from atwifi.services.errors import ServiceError
from atwifi.services.sockets.conn import Conn, Events, StreamProtocol
from atwifi.services.sockets.errors import Refusal, SockFault

if TYPE_CHECKING:
    from atwifi.runtime.heap import Heap
    from atwifi.services.tls import TlsService

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
MAX_CLIENTS = 8


class Server:
    def __init__(
        self,
        sid: int,
        port: int,
        kind: str,
        events: Events,
        capacity: Callable[[], int],
        threshold: Callable[[], int],
        tls: TlsService | None,
    ) -> None:
        self.sid = sid
        self.port = port  # the module's port (what SOCKDL and WINDs show)
        self.host_port = port  # where it really listens on the host
        self.kind = kind
        self.events = events
        self._capacity = capacity
        self._threshold = threshold
        self._tls = tls
        self.clients: dict[int, Conn] = {}
        self._by_addr: dict[tuple[str, int], Conn] = {}
        self._server: asyncio.base_events.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_broadcast: asyncio.DatagramTransport | None = None
        self.closed = False
        self.heap: Heap | None = None  # the module's heap: each client's buffer charged

    # -- opening -------------------------------------------------------------------------
    async def start(self, host: str, host_port: int, ssl_ctx: object | None) -> None:
        loop = asyncio.get_running_loop()
        if self.kind == "u":
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpServerProtocol(self), local_addr=(host, host_port)
            )
            self._udp = transport  # type: ignore[assignment]
            self.host_port = transport.get_extra_info("sockname")[1]
            await self._listen_for_broadcasts(host)
        else:
            self._server = await loop.create_server(
                lambda: _ServerStreamProtocol(self),
                host,
                host_port,
                ssl=ssl_ctx,  # type: ignore[arg-type]
                reuse_address=True,
                ssl_handshake_timeout=10.0 if ssl_ctx is not None else None,
            )
            self.host_port = self._server.sockets[0].getsockname()[1]
        if self.port == 0:
            self.port = self.host_port

    def _free_cid(self) -> int | None:
        for cid in range(MAX_CLIENTS):
            if cid not in self.clients:
                return cid
        return None

    def _new_conn(self, cid: int) -> Conn:
        conn = Conn(self.events, self.sid, cid, self.kind, self._capacity(), self._threshold)
        conn.on_gone = self._gone
        return conn

    # -- TCP/TLS clients -----------------------------------------------------------------
    def accept(self, proto: _ServerStreamProtocol, transport: asyncio.BaseTransport) -> None:
        if self.kind == "s2" and self._tls is not None:
            ssl_object = transport.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
            from atwifi.services.tls import CertError

            try:
                self._tls.verify_client(der)
            except CertError as e:
                self.events.note(f"server {self.sid}: client refused, {e}")
                transport.abort()  # type: ignore[attr-defined]
                return
        cid = self._free_cid()
        if cid is None or self.closed:
            self.events.refused(Refusal.NO_MEMORY)
            transport.abort()  # type: ignore[attr-defined]
            return
        conn = self._new_conn(cid)
        if not conn.reserve_heap(self.heap, self.kind != "t"):
            self.events.refused(Refusal.NO_MEMORY)
            transport.abort()  # type: ignore[attr-defined]
            return
        proto.conn = conn
        self.clients[cid] = conn
        conn.attach(transport)
        conn.live = True
        self.events.incoming(conn.ip, conn.port, self.sid, cid)

    def _gone(self, conn: Conn) -> None:
        if not conn.buf:
            self._forget(conn)

    def _forget(self, conn: Conn) -> None:
        conn.release_heap()
        if self.clients.get(conn.cid) is conn:
            del self.clients[conn.cid]
        if conn.udp_addr is not None:
            self._by_addr.pop(conn.udp_addr, None)

    # -- UDP -----------------------------------------------------------------------------
    async def _listen_for_broadcasts(self, host: str) -> None:
        # Only a socket bound to the broadcast address itself tells a broadcast from a
        # unicast (asyncio hands over no IP_PKTINFO). Loopback's is 127.255.255.255.
        try:
            if ipaddress.ip_address(host) not in LOOPBACK:
                return
        except ValueError:
            return
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpBroadcastProtocol(self),
                local_addr=(str(LOOPBACK.broadcast_address), self.host_port),
            )
        except OSError as e:
            self.events.note(f"server {self.sid}: no broadcast listener: {e}")
            return
        self._udp_broadcast = transport  # type: ignore[assignment]

    def broadcast(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.closed:
            self.events.broadcast(self.sid, addr[0], addr[1], data)

    def datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        addr = (addr[0], addr[1])
        conn = self._by_addr.get(addr)
        if conn is None:
            cid = self._free_cid()
            if cid is None or self.closed:
                self.events.refused(Refusal.TOO_MANY_UDP)
                return
            conn = self._new_conn(cid)
            if not conn.reserve_heap(self.heap, False):
                self.events.refused(Refusal.NO_MEMORY)
                return
            conn.udp_addr = addr
            conn.ip, conn.port = addr
            conn.transport = self._udp
            conn.connected = True
            conn.live = True
            self.clients[cid] = conn
            self._by_addr[addr] = conn
            self.events.incoming(addr[0], addr[1], self.sid, cid)
        conn.deliver_datagram(data)

    # -- the host's commands -------------------------------------------------------------
    def client(self, cid: int) -> Conn:
        conn = self.clients.get(cid)
        if conn is None:
            raise ServiceError(
                SockFault.BAD_ID if not 0 <= cid < MAX_CLIENTS else SockFault.NOT_CONNECTED,
                f"no client {cid}",
            )
        return conn

    def read(self, cid: int, n: int) -> tuple[bytes, int]:
        conn = self.client(cid)
        out = conn.read(n)
        if not conn.connected and not conn.buf:
            self._forget(conn)  # gone and drained: the id is free again
        return out

    def close_client(self, cid: int) -> None:
        conn = self.client(cid)
        if conn.buf:
            raise ServiceError(
                SockFault.PENDING_DATA, f"client {cid} has {len(conn.buf)} bytes unread"
            )
        conn.close()
        self._forget(conn)

    def close(self, force: bool = False) -> None:
        if not force:
            busy = [c.cid for c in self.clients.values() if c.buf]
            if busy:
                raise ServiceError(SockFault.PENDING_DATA, f"clients {busy} have unread data")
        self.closed = True
        for conn in list(self.clients.values()):
            conn.close(abort=force)
        self.clients.clear()
        self._by_addr.clear()
        if self._server is not None:
            self._server.close()
        if self._udp is not None:
            self._udp.close()
        if self._udp_broadcast is not None:
            self._udp_broadcast.close()


class _ServerStreamProtocol(StreamProtocol):
    def __init__(self, server: Server) -> None:
        super().__init__(None)
        self.server = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        self.server.accept(self, transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.conn is None:  # refused: swallow what arrives before the abort lands
            from atwifi.services.sockets.conn import _SCRATCH_VIEW

            return _SCRATCH_VIEW
        return super().get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        if self.conn is not None:
            super().buffer_updated(nbytes)


class _UdpBroadcastProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: Server) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server.broadcast(data, addr)


class _UdpServerProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: Server) -> None:
        self.server = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        self.server._udp = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server.datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        self.server.events.note(f"server {self.server.sid}: UDP error {exc}")
