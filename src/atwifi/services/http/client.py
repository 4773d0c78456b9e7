"""One HTTP/1.1 request at a time, sans-I/O (h11) over the module's own asyncio streams.

Names go through the injected ``Network``'s resolver; connections through the module's one
connection path (``Dialer``, services/net/dial.py): the policy check, the fault rules and the
TLS service (the certificate is checked against the module's clock after the handshake, as
for sockets: ``TlsService.client_context`` + ``verify_server``). Nothing here knows a dialect:
failures are ``ServiceError(HttpFault.<kind>, detail, **info)``.

Bodies are never held whole: request bodies come from a ``BodySource`` in pieces, reply bodies
go to a ``Sink`` as they arrive (h11 hands out what each socket read gave).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from atwifi.services.errors import ServiceError

if TYPE_CHECKING:
    from atwifi.services.net.dial import Dialer
    from atwifi.services.tls import TlsService

READ_SIZE = 256 * 1024
CONNECT_TIMEOUT = 4.5  # connect + TLS handshake, as for sockets (drivers wait 5 s)
RESPONSE_TIMEOUT = 10.0  # request sent -> reply head complete
IDLE_TIMEOUT = 10.0  # no byte of the reply body for this long
MAX_REDIRECTS = 5


class HttpFault(Enum):
    RESOLVE = "resolve"  # the host name does not resolve
    CONNECT_TIMEOUT = "connect timeout"  # no answer to the connect
    CONNECT = "connect"  # unreachable, or the network policy forbids the address
    REFUSED = "refused"  # the server refused the connection
    RECV_TIMEOUT = "receive timeout"  # the reply stopped arriving
    SEND_DISCONNECT = "disconnect while sending"  # the peer went while the request was sent
    SEND = "send"  # another error while sending
    TLS = "tls"  # the TLS handshake failed (not a certificate check)
    CERTIFICATE = "certificate"  # info: reason (a CertReason, from the TLS service)
    GENERATE = "generate"  # the request cannot be written as HTTP (bad path, header...)
    PARSE = "parse"  # the reply is not valid HTTP, or is cut short
    RESPONSE_TIMEOUT = "response timeout"  # no reply head in time
    FILE_OPEN = "file open"  # a file to send or to save into cannot be opened
    FILE_CLOSE = "file close"  # the saved reply cannot be committed
    FILE_READ = "file read"
    FILE_WRITE = "file write"  # e.g. the volume is full
    STATUS = "status"  # info: status; a download got another status than 200
    TOO_BIG = "too big"  # info: limit; a download is larger than where it goes
    NOT_TLS = "not tls"  # internal: the TLS handshake met a plain server (autodetect)


class Network(Protocol):
    """What the client connects through (the device's net and TLS services)."""

    async def resolve(self, host: str) -> str:
        """The address; raises (anything) when the name does not resolve."""

    def check(self, ip: str, port: int) -> None:
        """Raises (anything) when the policy forbids ``ip`` (or ``ip:port``, e.g. the module's
        own console endpoint)."""

    @property
    def tls(self) -> TlsService | None: ...


class Sink(Protocol):
    async def head(self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        """The reply's status and headers, once, before any data."""

    async def data(self, chunk: bytes) -> None:
        """A piece of the body, as it arrived (already de-chunked)."""


@dataclass
class BodySource:
    """A request body (or a whole custom request) read in pieces."""

    size: int
    chunks: Callable[[], AsyncIterator[bytes]]


@dataclass
class HttpRequest:
    host: str
    path: str = "/index.html"
    port: int | None = None  # None: 80, or 443 with TLS
    tls: int = 0  # 0 plain, 1 autodetect (TLS, else plain), 2 TLS
    username: str | None = None
    password: str | None = None
    method: str = "GET"
    body: BodySource | None = None
    content_type: str | None = None
    raw: BodySource | None = None  # a complete request, sent as it is
    user_agent: str = "atwifi"
    max_redirects: int = 0
    extra_headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class HttpResult:
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body_bytes: int
    redirects: int = 0
    tls: bool = False


def _fault(kind: HttpFault, detail: str, **info: Any) -> ServiceError:
    return ServiceError(kind, detail, **info)


def _host_header(host: str, port: int, secure: bool) -> str:
    try:
        is_v6 = isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        is_v6 = False
    h = f"[{host}]" if is_v6 else host
    default = 443 if secure else 80
    return h if port == default else f"{h}:{port}"


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, secure: bool):
        self.reader = reader
        self.writer = writer
        self.secure = secure
        self.head = False  # the request was HEAD: no body, whatever the headers say

    def close(self) -> None:
        transport = self.writer.transport
        if transport is not None and not transport.is_closing():
            transport.abort()


class HttpClient:
    """``device.http``: one request at a time per call (the console runs one command)."""

    def __init__(
        self,
        network: Network,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        response_timeout: float = RESPONSE_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
        note: Callable[[str], None] = lambda text: None,
        dialer: Dialer | None = None,
    ) -> None:
        from atwifi.services.net.dial import Dialer

        self.network = network
        # The one connection path: policy, fault rules, TLS (services/net/dial.py).
        self.dialer = dialer or Dialer(check=network.check, tls=lambda: network.tls)
        self.connect_timeout = connect_timeout
        self.response_timeout = response_timeout
        self.idle_timeout = idle_timeout
        self.note = note

    # -- connecting ------------------------------------------------------------------------
    async def _connect(self, host: str, port: int, secure: bool) -> _Conn:
        from atwifi.services.net.dial import Blocked
        from atwifi.services.tls import CertError

        try:
            ip = await self.network.resolve(host)
        except ServiceError:
            raise
        except Exception as e:
            raise _fault(HttpFault.RESOLVE, f"{host}: {e}") from None
        if secure and self.dialer.tls is None:
            raise _fault(HttpFault.TLS, "no TLS service")
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await self.dialer.open_connection(
                    host=host,
                    ip=ip,
                    port=port,
                    tls_name=host if secure else None,
                    handshake_timeout=self.connect_timeout,
                    limit=READ_SIZE,
                )
        except Blocked as e:
            raise _fault(HttpFault.CONNECT, f"{ip}:{port}: {e}") from None
        except CertError as e:
            raise _fault(HttpFault.CERTIFICATE, str(e), reason=e.reason) from None
        except TimeoutError:
            raise _fault(HttpFault.CONNECT_TIMEOUT, f"connect to {ip}:{port} timed out") from None
        except ConnectionRefusedError as e:
            raise _fault(HttpFault.REFUSED, f"{ip}:{port}: {e}") from None
        except ssl.SSLError as e:
            kind = HttpFault.NOT_TLS if _plain_peer(e) else HttpFault.TLS
            raise _fault(kind, f"TLS handshake with {ip}:{port}: {e}") from None
        except (ConnectionResetError, asyncio.IncompleteReadError, EOFError) as e:
            # The peer hung up during the handshake: what a plain server does to a ClientHello.
            kind = HttpFault.NOT_TLS if secure else HttpFault.CONNECT
            raise _fault(kind, f"{ip}:{port}: {e!r}") from None
        except OSError as e:
            raise _fault(HttpFault.CONNECT, f"{ip}:{port}: {e}") from None
        return _Conn(reader, writer, secure)

    async def _open(self, host: str, port: int | None, tls: int) -> _Conn:
        if tls == 0:
            return await self._connect(host, port or 80, False)
        try:
            return await self._connect(host, port or 443, True)
        except ServiceError as e:
            if e.kind is not HttpFault.NOT_TLS:
                raise
            if tls == 2:
                raise _fault(HttpFault.TLS, e.detail) from None
            # Autodetect: the server does not speak TLS on that port; plain HTTP then.
            # A certificate that fails its check never falls back.
            self.note(f"HTTP autodetect: {e.detail}; plain HTTP instead")
            return await self._connect(host, port or 443, False)

    # -- one exchange ----------------------------------------------------------------------
    async def fetch(self, req: HttpRequest, sink: Sink) -> HttpResult:
        """Send ``req``, stream the reply into ``sink``. With ``max_redirects`` > 0, 301, 302,
        303, 307 and 308 replies with a Location are followed (their bodies dropped)."""
        host, port, tls, path = req.host, req.port, req.tls, req.path or "/"
        redirects = 0
        while True:
            follow = redirects < req.max_redirects and req.raw is None
            result, location = await self._exchange(req, host, port, tls, path, sink, follow)
            if location is None:
                result.redirects = redirects
                return result
            redirects += 1
            scheme = "https" if tls else "http"
            base = f"{scheme}://{_host_header(host, port or (443 if tls else 80), bool(tls))}"
            target = urlsplit(urljoin(base + path, location))
            if target.scheme not in ("http", "https") or not target.hostname:
                raise _fault(HttpFault.PARSE, f"redirect to {location!r}")
            host = target.hostname
            tls = 2 if target.scheme == "https" else 0
            port = target.port
            path = (target.path or "/") + (f"?{target.query}" if target.query else "")
            self.note(f"HTTP redirect {result.status} to {target.geturl()}")
            if result.status == 303:
                req = _as_get(req)

    async def _exchange(
        self,
        req: HttpRequest,
        host: str,
        port: int | None,
        tls: int,
        path: str,
        sink: Sink,
        follow: bool,
    ) -> tuple[HttpResult, str | None]:
        import h11

        conn = await self._open(host, port, tls)
        try:
            h = h11.Connection(h11.CLIENT)
            await self._send(conn, h, req, host, port, path)
            return await self._receive(conn, h, sink, follow)
        finally:
            conn.close()

    def _request_event(self, req: HttpRequest, host: str, port: int | None, path: str, secure):
        import h11

        p = port or (443 if secure else 80)
        headers = [
            ("Host", _host_header(host, p, secure)),
            ("User-Agent", req.user_agent),
            ("Accept", "*/*"),
            ("Connection", "close"),
        ]
        if req.username:
            token = f"{req.username}:{req.password or ''}".encode("latin-1")
            headers.append(("Authorization", "Basic " + base64.b64encode(token).decode()))
        if req.method == "POST":
            if req.body is not None and req.content_type:
                headers.append(("Content-Type", req.content_type))
            headers.append(("Content-Length", str(req.body.size if req.body else 0)))
        headers += req.extra_headers
        return h11.Request(method=req.method, target=path, headers=headers)

    async def _send(self, conn: _Conn, h: Any, req: HttpRequest, host, port, path) -> None:
        import h11

        if req.raw is not None:
            # A custom request: its bytes go out as they are. h11 is told of a request of the
            # same method (only to read the reply right: HEAD has no body).
            first = b""
            async for chunk in req.raw.chunks():
                if not first:
                    first = chunk[:16]
                await self._write(conn, chunk)
            method = first.split(b" ", 1)[0].upper() or b"GET"
            conn.head = method == b"HEAD"
            try:
                h.send(h11.Request(method=method, target="/", headers=[("Host", host)]))
                h.send(h11.EndOfMessage())
            except h11.LocalProtocolError:
                h.send(h11.Request(method="GET", target="/", headers=[("Host", host)]))
                h.send(h11.EndOfMessage())
            return
        conn.head = req.method == "HEAD"
        try:
            head = h.send(self._request_event(req, host, port, path, conn.secure))
        except h11.LocalProtocolError as e:
            raise _fault(HttpFault.GENERATE, f"request: {e}") from None
        body = req.body if req.method == "POST" else None
        if body is None or body.size == 0:
            await self._write(conn, head + h.send(h11.EndOfMessage()))
            return
        await self._write(conn, head)
        sent = 0
        async for chunk in body.chunks():
            sent += len(chunk)
            try:
                await self._write(conn, h.send(h11.Data(data=chunk)))
            except h11.LocalProtocolError as e:
                raise _fault(HttpFault.GENERATE, f"body: {e}") from None
        try:
            await self._write(conn, h.send(h11.EndOfMessage()))
        except h11.LocalProtocolError as e:  # the file changed size under us
            raise _fault(HttpFault.FILE_READ, f"sent {sent} of {body.size}: {e}") from None

    async def _write(self, conn: _Conn, data: bytes) -> None:
        try:
            conn.writer.write(data)
            async with asyncio.timeout(self.response_timeout):
                await conn.writer.drain()
        except TimeoutError:
            raise _fault(HttpFault.SEND, "the server takes no more data") from None
        except (ConnectionResetError, BrokenPipeError) as e:
            raise _fault(HttpFault.SEND_DISCONNECT, repr(e)) from None
        except OSError as e:
            raise _fault(HttpFault.SEND, repr(e)) from None

    async def _read(self, conn: _Conn, timeout: float, kind: HttpFault) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await conn.reader.read(READ_SIZE)
        except TimeoutError:
            raise _fault(kind, f"nothing for {timeout} s") from None
        except (ConnectionResetError, ssl.SSLError, OSError) as e:
            raise _fault(HttpFault.PARSE, f"reply cut: {e!r}") from None

    async def _counted_body(self, conn: _Conn, first: bytes, length: int, sink: Sink) -> int:
        left = length
        if first:
            piece = bytes(first[:left])
            left -= len(piece)
            await sink.data(piece)
        while left:
            data = await self._read(conn, self.idle_timeout, HttpFault.RECV_TIMEOUT)
            if not data:
                raise _fault(HttpFault.PARSE, f"body cut after {length - left} of {length} bytes")
            if len(data) > left:
                data = data[:left]  # bytes after the body (a pipelining server): not ours
            left -= len(data)
            await sink.data(data)
        return length

    async def _receive(
        self, conn: _Conn, h: Any, sink: Sink, follow: bool
    ) -> tuple[HttpResult, str | None]:
        import h11

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.response_timeout
        response: Any = None
        body = 0
        while True:
            try:
                event = h.next_event()
            except h11.RemoteProtocolError as e:
                raise _fault(HttpFault.PARSE, str(e)) from None
            if event is h11.NEED_DATA:
                if response is None:
                    left = deadline - loop.time()
                    if left <= 0:
                        raise _fault(HttpFault.RESPONSE_TIMEOUT, "no reply head in time")
                    data = await self._read(conn, left, HttpFault.RESPONSE_TIMEOUT)
                else:
                    data = await self._read(conn, self.idle_timeout, HttpFault.RECV_TIMEOUT)
                h.receive_data(data)  # b"" = the peer closed: h11 decides if that is complete
                continue
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                response = event
                location = _location(event) if follow else None
                if location is not None:
                    result = HttpResult(event.status_code, event.reason, list(event.headers), 0)
                    return result, location
                await sink.head(event.status_code, bytes(event.reason), list(event.headers))
                length = None if conn.head else _plain_length(h, event)
                if length is not None:
                    # A Content-Length body: counted off the socket directly (h11 would copy
                    # every byte twice more); h11 has checked the head and its framing.
                    body = await self._counted_body(conn, h.trailing_data[0], length, sink)
                    result = HttpResult(
                        event.status_code,
                        bytes(event.reason),
                        list(event.headers),
                        body,
                        tls=conn.secure,
                    )
                    return result, None
                continue
            if isinstance(event, h11.Data):
                body += len(event.data)
                await sink.data(bytes(event.data))
                continue
            if isinstance(event, h11.EndOfMessage):
                assert response is not None
                result = HttpResult(
                    response.status_code,
                    bytes(response.reason),
                    list(response.headers),
                    body,
                    tls=conn.secure,
                )
                return result, None
            if isinstance(event, h11.ConnectionClosed):
                raise _fault(HttpFault.PARSE, "connection closed before a reply")


def _plain_length(h: Any, resp: Any) -> int | None:
    """The body's length when h11 frames it by Content-Length alone (not HEAD, not 1xx,
    204 or 304, not chunked), else None."""
    if h.their_state is not _h11().SEND_BODY:
        return None
    lengths = [v for k, v in resp.headers if k == b"content-length"]
    chunked = any(k == b"transfer-encoding" for k, _ in resp.headers)
    if chunked or len(lengths) != 1:
        return None
    return int(lengths[0])  # h11 has validated it


def _h11() -> Any:
    import h11

    return h11


def _location(resp: Any) -> str | None:
    if resp.status_code not in (301, 302, 303, 307, 308):
        return None
    for name, value in resp.headers:
        if name == b"location":
            return value.decode("latin-1")
    return None


def _as_get(req: HttpRequest) -> HttpRequest:
    from dataclasses import replace

    return replace(req, method="GET", body=None, content_type=None)


def _plain_peer(exc: ssl.SSLError) -> bool:
    """The handshake met something that is not TLS (a plain HTTP server answering)."""
    reason = (getattr(exc, "reason", "") or "").upper()
    return reason in _PLAIN_REASONS or "WRONG_VERSION" in str(exc).upper()


_PLAIN_REASONS = (
    "WRONG_VERSION_NUMBER",
    "HTTP_REQUEST",
    "UNKNOWN_PROTOCOL",
    "RECORD_LAYER_FAILURE",
)
