"""The module's WebSocket clients: two slots, shared with MQTT (see the package docstring)."""

from __future__ import annotations

import asyncio
import errno
import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from atwifi.services.errors import ServiceError
from atwifi.services.websocket.client import WsClient, make_extensions
from atwifi.services.websocket.faults import Events, WsFault

if TYPE_CHECKING:
    from atwifi.services.faults import Faults
    from atwifi.services.tls import TlsService

SLOTS = 2
# Heap account and charge of a slot in use (a WebSocket, or MQTT's link): the socket's control
# block (512) and the protocol's state and frame buffers (1024) (docs/behaviour.md "Memory").
LINKS, LINK = "WebSocket/MQTT links", 1536
CONNECT_TIMEOUT = 4.5  # TCP connect + TLS handshake
HANDSHAKE_TIMEOUT = 4.5  # the server's answer to the HTTP upgrade

# Close codes a client may put in a Close frame (RFC 6455 7.4): 1004-1006 and 1015 are
# reserved or local-only; 3000-4999 are for libraries and applications.
_SENDABLE = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011}

TLS_OFF, TLS_AUTO, TLS_ON = 0, 1, 2


def close_code(status: int) -> int:
    """An RFC 6455 close code from a status given as the code itself (1000...) or as its
    offset from 1000 (0 normal closure, 1 going away, ...); ServiceError(BAD_CODE) else."""
    code = status + 1000 if 0 <= status < 1000 else status
    if code in _SENDABLE or 3000 <= code <= 4999:
        return code
    raise ServiceError(WsFault.BAD_CODE, f"status {status} is not a close code a client may send")


def split_list(text: str | None) -> list[str]:
    """``a, b c`` -> [a, b, c]: header lists from one AT field."""
    if not text:
        return []
    return [t for t in text.replace(",", " ").split() if t]


def split_extensions(text: str | None) -> list[str]:
    """Extensions keep their parameters: ``permessage-deflate; client_max_window_bits``."""
    if not text:
        return []
    return [t.strip() for t in text.split(",") if t.strip()]


async def _literal(host: str) -> str:
    import ipaddress

    if host.lower() == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        raise ServiceError(WsFault.RESOLVE, f"cannot resolve {host!r} without DNS") from None


def _allow_all(ip: str, port: int) -> None:
    return None


class _Quiet:
    def data(self, cid: int, last_frame: bool, last_frag: bool, received: int, unread: int) -> None:
        return None

    def closed(self, cid: int, code: int | None, reason: str) -> None:
        return None

    def note(self, text: str) -> None:
        return None


class WebSockets:
    def __init__(
        self,
        events: Events | None = None,
        *,
        capacity: Callable[[], int] = lambda: 1500,
        threshold: Callable[[], int] = lambda: 0,
        resolve: Callable[[str], Awaitable[str]] = _literal,
        check: Callable[[str, int], None] = _allow_all,
        tls: TlsService | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        faults: Faults | Callable[[], Faults | None] | None = None,
        heap: Any = None,
    ) -> None:
        from atwifi.services.net.dial import Dialer

        self.events: Events = events if events is not None else _Quiet()
        # The module's heap (atwifi.runtime.heap): each slot in use, the host's WebSocket or
        # MQTT's link, is charged LINK bytes while taken.
        self.heap = heap
        self.capacity = capacity  # bytes per connection, read when one opens
        self.threshold = threshold  # percent of capacity before a data report
        self.resolve = resolve  # raises ServiceError(RESOLVE) (or any ServiceError)
        self.check = check  # raises ServiceError(BLOCKED) when the address is not allowed
        self.tls = tls
        # The one connection path (services/net/dial.py): policy, fault rules, TLS.
        self.dialer = Dialer(check=self._check, tls=lambda: self.tls, faults=faults)
        self.connect_timeout = connect_timeout
        self.handshake_timeout = handshake_timeout
        self.clients: dict[int, WsClient] = {}  # the host's clients (WSOCK commands)
        self._owners: dict[int, str] = {}  # slot -> "host" or the owner that reserved it
        self._others: dict[int, WsClient] = {}  # connections opened on a reserved slot
        self._opening: dict[int, tuple[str, int]] = {}  # slot -> address being opened
        self._servers: dict[int, tuple[str, int]] = {}  # reserved slot -> its owner's server

    def _check(self, ip: str, port: int | None) -> None:
        self.check(ip, port or 0)

    # -- slots ---------------------------------------------------------------------------
    def free_slots(self) -> int:
        return SLOTS - len(self._owners)

    def reserve(self, owner: str = "mqtt", server: tuple[str, int] | None = None) -> int:
        """Take a slot for ``owner``; returns its number. ServiceError(TOO_MANY) if none.
        ``server`` (ip, port): the owner connects there by its own means, so no WebSocket
        may open to it (manual 6.61); a connection made with ``open(slot=...)`` counts
        by itself."""
        for slot in range(SLOTS):
            if slot not in self._owners:
                self._owners[slot] = owner
                if self.heap is not None:
                    self.heap.charge(LINKS, LINK)
                if server is not None:
                    self._servers[slot] = (server[0], int(server[1]))
                return slot
        raise ServiceError(WsFault.TOO_MANY, f"{SLOTS} WebSocket clients already in use")

    def release(self, slot: int) -> None:
        """Give a reserved slot back, closing (abort) a connection still open on it."""
        conn = self._others.pop(slot, None)
        if conn is not None:
            conn.abort()
        self._servers.pop(slot, None)
        if self._owners.get(slot) != "host":
            self._drop(slot)

    def _drop(self, slot: int) -> None:
        if self._owners.pop(slot, None) is not None and self.heap is not None:
            self.heap.release(LINKS, LINK)

    # -- opening -------------------------------------------------------------------------
    async def open(
        self,
        host: str,
        port: int | None = None,
        path: str | None = "/",
        tls: int = TLS_OFF,
        username: str | None = None,
        password: str | None = None,
        origin: str | None = None,
        protocols: Sequence[str] = (),
        extensions: Sequence[str] = (),
        *,
        slot: int | None = None,
        events: Events | None = None,
    ) -> WsClient:
        """Connect and upgrade. Without ``slot`` the client is the host's (takes a free slot,
        is listed in ``clients``); with a slot from ``reserve()`` it belongs to the caller,
        who reads it with ``recv``/``read`` and gets its reports through ``events``."""
        if slot is None:
            cid = self.reserve("host")
        else:
            if slot not in self._owners or self._owners[slot] == "host":
                raise ServiceError(WsFault.BAD_ID, f"slot {slot} is not reserved")
            if slot in self._others:
                raise ServiceError(WsFault.TOO_MANY, f"slot {slot} already has a connection")
            cid = slot
        try:
            client = await self._open(
                cid,
                host,
                port,
                path or "/",
                tls,
                username,
                password,
                origin,
                protocols,
                extensions,
                events if events is not None else self.events,
            )
        except BaseException:
            if slot is None:
                self._drop(cid)
            raise
        if slot is None:
            self.clients[cid] = client
        else:
            self._others[cid] = client
        client.events.note(
            f"websocket {cid}: {'wss' if client.tls else 'ws'}://{client.ip}:{client.port}"
            f"{client.path} open from port {client.local_port}"
            + (f", subprotocol {client.subprotocol}" if client.subprotocol else "")
            + (f", extensions {','.join(client.extensions)}" if client.extensions else "")
        )
        client.go_live()
        return client

    def _in_use(self, ip: str, port: int) -> bool:
        for c in (*self.clients.values(), *self._others.values()):
            if c.ip == ip and c.port == port and not c.gone:
                return True
        return (ip, port) in self._servers.values()

    async def _open(
        self,
        cid: int,
        host: str,
        port: int | None,
        path: str,
        tls: int,
        username: str | None,
        password: str | None,
        origin: str | None,
        protocols: Sequence[str],
        extensions: Sequence[str],
        events: Events,
    ) -> WsClient:
        if tls not in (TLS_OFF, TLS_AUTO, TLS_ON):
            raise ServiceError(WsFault.TLS, f"tls={tls}")
        if port is None or port == 0:
            port = 80 if tls == TLS_OFF else 443
        if not path.startswith("/"):
            path = "/" + path
        ip = await self.resolve(host)
        try:
            self.dialer.allow(ip, port)
        except Exception as e:
            raise ServiceError(WsFault.BLOCKED, f"{ip}:{port}: {e}") from None
        if self._in_use(ip, port) or (ip, port) in self._opening.values():
            raise ServiceError(WsFault.SAME_SERVER, f"already connected to {ip}:{port}")
        exts = make_extensions(extensions)  # validates before connecting
        self._opening[cid] = (ip, port)

        def attempt(secure: bool, exts: list[Any]) -> Any:
            return self._attempt(
                cid, host, ip, port, path, secure, username, password, origin, protocols,
                exts, events,
            )  # fmt: skip

        try:
            if tls == TLS_AUTO:
                try:
                    # Extensions of its own: a plain retry needs a set no handshake touched.
                    return await attempt(True, make_extensions(extensions))
                except ServiceError as e:
                    if e.kind is not WsFault.TLS:
                        raise
                    events.note(f"websocket {cid}: no TLS at {ip}:{port} ({e.detail}), plain")
                return await attempt(False, exts)
            return await attempt(tls == TLS_ON, exts)
        finally:
            self._opening.pop(cid, None)

    async def _attempt(
        self,
        cid: int,
        host: str,
        ip: str,
        port: int,
        path: str,
        use_tls: bool,
        username: str | None,
        password: str | None,
        origin: str | None,
        protocols: Sequence[str],
        extensions: list[object],
        events: Events,
    ) -> WsClient:
        threshold = self.capacity() * min(100, max(0, self.threshold())) // 100
        client = WsClient(
            cid, events, self.capacity(), threshold, host=host, ip=ip, port=port, path=path
        )
        from atwifi.services.net.dial import Blocked

        if use_tls and self.dialer.tls is None:
            raise ServiceError(WsFault.TLS, "no TLS service")
        try:
            async with asyncio.timeout(self.connect_timeout):
                # Policy, fault rules, TLS and the certificate check at the module's clock.
                transport, _, _ = await self.dialer.stream(
                    client.protocol,
                    host=host,
                    ip=ip,
                    port=port,
                    tls_name=host if use_tls else None,
                    handshake_timeout=self.connect_timeout,
                    faultable=True,  # fault.socket client=websocket, while it is open
                )
        except Blocked as e:
            raise ServiceError(WsFault.BLOCKED, f"{ip}:{port}: {e}") from None
        except TimeoutError:
            client.abort()
            raise ServiceError(WsFault.TCP, f"connect to {ip}:{port} timed out") from None
        except ssl.SSLError as e:
            client.abort()
            raise ServiceError(WsFault.TLS, f"TLS handshake with {ip}:{port}: {e}") from None
        except ConnectionRefusedError as e:
            raise ServiceError(WsFault.REFUSED, f"connect to {ip}:{port}: {e}") from None
        except (OSError, ValueError) as e:
            client.abort()
            if use_tls and isinstance(e, ConnectionResetError | BrokenPipeError):
                raise ServiceError(WsFault.TLS, f"TLS handshake with {ip}:{port}: {e}") from None
            if isinstance(e, OSError) and e.errno == errno.ECONNREFUSED:
                raise ServiceError(WsFault.REFUSED, f"connect to {ip}:{port}: {e}") from None
            raise ServiceError(WsFault.TCP, f"connect to {ip}:{port}: {e}") from None
        except BaseException:  # the certificate check failed (its own error), or cancelled
            client.abort()
            raise
        client.tls = use_tls
        default = 443 if use_tls else 80
        host_header = host if port == default else f"{host}:{port}"
        if ":" in host and not host.startswith("["):  # an IPv6 literal
            host_header = f"[{host}]" if port == default else f"[{host}]:{port}"
        upgraded = client.start_upgrade(
            transport,
            host_header,
            username=username,
            password=password,
            origin=origin,
            protocols=protocols,
            extensions=extensions,
        )
        try:
            await asyncio.wait_for(asyncio.shield(upgraded), self.handshake_timeout)
        except TimeoutError:
            upgraded.cancel()  # nobody waits for it any more
            client.abort()
            raise ServiceError(
                WsFault.HANDSHAKE_TIMEOUT, f"no answer to the upgrade from {ip}:{port}"
            ) from None
        except BaseException:  # refused upgrade, or cancelled (reset, power-off)
            if not upgraded.done():
                upgraded.cancel()
            client.abort()
            raise
        return client

    # -- the host's clients --------------------------------------------------------------
    def client(self, cid: int) -> WsClient:
        c = self.clients.get(cid)
        if c is None:
            raise ServiceError(WsFault.BAD_ID, f"no WebSocket client {cid}")
        return c

    def read(self, cid: int, n: int = 0) -> tuple[bytes, int]:
        c = self.client(cid)
        if not c.buf and c.gone:
            raise ServiceError(WsFault.CLOSED, f"websocket {cid}: server gone, nothing left")
        return c.read(n)

    async def close(self, cid: int, code: int = 1000) -> None:
        """Close a host client (Close frame with ``code``) and free its slot.
        ServiceError(PENDING) while unread data remains, even after the server has gone."""
        c = self.client(cid)
        if c.buf:
            raise ServiceError(WsFault.PENDING, f"websocket {cid}: {len(c.buf)} bytes unread")
        await c.close(code)
        self.clients.pop(cid, None)
        self._drop(cid)

    # -- reset ---------------------------------------------------------------------------
    def close_all(self) -> None:
        """Reset or power-off: every connection goes, unread data included, no report."""
        for c in (*self.clients.values(), *self._others.values()):
            c.abort()
        self.clients.clear()
        self._others.clear()
        for slot in list(self._owners):
            self._drop(slot)
        self._servers.clear()
