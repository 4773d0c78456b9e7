"""The client's HTTP helpers against the virtual module over a loopback TCP console, and the
parser's stream mode on its own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from http_peers import WebPeer, pattern

from atwifi.client import AsyncClient as Client
from atwifi.client.errors import HttpClientError
from atwifi.client.protocol import STREAM, Parser
from atwifi.services import firmware
from atwifi.services.fs import image


@pytest.fixture
async def client(module) -> AsyncIterator[Client]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        module.device.attach(writer.write, writer.drain)
        while data := await reader.read(65536):
            module.device.feed(data)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    c = await Client.open(f"socket://127.0.0.1:{port}")
    try:
        yield c
    finally:
        await c.close()
        server.close()


@pytest.fixture
async def peer():
    p = WebPeer()
    await p.start()
    yield p
    await p.stop()


async def test_get_post_and_errors(client: Client, peer: WebPeer) -> None:
    r = await client.http_get("127.0.0.1", port=peer.port)
    assert r.status == 200 and r.body == b"<html>hello from the index</html>"
    n = 500_000
    big = await client.http_get("127.0.0.1", f"/large?n={n}", port=peer.port)
    assert big.body == pattern(n)
    no = await client.http_get("127.0.0.1", "/auth", port=peer.port)
    assert no.status == 401
    yes = await client.http_get(
        "127.0.0.1", "/auth", port=peer.port, username="user", password="secret"
    )
    assert yes.body == b"welcome, user"
    await client.upload("2:/form.form", b"a=1&b=2")
    posted = await client.http_post("127.0.0.1", "/echo", port=peer.port, file="2:/form.form")
    reply = json.loads(posted.body)
    assert reply["content_type"] == "application/x-www-form-urlencoded"
    assert reply["body"] == "a=1&b=2"
    saved = await client.http_get("127.0.0.1", "/chunked", port=peer.port, save_to="2:/c.txt")
    assert saved.status == 200 and saved.body == b""
    assert await client.download("2:/c.txt") == b"".join(b"chunk %d;" % i for i in range(5))
    with pytest.raises(HttpClientError) as e:
        await client.http_get("no-such-host.invalid")
    assert e.value.number == 0
    assert (await client.http_get("127.0.0.1", port=peer.port)).status == 200


async def test_updates(client: Client, peer: WebPeer) -> None:
    peer.files["fs.img"] = image.pack({"hello.txt": b"hi"})
    assert await client.update_fs("e", "127.0.0.1", "/files/fs.img", port=peer.port) == 200
    assert await client.download("1:/hello.txt") == b"hi"
    build = "261201-0000001-SPWF04S"
    peer.files["fw.fota"] = firmware.pack("3.0.0", build)
    status = await client.update_fw("127.0.0.1", "/files/fw.fota", port=peer.port, reset=True)
    assert status == 200
    assert (await client.command("AT+S.STS=build")).lines == [f"AT-S.Var:build={build}"]


def test_stream_mode_cut_anywhere() -> None:
    """The body runs until the final line, whatever the read boundaries; CR LF, WIND-like
    text and partial final lines inside the body stay body."""
    body = b"line\r\n+WIND:55:x\r\nAT-S.O\r\nAT-S.OKAY\r\n" + bytes(range(256))
    wire = b"AT-S.Http Server Status Code:200\r\n" + body + b"AT-S.OK\r\n"
    for step in (1, 2, 3, 7, 64, len(wire)):
        p = Parser()
        p.start("AT+S.HTTPGET=h", {"AT-S.Http Server Status Code:": STREAM})
        events = []
        for i in range(0, len(wire), step):
            events += p.feed(wire[i : i + step])
        assert len(events) == 1, step
        assert events[0].ok and events[0].raw == body, step
        assert events[0].lines == ["AT-S.Http Server Status Code:200"]


def test_stream_mode_error_after_part_of_the_body() -> None:
    p = Parser()
    p.start("AT+S.HTTPGET=h", {"AT-S.Http Server Status Code:": STREAM})
    (reply,) = p.feed(b"AT-S.Http Server Status Code:200\r\npartAT-S.Http Client Error:4\r\n")
    assert not reply.ok and reply.error_kind == "http" and reply.error_number == 4
    assert reply.raw == b"part"
