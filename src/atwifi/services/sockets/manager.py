"""The module's socket table: up to 8 client sockets (ids 0-7) and 2 servers.

Failures are ``ServiceError(SockFault.<kind>)`` (services/sockets/errors.py); certificate
failures of TLS sockets are the TLS service's ``CertError``, raised as they come.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from atwifi.services.errors import ServiceError
from atwifi.services.net.dial import Blocked, Dialer
from atwifi.services.sockets.conn import Conn, DatagramProtocol, Events, StreamProtocol
from atwifi.services.sockets.errors import SockFault
from atwifi.services.sockets.server import Server

if TYPE_CHECKING:
    from atwifi.runtime.heap import Heap
    from atwifi.services.faults import Faults
    from atwifi.services.tls import TlsService

MAX_CLIENTS = 8
MAX_SERVERS = 2
# Drivers give SOCKON 5 s (wire-notes): a connect (and TLS handshake) that cannot complete
# must fail before that.
CONNECT_TIMEOUT = 4.5

Resolve = Callable[[str], Awaitable[str]]


async def literal_resolve(host: str) -> str:
    """Resolution without a DNS service: IP literals and ``localhost`` only (loopback rule)."""
    if host.lower() == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        raise ServiceError(
            SockFault.UNRESOLVED, f"cannot resolve {host!r} without the net service"
        ) from None


def _no_check(ip: str, port: int) -> None:
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class Sockets:
    def __init__(
        self,
        events: Events,
        *,
        capacity: Callable[[], int] = lambda: 1500,
        threshold: Callable[[], int] = lambda: 0,
        resolve: Resolve = literal_resolve,
        check: Callable[[str, int], None] = _no_check,
        tls: TlsService | None = None,
        bind_host: str = "127.0.0.1",
        port_map: dict[int, int] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        route: Callable[[str, int, str], tuple[str, int] | None] | None = None,
        faults: Faults | None = None,
        heap: Heap | None = None,
    ) -> None:
        self.events = events
        self.heap = heap  # the module's heap: each socket's buffer and TLS session charged
        # A simulated address served inside this process (a fleet's other module): ip, port,
        # kind -> the host address to connect to instead, or None for the real network.
        self.route = route
        self.capacity = capacity  # bytes per socket, read when a socket opens
        self.threshold = threshold  # percent, read at every arrival
        self.resolve = resolve
        self.check = check
        self.tls = tls
        self.bind_host = bind_host
        self.port_map = port_map if port_map is not None else {}
        self.connect_timeout = connect_timeout
        self.faults = faults  # faults on demand: consulted before each connect
        # The one connection path: policy, fault rules, TLS, certificate checks.
        self.dialer = Dialer(
            check=lambda ip, port: self.check(ip, port or 0),
            tls=lambda: self.tls,
            faults=lambda: self.faults,
        )
        self.clients: dict[int, Conn] = {}
        self.servers: dict[int, Server] = {}

    # -- clients -------------------------------------------------------------------------
    async def open(self, host: str, port: int, kind: str) -> tuple[str, int]:
        """SOCKON: returns (server IP, socket id)."""
        k = kind.lower() if kind else ""
        if not k:
            raise ServiceError(SockFault.KIND_MISSING, "kind missing")
        if len(self.clients) >= MAX_CLIENTS:
            raise ServiceError(SockFault.TOO_MANY, "8 client sockets already open")
        tls_name: str | None = None
        if k in ("t", "u"):
            pass
        elif k == "s":
            tls_name = host
        else:
            tls_name = kind  # the server's name given in place of the kind (manual 6.38)
            k = "s"
        if tls_name is not None and self.tls is None:
            raise ServiceError(SockFault.OPEN_FAILED, "no TLS service")
        ip = await self.resolve(host)
        routed = self.route(ip, port, k) if self.route is not None else None
        if routed is None:
            try:
                self.dialer.allow(ip, port)  # the policy (its trace note says why)
            except Blocked as e:
                raise ServiceError(SockFault.OPEN_FAILED, f"{ip}:{port}: {e}") from None
        cid = next(i for i in range(MAX_CLIENTS) if i not in self.clients)
        conn = Conn(self.events, None, cid, k, self.capacity(), self.threshold)
        conn.ip, conn.port = ip, port
        if not conn.reserve_heap(self.heap, tls_name is not None):
            raise ServiceError(SockFault.NO_MEMORY, f"no heap for socket {cid}'s buffers")
        proto = {"t": "tcp", "u": "udp", "s": "tls"}[k]
        try:
            async with asyncio.timeout(self.connect_timeout):
                # The one connection path (services/net/dial.py): the fault rules (may refuse,
                # OSError, or fail TLS, SSLError), then the connection; the plan runs in the
                # socket's own buffer (Conn.faults), so held bytes count against its room.
                conn.faults = self.dialer.prepare(host, ip, port, proto, check=False)
                if k == "u":
                    await self.dialer.datagram(
                        lambda: DatagramProtocol(conn),
                        host=host,
                        ip=ip,
                        port=port,
                        plan=conn.faults,
                        to=routed,
                    )
                else:
                    await self.dialer.stream(
                        lambda: StreamProtocol(conn),
                        host=host,
                        ip=ip,
                        port=port,
                        tls_name=tls_name,
                        handshake_timeout=self.connect_timeout,
                        plan=conn.faults,
                        to=routed,
                        verify=False,
                    )
        except TimeoutError:
            conn.close(abort=True)
            raise ServiceError(SockFault.OPEN_FAILED, f"connect to {ip}:{port} timed out") from None
        except (OSError, ValueError) as e:  # refused, unreachable, TLS handshake failure
            conn.close(abort=True)
            raise ServiceError(SockFault.OPEN_FAILED, f"connect to {ip}:{port}: {e}") from None
        if tls_name is not None:
            try:
                await self.dialer.verify(conn.transport, tls_name, conn.faults)
            except BaseException:
                conn.close(abort=True)
                raise
        if conn.faults is not None:
            conn.faults.attach(conn)
        self.clients[cid] = conn
        conn.go_live()
        return ip, cid

    def client(self, cid: int) -> Conn:
        conn = self.clients.get(cid)
        if conn is None:
            raise ServiceError(SockFault.BAD_ID, f"no client socket {cid}")
        return conn

    def unread(self, cid: int) -> int:
        return self.client(cid).unread()

    def read(self, cid: int, n: int = 0) -> tuple[bytes, int]:
        conn = self.client(cid)
        if not conn.buf and not conn.connected:
            raise ServiceError(
                SockFault.CLOSED, f"socket {cid} closed by the peer, nothing left to read"
            )
        return conn.read(n)

    async def write(self, cid: int, data: bytes) -> None:
        await self.client(cid).write(data)

    def close(self, cid: int) -> None:
        conn = self.client(cid)
        if conn.buf:
            raise ServiceError(
                SockFault.PENDING_DATA, f"socket {cid} has {len(conn.buf)} bytes unread"
            )
        conn.close()
        del self.clients[cid]

    # -- servers -------------------------------------------------------------------------
    async def open_server(self, port: int, kind: str) -> int:
        """SOCKDON: returns the server id."""
        k = kind.lower()
        if k not in ("t", "u", "s1", "s2"):
            raise ServiceError(SockFault.BAD_KIND, f"server kind {kind!r}")
        if len(self.servers) >= MAX_SERVERS:
            raise ServiceError(SockFault.TOO_MANY, "2 servers already open")
        if port and any(s.port == port for s in self.servers.values()):
            raise ServiceError(SockFault.PORT_IN_USE, f"port {port} already opened")
        ssl_ctx = None
        if k in ("s1", "s2"):
            if self.tls is None:
                raise ServiceError(SockFault.OPEN_FAILED, "no TLS service")
            ssl_ctx = await self.tls.server_context(mutual=k == "s2")  # may raise CertError
        sid = next(i for i in range(MAX_SERVERS) if i not in self.servers)
        server = Server(sid, port, k, self.events, self.capacity, self.threshold, self.tls)
        server.heap = self.heap
        host_port = self.port_map.get(port, port)
        try:
            await server.start(self.bind_host, host_port, ssl_ctx)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ServiceError(SockFault.PORT_IN_USE, f"host port {host_port} in use") from None
            raise ServiceError(
                SockFault.LISTEN_FAILED, f"listen on {self.bind_host}:{host_port}: {e}"
            ) from None
        self.servers[sid] = server
        return sid

    def server(self, sid: int) -> Server:
        srv = self.servers.get(sid)
        if srv is None:
            raise ServiceError(SockFault.BAD_ID, f"no server {sid}")
        return srv

    def close_server(self, sid: int, cid: int | None = None) -> None:
        srv = self.server(sid)
        if cid is not None:
            srv.close_client(cid)
            return
        srv.close()
        del self.servers[sid]

    # -- reset ---------------------------------------------------------------------------
    def close_all(self) -> None:
        """Reset or power-off: every socket goes, unread data included, no indication."""
        for conn in self.clients.values():
            conn.close(abort=True)
        self.clients.clear()
        for srv in self.servers.values():
            srv.close(force=True)
        self.servers.clear()
