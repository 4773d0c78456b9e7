"""Real HTTP(S) peers on 127.0.0.1 for the HTTP client's tests (aiohttp, trustme).

``WebPeer`` serves every endpoint the tests need on a plain and a TLS port; ``raw_server``
is a bare TCP server for replies no HTTP server would send (garbage, cuts, resets).
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import Awaitable, Callable

import trustme
from aiohttp import web

PATTERN = bytes(range(256))


def pattern(n: int) -> bytes:
    whole, rest = divmod(n, len(PATTERN))
    return PATTERN * whole + PATTERN[:rest]


class WebPeer:
    def __init__(self, ca: trustme.CA | None = None, name: str = "localhost") -> None:
        self.ca = ca
        self.name = name
        self.files: dict[str, bytes] = {}  # path -> body served as is (images...)
        self.requests: list[dict] = []
        self.release = asyncio.Event()  # /slow and /stall wait for it
        self.app = web.Application()
        r = self.app.router
        r.add_route("*", "/index.html", self.index)
        r.add_route("*", "/echo", self.echo)
        r.add_get("/auth", self.auth)
        r.add_get("/chunked", self.chunked)
        r.add_get("/large", self.large)
        r.add_get("/slow", self.slow)
        r.add_get("/stall", self.stall)
        r.add_get("/redirect", self.redirect)
        r.add_get("/loop", self.loop)
        r.add_get("/status/{code}", self.status)
        r.add_get("/files/{name}", self.file)
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.tls_port = 0

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        if self.ca is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ca.issue_cert(self.name, "127.0.0.1").configure_cert(ctx)
            tls_site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=ctx)
            await tls_site.start()
            self.tls_port = tls_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self.release.set()
        if self.runner is not None:
            await self.runner.cleanup()

    def _note(self, request: web.Request, body: bytes) -> None:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path_qs,
                "headers": dict(request.headers),
                "body": body,
            }
        )

    async def index(self, request: web.Request) -> web.Response:
        self._note(request, await request.read())
        return web.Response(body=b"<html>hello from the index</html>", content_type="text/html")

    async def echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        self._note(request, body)
        out = {
            "method": request.method,
            "path": request.path_qs,
            "content_type": request.headers.get("Content-Type"),
            "length": len(body),
            "body": body.decode("latin-1"),
            "host": request.headers.get("Host"),
        }
        return web.Response(body=json.dumps(out, sort_keys=True).encode())

    async def auth(self, request: web.Request) -> web.Response:
        self._note(request, b"")
        want = "Basic " + base64.b64encode(b"user:secret").decode()
        if request.headers.get("Authorization") != want:
            return web.Response(status=401, body=b"who are you?")
        return web.Response(body=b"welcome, user")

    async def chunked(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for i in range(5):
            await resp.write(b"chunk %d;" % i)
        await resp.write_eof()
        return resp

    async def large(self, request: web.Request) -> web.StreamResponse:
        n = int(request.query.get("n", "1000000"))
        resp = web.StreamResponse()
        resp.content_length = n
        await resp.prepare(request)
        sent = 0
        while sent < n:
            piece = pattern(min(65536, n - sent))
            await resp.write(piece)
            sent += len(piece)
        await resp.write_eof()
        return resp

    async def slow(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 100
        await resp.prepare(request)
        await resp.write(b"first part;")
        await self.release.wait()
        return resp

    async def stall(self, request: web.Request) -> web.Response:
        await self.release.wait()
        return web.Response(body=b"too late")

    async def redirect(self, request: web.Request) -> web.Response:
        to = request.query.get("to", "/index.html")
        return web.Response(status=302, headers={"Location": to}, body=b"moved")

    async def loop(self, request: web.Request) -> web.Response:
        return web.Response(status=301, headers={"Location": "/loop"}, body=b"again")

    async def status(self, request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        return web.Response(status=code, body=b"status body %d" % code)

    async def file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404, body=b"no such file")
        return web.Response(body=data)


Handle = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def raw_server(handle: Handle) -> tuple[asyncio.Server, int]:
    """A bare TCP server running ``handle`` per connection (reads the request head first)."""

    async def run(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            await r.readuntil(b"\r\n\r\n")
            await handle(r, w)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            w.close()

    srv = await asyncio.start_server(run, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1]


def cut_after(head: bytes, body: bytes) -> Handle:
    """Answer ``head`` and ``body`` then hang up (a cut reply)."""

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(head + body)
        await w.drain()
        w.close()

    return handle


def reset_after(data: bytes) -> Handle:
    """Send ``data`` then reset the connection (RST)."""

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(data)
        await w.drain()
        w.transport.abort()

    return handle
