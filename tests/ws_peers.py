"""A real WebSocket server (the ``websockets`` library) on 127.0.0.1 for the tests.

Endpoints by path:
  /echo                 every message back, same type
  /frag?n=3             on "go": a text message in n frames (continuation frames)
  /binfrag?n=3          on "go": a binary message in n frames
  /close/<code>         on "bye": closes with <code>, reason "bye"
  /closenow/<code>      closes with <code> right after the upgrade
  /check                answers one text message: the subprotocol, Origin, user and password
                        seen (JSON), after checking Basic auth when /check?auth=user:pass
  /ping                 sends a ping, then a text message "pong ok" once the pong came
  /flood?mb=4           on a first message, sends <mb> MB in 64 KB binary messages, then "end"
  /tinyflood?n=5000     on a first message, sends n empty binary frames, then "end"
  /drop                 on "drop": drops TCP without a Close frame
  /frames               logs each frame it receives (opcode, fin, payload) and, on a text
                        message "report", sends the log as JSON
  /reject/<status>      refuses the upgrade with HTTP <status>
  /silent               accepts TCP, never answers the upgrade (see ``silent_server``)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Opcode


def _query(path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}


class WsPeer:
    """The server and what it saw."""

    def __init__(self) -> None:
        self.port = 0
        self.seen: list[dict[str, Any]] = []  # one entry per connection: path, headers
        self.frames: list[tuple[str, bool, bytes]] = []  # /frames: (opcode, fin, payload)
        self.closed_codes: list[int | None] = []  # close code each connection ended with
        self.connections = 0
        self.done = asyncio.Event()  # a handler finished

    async def process_request(self, conn: ServerConnection, request: Any) -> Any:
        path = urlsplit(request.path).path
        self.seen.append({"path": request.path, "headers": dict(request.headers.raw_items())})
        if path.startswith("/reject/"):
            return conn.respond(HTTPStatus(int(path.rsplit("/", 1)[1])), "refused\n")
        if path == "/check":
            want = _query(request.path).get("auth")
            if want is not None:
                got = request.headers.get("Authorization", "")
                expect = "Basic " + base64.b64encode(want.encode()).decode()
                if got != expect:
                    return conn.respond(HTTPStatus.UNAUTHORIZED, "auth\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        path = urlsplit(ws.request.path).path
        q = _query(ws.request.path)
        try:
            await self._serve(ws, path, q)
        except Exception:
            pass
        finally:
            with contextlib.suppress(Exception):
                await ws.wait_closed()
            self.closed_codes.append(ws.close_code)
            self.done.set()

    async def _serve(self, ws: ServerConnection, path: str, q: dict[str, str]) -> None:
        if path == "/echo":
            async for m in ws:
                await ws.send(m)
        elif path in ("/frag", "/binfrag"):
            n = int(q.get("n", "3"))
            async for m in ws:
                if m == "go":
                    if path == "/frag":
                        await ws.send([f"part{i}-" for i in range(n)])
                    else:
                        await ws.send([bytes([i]) * 4 for i in range(n)])
        elif path.startswith("/close/"):
            code = int(path.rsplit("/", 1)[1])
            async for m in ws:
                if m == "bye":
                    await ws.close(code, "bye")
                    return
        elif path.startswith("/closenow/"):
            await ws.close(int(path.rsplit("/", 1)[1]), "now")
        elif path == "/check":
            h = ws.request.headers
            auth = h.get("Authorization", "")
            user = pw = ""
            if auth.startswith("Basic "):
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            await ws.send(
                json.dumps(
                    {
                        "subprotocol": ws.subprotocol,
                        "origin": h.get("Origin"),
                        "user": user,
                        "password": pw,
                        "extensions": h.get("Sec-WebSocket-Extensions"),
                        "host": h.get("Host"),
                    }
                )
            )
            async for _ in ws:
                pass
        elif path == "/ping":
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 10)
            await ws.send("pong ok")
            async for _ in ws:
                pass
        elif path == "/flood":
            await ws.recv()  # "go"
            chunk = b"x" * 65536
            for _ in range(int(float(q.get("mb", "4")) * 16)):
                await ws.send(chunk)
            await ws.send("end")
            async for _ in ws:
                pass
        elif path == "/tinyflood":
            await ws.recv()  # "go"
            for _ in range(int(q.get("n", "5000"))):
                await ws.send(b"")
            await ws.send("end")
            async for _ in ws:
                pass
        elif path == "/drop":
            async for m in ws:
                if m == "drop":
                    ws.transport.abort()  # no Close frame: the connection is just lost
                    return
        elif path == "/frames":
            async for m in ws:
                if m == "report":
                    await ws.send(json.dumps([[o, f, p.hex()] for o, f, p in self.frames]))

    def _log_frames(self, ws: ServerConnection) -> None:
        # Record each data frame as it arrives (below message reassembly).
        proto = ws.protocol
        orig = proto.recv_frame

        def recv_frame(frame: Any) -> None:
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                self.frames.append((frame.opcode.name, frame.fin, bytes(frame.data)))
            orig(frame)

        proto.recv_frame = recv_frame  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def ws_server(
    ssl_ctx: ssl.SSLContext | None = None, subprotocols: list[str] | None = None, **kw: Any
) -> AsyncIterator[WsPeer]:
    peer = WsPeer()

    async def handler(ws: ServerConnection) -> None:
        if urlsplit(ws.request.path).path == "/frames":
            peer._log_frames(ws)
        await peer.handler(ws)

    async with serve(
        handler,
        "127.0.0.1",
        0,
        ssl=ssl_ctx,
        process_request=peer.process_request,
        subprotocols=subprotocols,  # type: ignore[arg-type]
        ping_interval=None,
        **kw,
    ) as server:
        peer.port = server.sockets[0].getsockname()[1]
        yield peer


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts TCP connections and never says anything."""
    held: list[asyncio.StreamWriter] = []

    async def hold(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()


def free_port() -> int:
    """A port nothing listens on (for a refused connect)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def raw_ws_server(
    after_upgrade: bytes, accept: str | None = None, headers: bytes = b""
) -> AsyncIterator[int]:
    """A hand-made server: answers the upgrade (with ``accept`` instead of the right
    Sec-WebSocket-Accept when given, and ``headers``, CRLF-terminated lines), then sends
    ``after_upgrade`` verbatim and waits."""
    import hashlib

    held: list[asyncio.StreamWriter] = []

    async def serve_one(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)
        head = await r.readuntil(b"\r\n\r\n")
        key = ""
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-key":
                key = value.strip()
        guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        good = base64.b64encode(hashlib.sha1((key + guid).encode()).digest()).decode()
        w.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + (accept if accept is not None else good).encode()
            + b"\r\n"
            + headers
            + b"\r\n"
            + after_upgrade
        )
        with contextlib.suppress(Exception):
            await r.read()

    server = await asyncio.start_server(serve_one, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()
