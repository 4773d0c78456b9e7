"""The one connection path: how every client of the module reaches a destination.

The socket service (SOCKON), the HTTP client (HTTPGET, HTTPPOST, FSUPDATE, FWUPDATE), the
WebSocket clients, MQTT (TCP, TLS), SMTP, the TFTP client and NTP all open their connections
here, so the same rules apply to each of them, in the same order:

1. the network policy (``check(ip, port)``): a refusal is ``Blocked`` (the policy's own
   trace note says why), before anything leaves;
2. the fault rules (services/faults): ``refuse`` raises ``ConnectionRefusedError``,
   ``tls_fail`` an ``ssl.SSLError``; the rules that act on the received bytes (reset, stall,
   delay/jitter, bandwidth, loss) come back as a plan that sits in front of the client's own
   protocol (services/faults/wrap.py) or, for the socket service, in its buffer; a
   ``faultable`` connection (WebSocket, MQTT) always gets one, empty until a rule is added
   to that connection (``plan_of``, the ``fault.socket client=...`` verb);
3. the connection itself, TLS with the module's TLS service (its certificate store), the
   server's certificate then checked at the MODULE's clock (``verify_server``), a
   ``tls_cert`` fault showing it an unknown or expired certificate.

Name resolution stays the caller's (``resolve``, the net service: the DNS faults act there),
so each client reports a failure with its own error kind: it maps ``Blocked``,
``ConnectionRefusedError``, ``ssl.SSLError``, ``OSError``, ``TimeoutError`` and the TLS
service's ``CertError`` as it maps real failures. Dialect-free: no Table 10 number here.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atwifi.services.faults import Faults
    from atwifi.services.faults.conn import ConnFaults
    from atwifi.services.tls import TlsService


class Blocked(Exception):
    """The network policy forbids the destination (or it is the module's own console)."""


def _allow_all(ip: str, port: int | None) -> None:
    return None


def _lookup(value: Any) -> Any:
    """A service given as itself or as a function that returns it (parts restart)."""
    return value() if callable(value) else value


class Dialer:
    """Policy, fault rules and TLS for one module's outgoing connections.

    ``check(ip, port)`` raises (anything) when the destination is not allowed; ``tls`` and
    ``faults`` are the services, or functions returning them (None: no TLS, no faults).
    """

    def __init__(
        self,
        *,
        check: Callable[[str, int | None], None] = _allow_all,
        tls: TlsService | Callable[[], TlsService | None] | None = None,
        faults: Faults | Callable[[], Faults | None] | None = None,
    ) -> None:
        self._check = check
        self._tls = tls
        self._faults = faults

    @property
    def tls(self) -> TlsService | None:
        return _lookup(self._tls)  # type: ignore[no-any-return]

    @property
    def faults(self) -> Faults | None:
        return _lookup(self._faults)  # type: ignore[no-any-return]

    # -- the steps ---------------------------------------------------------------------------
    def allow(self, ip: str, port: int | None) -> None:
        """The network policy's verdict: ``Blocked`` when it forbids ``ip:port``."""
        try:
            self._check(ip, port)
        except Blocked:
            raise
        except Exception as e:
            raise Blocked(getattr(e, "detail", "") or str(e)) from e

    def prepare(
        self,
        host: str,
        ip: str,
        port: int,
        proto: str,
        *,
        check: bool = True,
        handshake: bool = True,
    ) -> ConnFaults | None:
        """Policy, then the fault rules for a connection of ``proto`` (tcp, tls, udp) to
        ``ip:port`` (``host`` as the caller named it). Returns the plan, or None.
        ``handshake`` False: TLS comes later on the connection (``tls_handshake``)."""
        if check:
            self.allow(ip, port)
        faults = self.faults
        if faults is None:
            return None
        return faults.on_connect(host, ip, port, proto, handshake)

    def tls_handshake(self, host: str, ip: str, port: int) -> None:
        """A plain connection is about to upgrade to TLS (STARTTLS): a ``tls_fail`` rule
        makes the handshake fail (``ssl.SSLError``)."""
        faults = self.faults
        if faults is not None:
            faults.on_tls(host, ip, port)

    async def verify(self, transport: Any, name: str, plan: ConnFaults | None) -> None:
        """The server's certificate, checked by the TLS service at the module's clock; a
        ``tls_cert`` fault in ``plan`` shows it a bad one. Raises the TLS service's
        ``CertError``; the caller closes the connection."""
        tls = self.tls
        assert tls is not None
        obj = transport.get_extra_info("ssl_object") if transport is not None else None
        der = obj.getpeercert(binary_form=True) if obj is not None else None
        when = None
        bad = plan.cert if plan is not None else None
        if bad is not None:
            from atwifi.services.faults.tls import bad_view

            der, when = await bad_view(bad, der, name, tls.module_time(), plan.note)  # type: ignore[union-attr]
        await tls.verify_server(der, name, when)

    # -- streams -----------------------------------------------------------------------------
    async def stream(
        self,
        factory: Callable[[], asyncio.BaseProtocol],
        *,
        host: str,
        ip: str,
        port: int,
        tls_name: str | None = None,
        handshake_timeout: float | None = None,
        proto: str | None = None,
        plan: ConnFaults | None | bool = True,
        wrap: bool = False,
        to: tuple[str, int] | None = None,
        verify: bool = True,
        faultable: bool = False,
    ) -> tuple[Any, Any, ConnFaults | None]:
        """Connect a TCP (or, with ``tls_name``, TLS) stream to ``ip:port`` for the protocol
        ``factory`` makes. Returns (the transport as the protocol sees it, the protocol, the
        fault plan or None). The caller's timeout covers it all.

        ``plan=True``: policy and fault rules are checked here and a plan is put in front
        of the protocol. A plan (or None) given instead: ``prepare`` was called already; with
        ``wrap`` the plan is put in front here, else the caller's protocol runs it itself
        (the socket service's buffers).
        ``to``: where to connect instead (a fleet's module), the policy not asked.
        ``proto``: the kind the fault rules see (default tcp, or tls with ``tls_name``).
        With ``verify`` (default) a TLS server's certificate is checked before returning.
        ``faultable``: a plan is put in front even when no rule matches now, so that faults
        can be added to this one connection while it is open (``add_fault``)."""
        kind = proto or ("tls" if tls_name is not None else "tcp")
        ctx: ssl.SSLContext | None = None
        if tls_name is not None:
            tls = self.tls
            if tls is None:
                raise ssl.SSLError("no TLS service")
        if plan is True:
            the_plan = self.prepare(host, ip, port, kind, check=to is None)
            wrap = True
            faults = self.faults
            if the_plan is None and faultable and faults is not None:
                the_plan = faults.empty_plan(host, ip, port, kind)
        else:
            the_plan = plan or None
        if tls_name is not None:
            ctx = await tls.client_context()
        wrapped = wrap and the_plan is not None
        if wrapped:
            from atwifi.services.faults.wrap import FaultyStream
        build, made = _front(factory, FaultyStream if wrapped else None, the_plan)
        to_ip, to_port = to if to is not None else (ip, port)
        loop = asyncio.get_running_loop()
        try:
            if ctx is None:
                transport, _ = await loop.create_connection(build, to_ip, to_port)
            else:
                transport, _ = await loop.create_connection(
                    build,
                    to_ip,
                    to_port,
                    ssl=ctx,
                    server_hostname=tls_name,
                    ssl_handshake_timeout=handshake_timeout,
                )
        except BaseException:
            if wrapped:
                the_plan.close()  # type: ignore[union-attr]
            raise
        outer = made[-1]
        seen, inner = (outer.proxy, outer.inner) if wrapped else (transport, outer)
        if ctx is not None and verify:
            try:
                await self.verify(transport, tls_name, the_plan)  # type: ignore[arg-type]
            except BaseException:
                transport.abort()
                raise
        if wrapped:  # a reset/stall armed at 0 bytes acts now
            the_plan.attach(outer)  # type: ignore[union-attr]
        return seen, inner, the_plan

    async def open_connection(
        self,
        *,
        host: str,
        ip: str,
        port: int,
        tls_name: str | None = None,
        handshake_timeout: float | None = None,
        limit: int = 2**16,
        verify: bool = True,
        faultable: bool = False,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """``asyncio.open_connection`` through this path: (reader, writer)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        transport, _, _ = await self.stream(
            lambda: protocol,
            host=host,
            ip=ip,
            port=port,
            tls_name=tls_name,
            handshake_timeout=handshake_timeout,
            verify=verify,
            faultable=faultable,
        )
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        return reader, writer

    async def connected_socket(
        self, *, host: str, ip: str, port: int, proto: str = "tcp", handshake: bool = True
    ) -> tuple[socket.socket, ConnFaults | None]:
        """A connected socket for a library that takes one and runs TLS itself (aiosmtplib):
        one end of a socket pair whose other end is relayed to ``ip:port`` over a plain
        connection of this path, so the fault rules act on what the server sends as on any
        other connection. ``proto``: what the rules see (tls when the library will run TLS
        on it; with ``handshake`` False, later: ``tls_handshake``). Returns (the socket, the
        plan: for ``verify``)."""
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        relay = _Relay()
        loop = asyncio.get_running_loop()
        try:
            plan = self.prepare(host, ip, port, proto, handshake=handshake)
            await self.stream(
                lambda: relay.outside, host=host, ip=ip, port=port, plan=plan, wrap=True
            )
            await loop.connect_accepted_socket(lambda: relay.inside, sock=b)
        except BaseException:
            a.close()
            b.close()
            relay.close()
            raise
        return a, plan

    # -- datagrams ---------------------------------------------------------------------------
    async def datagram(
        self,
        factory: Callable[[], asyncio.DatagramProtocol],
        *,
        host: str,
        ip: str,
        port: int,
        connect: bool = True,
        local_addr: tuple[str, int] | None = None,
        plan: ConnFaults | None | bool = True,
        wrap: bool = False,
        to: tuple[str, int] | None = None,
    ) -> tuple[Any, Any, ConnFaults | None]:
        """A UDP endpoint for talking to ``ip:port``: connected to it (``connect``), or bound
        to ``local_addr`` (a TFTP client, whose server answers from another port). Policy,
        fault rules (refuse; loss, delay, bandwidth on what arrives) as for ``stream``."""
        if plan is True:
            the_plan = self.prepare(host, ip, port, "udp", check=to is None)
            wrap = True
        else:
            the_plan = plan or None
        wrapped = wrap and the_plan is not None
        if wrapped:
            from atwifi.services.faults.wrap import FaultyDatagram
        build, made = _front(factory, FaultyDatagram if wrapped else None, the_plan)
        loop = asyncio.get_running_loop()
        to_addr = to if to is not None else (ip, port)
        family = socket.AF_INET6 if ":" in to_addr[0] else socket.AF_INET
        try:
            if connect:
                transport, _ = await loop.create_datagram_endpoint(build, remote_addr=to_addr)
            else:
                transport, _ = await loop.create_datagram_endpoint(
                    build, local_addr=local_addr, family=family
                )
        except BaseException:
            if wrapped:
                the_plan.close()  # type: ignore[union-attr]
            raise
        outer = made[-1]
        return transport, outer.inner if wrapped else outer, the_plan


def _front(
    factory: Callable[[], Any], wrapper: Any, plan: ConnFaults | None
) -> tuple[Callable[[], Any], list[Any]]:
    """The protocol factory the loop calls: the caller's protocol, behind ``wrapper(protocol,
    plan)`` (services/faults/wrap.py) when there is one; the list gets what it made."""
    made: list[Any] = []

    def build() -> Any:
        proto = factory()
        if wrapper is not None:
            proto = wrapper(proto, plan)
        made.append(proto)
        return proto

    return build, made


def plan_of(transport: Any) -> ConnFaults | None:
    """The fault plan in front of a connection this path opened with ``faultable`` (the
    transport as its protocol sees it), or None."""
    owner = getattr(transport, "_owner", None)
    return getattr(owner, "plan", None)


class _Side(asyncio.Protocol):
    def __init__(self, relay: _Relay, name: str) -> None:
        self.relay = relay
        self.name = name
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        self.transport = transport
        self.relay.made(self)

    def data_received(self, data: bytes) -> None:
        self.relay.forward(self, data)

    def eof_received(self) -> bool:
        self.relay.eof(self)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.relay.lost(self, exc)

    def pause_writing(self) -> None:
        other = self.relay.other(self).transport
        if other is not None and not other.is_closing():
            other.pause_reading()

    def resume_writing(self) -> None:
        other = self.relay.other(self).transport
        if other is not None and not other.is_closing():
            other.resume_reading()


class _Relay:
    """Bytes both ways between the library's socket pair (``inside``) and the connection to
    the server (``outside``, behind the fault plan), with flow control both ways: a side
    whose writes back up stops the other side's reading. A reset of the server's side ends
    the pair at once; an EOF passes on as an EOF."""

    def __init__(self) -> None:
        self.inside = _Side(self, "inside")
        self.outside = _Side(self, "outside")
        self._early: list[bytes] = []  # from the server before the pair side is set up
        self._early_end: Any = None

    def other(self, side: _Side) -> _Side:
        return self.outside if side is self.inside else self.inside

    def made(self, side: _Side) -> None:
        if side is self.inside:
            for data in self._early:
                side.transport.write(data)
            self._early.clear()
            if self._early_end is not None:
                end, self._early_end = self._early_end, None
                self.lost(self.outside, None if end == "eof" else end)

    def forward(self, side: _Side, data: bytes) -> None:
        other = self.other(side).transport
        if other is None:
            self._early.append(data)
        elif not other.is_closing():
            other.write(data)

    def eof(self, side: _Side) -> None:
        other = self.other(side).transport
        if other is None:
            self._early_end = "eof"
            return
        if not other.is_closing() and other.can_write_eof():
            other.write_eof()

    def lost(self, side: _Side, exc: Exception | None) -> None:
        other = self.other(side).transport
        if other is None:
            self._early_end = exc if exc is not None else "eof"
            return
        if other.is_closing():
            return
        if exc is not None:
            other.abort()  # a reset: the other side ends at once
        else:
            other.close()

    def close(self) -> None:
        for side in (self.inside, self.outside):
            t = side.transport
            if t is not None:
                with contextlib.suppress(Exception):
                    t.abort()
