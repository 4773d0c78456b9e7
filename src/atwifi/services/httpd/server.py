"""The module's own web server: HTTP/1.1 (h11 over asyncio streams), and HTTPS with the
module's own certificate, serving the module's volumes.

Dialect-free: what an SSI marker means, what a remote-configuration form does and how a form
post reaches the host are the dialect's (``Provider`` and ``Events``); this module knows
HTTP, the file system and the captive portal's redirect.

    server = WebServer(fs=lambda: device.fs, provider=..., events=..., now=clock.now)
    await server.start("127.0.0.1", 0)            # HTTP on a free host port
    await server.start_tls("127.0.0.1", 0, ctx)   # HTTPS, once a certificate is loaded
    server.http_port, server.https_port
    await server.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from atwifi.services.errors import ServiceError
from atwifi.services.fs.names import EXT, RAM, USER, valid_name
from atwifi.services.httpd import ssi
from atwifi.services.httpd.paths import INDEX, Target, parse_target
from atwifi.services.mime import SSI_TYPES, UNKNOWN, content_type

log = logging.getLogger("atwifi")

SERVER = b"atwifi-httpd"
METHODS = (b"GET", b"HEAD", b"POST", b"OPTIONS")
ALLOW = b"GET, HEAD, POST, OPTIONS"
CONFIG_NAME = "remote.cgi"  # the remote-configuration form's action (firstset.html)
LINGER_SECONDS, LINGER_BYTES = 2.0, 256 * 1024  # a closing connection's last reads
MAX_REFUSING = 32  # 503 answers closed gently at once; beyond, closed at once
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


@dataclass
class Limits:
    """What the server allows; see docs/behaviour.md, "Web server"."""

    max_connections: int = 8  # more at once: 503 and close
    idle_timeout: float = 30.0  # keep-alive: no new request for this long -> close
    header_timeout: float = 10.0  # first byte to end of headers, whole (a slow client: 408)
    body_timeout: float = 10.0  # no body byte for this long -> 408
    max_header_bytes: int = 8192  # request line + headers: over it -> 431
    max_body: int = 256 * 1024  # request body: over it -> 413
    ssi_max: int = 64 * 1024  # an HTML page bigger than this is sent as it is, unscanned
    chunk: int = 16 * 1024  # file bytes per write
    static_max_age: int = 300  # Cache-Control max-age of files without markers


@dataclass(frozen=True)
class Captive:
    """The MiniAP's captive portal, while the module runs one."""

    domain: str  # ip_apdomainname: DNS answers the module's address for it
    redirect: str  # ip_apredirect: the page every other host is sent to
    address: str  # the module's own address in its MiniAP


class Provider(Protocol):
    """What the dialect supplies: the meaning of markers and of the configuration form."""

    def ssi(self, fields: list[str], page: dict[str, Any]) -> str | None:
        """Text for a marker (``page`` is per-request scratch space), None: leave it."""
        ...

    def captive(self) -> Captive | None: ...

    async def remote_config(self, fields: list[tuple[str, str]]) -> tuple[bool, str]:
        """Apply the configuration form; (accepted, a sentence for the browser)."""
        ...


class Events(Protocol):
    def form_output(self, message: bytes) -> None: ...
    def file_received(self, name: str) -> None: ...
    def note(self, text: str) -> None: ...


class _Close(Exception):
    """End this connection (after whatever was sent)."""


class WebServer:
    def __init__(
        self,
        fs: Callable[[], Any],
        provider: Provider,
        events: Events,
        now: Callable[[], float],
        limits: Limits | None = None,
    ) -> None:
        self._fs = fs
        self.provider = provider
        self.events = events
        self._now = now
        self.limits = limits or Limits()
        self.host = "127.0.0.1"
        self.http_port: int | None = None
        self.https_port: int | None = None
        self.dns: Any = None  # a CaptiveDns (services/httpd/dns.py) when one runs with us
        self._servers: list[asyncio.base_events.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.active = 0  # connections being served now
        self._refusing = 0  # connections being answered 503
        self._idle: dict[_Io, None] = {}  # kept-alive connections between requests, oldest first
        self._dates: dict[int, bytes] = {}  # HTTP dates of the last few seconds
        self._active_changed = asyncio.Event()
        self.served = 0  # requests answered since start (any status)

    # -- life cycle ------------------------------------------------------------------------
    async def start(self, host: str, port: int) -> int:
        self.host = host
        self.http_port = await self._listen(host, port, None)
        return self.http_port

    async def start_tls(self, host: str, port: int, ctx: ssl.SSLContext) -> int:
        self.https_port = await self._listen(host, port, ctx)
        return self.https_port

    async def _listen(self, host: str, port: int, ctx: ssl.SSLContext | None) -> int:
        secure = ctx is not None

        async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._client(reader, writer, secure)

        server = await asyncio.start_server(
            client,
            host,
            port,
            ssl=ctx,
            reuse_address=True,
            ssl_handshake_timeout=self.limits.header_timeout if secure else None,
        )
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def start_dns(self, host: str, port: int) -> int:
        """The MiniAP's DNS (captive portal) on a UDP port of the host."""
        from atwifi.services.httpd.dns import CaptiveDns

        dns = CaptiveDns(self._dns_address)
        port = await dns.start(host, port)
        self.dns = dns
        return port

    def _dns_address(self, name: str) -> str | None:
        captive = self.provider.captive()
        return captive.address if captive is not None else None

    async def stop(self) -> None:
        if self.dns is not None:
            self.dns.stop()
            self.dns = None
        servers, self._servers = self._servers, []
        for s in servers:
            s.close()
        for w in list(self._writers):
            w.transport.abort()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(BaseException):
                await t
        self.http_port = self.https_port = None

    async def _evict(self) -> bool:
        """Close the oldest kept-alive connection waiting between requests (closing one there
        is always allowed in HTTP/1.1) and wait until its slot is free. False if none idles."""
        if not self._idle:
            return False
        victim = next(iter(self._idle))
        self._idle.pop(victim, None)
        self.events.note("web server: at the connection limit, an idle kept-alive one closed")
        victim.writer.transport.close()
        limit = self.limits.max_connections
        try:
            async with asyncio.timeout(self.limits.header_timeout):
                await self.wait_active(lambda n: n < limit)
        except TimeoutError:
            return False
        return True

    def _count(self, step: int) -> None:
        self.active += step
        self._active_changed.set()

    async def wait_active(self, test: Callable[[int], bool]) -> None:
        """Until ``test(number of connections being served)`` holds (for tests, tools)."""
        while not test(self.active):
            self._active_changed.clear()
            await self._active_changed.wait()

    def urls(self) -> dict[str, str]:
        out = {}
        if self.http_port is not None:
            out["http"] = f"http://{self.host}:{self.http_port}/"
        if self.https_port is not None:
            out["https"] = f"https://{self.host}:{self.https_port}/"
        if self.dns is not None and self.dns.port is not None:
            out["dns"] = f"udp://{self.host}:{self.dns.port}"
        return out

    # -- one connection --------------------------------------------------------------------
    async def _client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, secure: bool
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            if self.active >= self.limits.max_connections and await self._evict():
                pass  # an idle kept-alive connection made room
            elif self.active >= self.limits.max_connections:
                self.events.note(f"web server: {self.active} connections already, 503")
                writer.write(
                    b"HTTP/1.1 503 Service Unavailable\r\nServer: atwifi-httpd\r\n"
                    b"Retry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                if self._refusing < MAX_REFUSING:  # a flood is not lingered over
                    self._refusing += 1
                    try:
                        await self._linger(reader, writer)
                    finally:
                        self._refusing -= 1
                return
            self._count(+1)
            try:
                await self._connection(reader, writer, secure)
            finally:
                self._count(-1)
            await self._linger(reader, writer)
        except (OSError, ConnectionError, ssl.SSLError, _Close):
            pass
        except asyncio.CancelledError:
            pass  # stop(): the end of this connection is the end of this task
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _linger(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Close gently: half-close, then read what the client still sends until it closes
        (bounded in time and bytes). Closing with its bytes unread would reset the connection
        and could destroy the answer before the client reads it."""
        if writer.transport.is_closing():
            return
        with contextlib.suppress(OSError, ConnectionError, TimeoutError, ssl.SSLError):
            await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
            left = LINGER_BYTES
            async with asyncio.timeout(LINGER_SECONDS):
                while left > 0 and (data := await reader.read(65536)):
                    left -= len(data)

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, secure: bool
    ) -> None:
        import h11

        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)
        peer = writer.get_extra_info("peername") or ("", 0)
        io = _Io(conn, reader, writer, self.limits, self._idle)
        while True:
            try:
                request = await io.request()
            except h11.RemoteProtocolError as e:
                status = e.error_status_hint
                if "exceeds" in str(e) or "too long" in str(e).lower():
                    status = 431
                self.events.note(f"web server: bad request from {peer[0]}: {e}")
                await self._error(io, status, close=True)
                return
            except TimeoutError:
                if io.started:
                    self.events.note(f"web server: {peer[0]} too slow with its headers: 408")
                    await self._error(io, 408, close=True)
                return
            if request is None:
                return  # the client closed between requests
            try:
                await self._handle(io, request, secure)
            except (OSError, ConnectionError, ssl.SSLError, _Close, TimeoutError):
                raise
            except Exception as e:  # a bug in atwifi: this client gets a 500, others go on
                log.exception("web server failed on %r", request.target[:60])
                self.events.note(f"web server failed inside atwifi: {e!r}")
                with contextlib.suppress(Exception):
                    await self._error(io, 500, close=True)
                return
            self.served += 1
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    # -- requests ----------------------------------------------------------------------------
    async def _handle(self, io: _Io, request: Any, secure: bool) -> None:
        import h11

        method = request.method.upper()
        io.head = method == b"HEAD"  # whatever the answer, it has no body
        headers = {k.lower(): v for k, v in request.headers}
        target = parse_target(request.target)
        if request.http_version not in (b"1.0", b"1.1"):
            await self._error(io, 505, close=True)
            return
        if target is None:
            await self._error(io, 400, close=True)
            return
        if method not in METHODS:
            await io.discard_body()
            await self._error(io, 405, headers=[(b"Allow", ALLOW)])
            return
        length = headers.get(b"content-length")
        if length is not None and int(length) > self.limits.max_body:
            await self._error(io, 413, close=True)
            return
        body = b""
        try:
            body = await io.body(self.limits.max_body)
        except _TooBig:
            await self._error(io, 413, close=True)
            return
        except TimeoutError:
            await self._error(io, 408, close=True)
            return
        except h11.RemoteProtocolError as e:
            await self._error(io, e.error_status_hint, close=True)
            return
        host = headers.get(b"host", b"").decode("latin-1")
        redirect = self._captive_redirect(host, target)
        if redirect is not None:
            await self._send(io, 302, b"", [(b"Location", redirect.encode("latin-1"))])
            return
        if method == b"OPTIONS":
            await self._send(io, 204, b"", [(b"Allow", ALLOW)], cache=False)
            return
        if method == b"POST":
            await self._post(io, target, headers, body)
            return
        await self._file(io, target)

    def _captive_redirect(self, host: str, target: Target) -> str | None:
        captive = self.provider.captive()
        if captive is None:
            return None
        name = _host_name(host)
        own = {captive.domain.lower(), captive.address}
        if name in own:
            if target.path == "/" and captive.redirect != INDEX:
                return f"http://{captive.domain}/{captive.redirect}"
            return None
        if name in LOOPBACK_NAMES or name.startswith("127."):
            return None  # the host itself, through the loopback: no portal for it
        return f"http://{captive.domain}/{captive.redirect}"

    async def _file(self, io: _Io, target: Target, status: int = 200) -> None:
        fs = self._fs()
        name = target.name
        snap, gz = await _open(fs, name) if fs is not None and name else (None, False)
        if snap is None:
            await self._error(io, 404)
            return
        try:
            ctype = content_type(name)
            extra = [(b"Content-Type", ctype.encode("ascii"))]
            if not gz and ctype in SSI_TYPES and snap.size <= self.limits.ssi_max:
                page = await snap.read(0, snap.size)
                scratch: dict[str, Any] = {}
                body = ssi.render(page, lambda f: self.provider.ssi(f, scratch))
                await self._send(io, status, body, extra, cache=body == page)
                return
            if gz:
                extra.append((b"Content-Encoding", b"gzip"))
            await self._send_stream(io, status, snap, snap.size, extra)
        finally:
            snap.close()

    async def _post(
        self, io: _Io, target: Target, headers: dict[bytes, bytes], body: bytes
    ) -> None:
        ctype = headers.get(b"content-type", b"").decode("latin-1")
        if target.name == CONFIG_NAME:
            if ctype.lower().startswith("multipart/form-data"):
                try:
                    fields = _multipart(ctype, body)[1]  # its files, if any, are not stored
                except ValueError:
                    await self._error(io, 400)
                    return
            else:
                fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            ok, text = await self.provider.remote_config(fields)
            await self._page(io, 200 if ok else 403, "Remote configuration", text)
            return
        if ctype.lower().startswith("multipart/form-data"):
            try:
                files, fields = _multipart(ctype, body)
            except ValueError as e:
                self.events.note(f"web server: bad multipart body: {e}")
                await self._error(io, 400)
                return
            fs = self._fs()
            saved = []
            for fname, data in files:
                if fs is None:
                    await self._error(io, 503)
                    return
                try:
                    await fs.write(f"{USER}:/{fname}", data)
                except ServiceError as e:  # the file system's FsFault
                    self.events.note(f"web server: upload {fname}: {e.detail or e}")
                    await self._error(io, 507)
                    return
                saved.append(fname)
                self.events.file_received(fname)
            if fields:
                self.events.form_output(urlencode(fields).encode("utf-8"))
            if fs is not None and target.name and fs.exists(target.name):
                await self._file(io, target)
                return
            names = ", ".join(saved) or "none"
            await self._page(io, 200, "Upload", f"Files received: {names}")
            return
        self.events.form_output(body)
        fs = self._fs()
        if fs is not None and target.name and _exists(fs, target.name):
            await self._file(io, target)
            return
        await self._page(io, 200, "Sent", f"{len(body)} bytes sent to the module's host.")

    # -- responses ---------------------------------------------------------------------------
    def _date(self, offset: int = 0) -> bytes:
        t = int(self._now()) + offset
        cached = self._dates.get(t)
        if cached is None:
            if len(self._dates) > 8:
                self._dates.clear()
            from email.utils import formatdate  # at the first answer, not at boot

            cached = self._dates[t] = formatdate(t, usegmt=True).encode("ascii")
        return cached

    def _headers(self, cache: bool) -> list[tuple[bytes, bytes]]:
        out = [(b"Server", SERVER), (b"Date", self._date())]
        if cache:
            age = self.limits.static_max_age
            out.append((b"Cache-Control", b"max-age=%d" % age))
            out.append((b"Expires", self._date(age)))
        else:
            out.append((b"Cache-Control", b"no-store"))
            out.append((b"Expires", self._date()))
        return out

    async def _send(
        self,
        io: _Io,
        status: int,
        body: bytes,
        extra: list[tuple[bytes, bytes]],
        *,
        cache: bool = False,
        close: bool = False,
    ) -> None:
        import h11

        hdrs = self._headers(cache) + extra
        if status not in (204, 304):
            hdrs.append((b"Content-Length", b"%d" % len(body)))
        if close:
            hdrs.append((b"Connection", b"close"))
        await io.send(h11.Response(status_code=status, headers=hdrs, reason=_reason(status)))
        if body and not io.head and status not in (204, 304):
            await io.send(h11.Data(data=body))
        await io.send(h11.EndOfMessage())

    async def _send_stream(
        self,
        io: _Io,
        status: int,
        snap: Any,
        size: int,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        import h11

        hdrs = self._headers(True) + extra + [(b"Content-Length", b"%d" % size)]
        await io.send(h11.Response(status_code=status, headers=hdrs, reason=_reason(status)))
        if not io.head:
            offset = 0
            while offset < size:
                chunk = await snap.read(offset, min(self.limits.chunk, size - offset))
                if not chunk:  # the file shrank under us: the client sees a short body
                    raise _Close()
                offset += len(chunk)
                await io.send(h11.Data(data=chunk))
        await io.send(h11.EndOfMessage())

    async def _page(self, io: _Io, status: int, title: str, text: str) -> None:
        body = (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
            f'<p id="result">{html.escape(text)}</p><p><a href="/">Home</a></p>'
            "</body></html>"
        ).encode()
        await self._send(io, status, body, [(b"Content-Type", b"text/html; charset=utf-8")])

    async def _error(
        self,
        io: _Io,
        status: int,
        *,
        close: bool = False,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        import h11

        if io.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            raise _Close()
        reason = _reason(status).decode()
        body = f"<html><body><h1>{status} {reason}</h1></body></html>\n".encode()
        extra = [(b"Content-Type", b"text/html")] + (headers or [])
        try:
            await self._send(io, status, body, extra, close=close)
        except h11.LocalProtocolError:
            raise _Close() from None


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b"Error"


class _TooBig(Exception):
    pass


class _Io:
    """One h11 connection over an asyncio stream pair, with the server's deadlines."""

    def __init__(
        self,
        conn: Any,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        limits: Limits,
        idle: dict[_Io, None],
    ) -> None:
        self.conn = conn
        self.reader = reader
        self.writer = writer
        self.limits = limits
        self.started = False  # bytes of the current request have arrived
        self._out = bytearray()
        self.head = False  # the request being answered is a HEAD
        self._idle = idle  # the server's idle set: we are in it while waiting between requests

    async def _more(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            data = await self.reader.read(65536)
        self.conn.receive_data(data)
        if data:
            self.started = True

    async def request(self) -> Any:
        """The next Request, or None when the client closed cleanly before one."""
        import h11

        self.started = bool(self.conn.trailing_data[0])
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                if self.started and deadline is None:
                    deadline = loop.time() + self.limits.header_timeout
                if deadline is None:
                    self._idle[self] = None
                    try:
                        await self._more(self.limits.idle_timeout)
                    finally:
                        self._idle.pop(self, None)
                else:
                    left = deadline - loop.time()
                    if left <= 0:
                        raise TimeoutError
                    await self._more(left)
                continue
            if isinstance(event, h11.Request):
                # h11 bounds only an incomplete head; one that arrived whole is measured here.
                size = len(event.method) + len(event.target) + 12
                size += sum(len(k) + len(v) + 4 for k, v in event.headers.raw_items())
                if size > self.limits.max_header_bytes:
                    raise h11.RemoteProtocolError("request head too long", 431)
                return event
            if isinstance(event, h11.ConnectionClosed):
                return None
            raise h11.RemoteProtocolError(f"unexpected {type(event).__name__}", 400)

    async def body(self, limit: int) -> bytes:
        import h11

        out = bytearray()
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                await self._more(self.limits.body_timeout)
                continue
            if isinstance(event, h11.Data):
                out += event.data
                if len(out) > limit:
                    raise _TooBig()
                continue
            if isinstance(event, h11.EndOfMessage):
                return bytes(out)
            if isinstance(event, h11.ConnectionClosed):
                raise _Close()
            raise h11.RemoteProtocolError(f"unexpected {type(event).__name__}", 400)

    async def discard_body(self) -> None:
        with contextlib.suppress(Exception):
            await self.body(self.limits.max_body)

    async def send(self, event: Any) -> None:
        """Gathered into one write per response (or per chunk of a long body)."""
        import h11

        data = self.conn.send(event)
        if data:
            self._out += data
        if isinstance(event, h11.EndOfMessage) or len(self._out) >= self.limits.chunk:
            self.writer.write(bytes(self._out))
            self._out.clear()
            await self.writer.drain()


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


async def _open(fs: Any, name: str) -> tuple[Any, bool]:
    """(snapshot, gzip?) of the stored file that answers ``name``: ``name`` itself, else
    ``name.gz`` (sent with Content-Encoding: gzip); (None, False) when neither exists, or
    when it is a file of a locked application flash that is no web page (see _private)."""
    for stored, gz in ((name, False), (name + ".gz", True)):
        if not valid_name(stored) or _private(fs, stored, name):
            continue
        try:
            return await fs.open(stored), gz
        except ServiceError:  # the file system's FsFault
            continue
    return None, False


def _private(fs: Any, stored: str, name: str) -> bool:
    """A locked application flash (``__LOCKED__``) serves its web pages, and nothing else:
    its scripts and data files (a MicroPython script, raw files) stay as private as the lock
    keeps them from the console."""
    if not getattr(fs, "locked", False) or content_type(name) != UNKNOWN:
        return False
    for vid in (RAM, EXT, USER):  # the file system's order: these come before the app flash
        vol = fs.volumes.get(vid)
        if vid in fs.mounted and vol is not None and vol.size(stored) is not None:
            return False
    return True


def _exists(fs: Any, name: str) -> bool:
    gz = name + ".gz"
    return bool(fs.exists(name) or (valid_name(gz) and fs.exists(gz)))


def _multipart(ctype: str, body: bytes) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    """(files, text fields) of a multipart/form-data body. Raises ValueError."""
    from email.parser import BytesParser
    from email.policy import HTTP

    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    )
    if not msg.is_multipart():
        raise ValueError("not a multipart body")
    files: list[tuple[str, bytes]] = []
    fields: list[tuple[str, str]] = []
    for part in msg.iter_parts():
        disp = part.get("Content-Disposition", "")
        if not str(disp).lower().startswith("form-data"):
            continue
        raw = part.get_payload(decode=True) or b""
        filename = part.get_param("filename", header="content-disposition")
        field = part.get_param("name", header="content-disposition") or ""
        if filename is not None:
            base = str(filename).replace("\\", "/").rsplit("/", 1)[-1]
            if not base:
                continue  # an empty file input
            if not valid_name(base) or base == "__LOCKED__" or ":" in base:
                raise ValueError(f"bad file name {base!r}")
            files.append((base, raw))
        else:
            fields.append((str(field), raw.decode("utf-8", "replace")))
    return files, fields
