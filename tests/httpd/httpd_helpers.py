"""Modules with their web server, and a real HTTP client (h11 over a loopback socket).

Import ``web`` into a test module to use it as a fixture."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import h11
import pytest

from harness import TIMEOUT, InProcessModule

Boot = Callable[..., Awaitable[InProcessModule]]

LAB_WORLD = """
[[ap]]
ssid = "STTest"
channel = 11

[[ap]]
ssid = "LabNet"
channel = 6
security = "wpa2"
passphrase = "lab passphrase 42"
network = "10.9.0.0/24"
"""


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Boot]:
    """``await web(world=TOML or None, ext_folder=None, port_map=None, **config)``: a booted
    module (echo off) whose saved configuration holds ``config`` before it powers on."""
    made: list[InProcessModule] = []

    async def make(
        world: str | None = None,
        ext_folder: Path | None = None,
        port_map: dict[int, int] | None = None,
        **config: object,
    ) -> InProcessModule:
        opts: dict[str, object] = {}
        if world is not None:
            path = tmp_path / f"world{len(made)}.toml"
            path.write_text(world)
            opts["world"] = path
        if ext_folder is not None:
            opts["ext_folder"] = ext_folder
        if port_map is not None:
            opts["port_map"] = port_map
        m = InProcessModule(tmp_path / f"state{len(made)}", **opts)
        m.device.config.set("console_echo", "0")
        for name, value in config.items():
            m.device.config.set(name, str(value))
        m.device.config.save()
        made.append(m)
        await m.boot()
        return m

    yield make
    for m in made:
        await m.device.shutdown()


def port(m: InProcessModule) -> int:
    server = m.device.httpd
    assert server is not None and server.http_port is not None
    return int(server.http_port)


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    reason: bytes = b""


async def request(
    p: int,
    method: str = "GET",
    target: str = "/",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    host: str = "127.0.0.1",
    ssl: object = None,
) -> Reply:
    """One request on a new connection; the reply."""
    hdrs = [("Host", host), ("Connection", "close"), *(headers or [])]
    if body or method == "POST":
        hdrs.append(("Content-Length", str(len(body))))
    conn = h11.Connection(h11.CLIENT)
    reader, writer = await asyncio.open_connection("127.0.0.1", p, ssl=ssl)  # type: ignore[arg-type]
    try:
        writer.write(conn.send(h11.Request(method=method, target=target, headers=hdrs)))
        if body:
            writer.write(conn.send(h11.Data(data=body)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()
        return await asyncio.wait_for(_read_reply(conn, reader), TIMEOUT)
    finally:
        writer.close()


async def _read_reply(conn: h11.Connection, reader: asyncio.StreamReader) -> Reply:
    reply = Reply(0)
    out = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
            continue
        if isinstance(event, h11.Response):
            reply.status = event.status_code
            reply.reason = bytes(event.reason)
            reply.headers = {k.decode().lower(): v.decode("latin-1") for k, v in event.headers}
        elif isinstance(event, h11.Data):
            out += event.data
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            reply.body = bytes(out)
            return reply


async def raw(p: int, data: bytes) -> bytes:
    """Send raw bytes; everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", p)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()


async def wind(m: InProcessModule, prefix: bytes) -> bytes:
    """The next line starting with ``prefix``, whole (without CR LF)."""
    await m.read_until(prefix)
    rest = await m.read_until(b"\r\n")
    return prefix + rest[:-2]


async def ok(m: InProcessModule, line: str, data: bytes = b"") -> bytes:
    out = await m.cmd(line, data, echo=False)
    assert out.endswith(b"AT-S.OK\r\n"), out
    return out[: -len(b"AT-S.OK\r\n")]
