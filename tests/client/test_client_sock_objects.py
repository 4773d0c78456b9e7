"""The client's socket objects against the virtual module, over a TCP console on loopback."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atwifi.client import aio  # noqa: E402
from atwifi.spwf04.device import Device, Options  # noqa: E402
from peers import echo_server as echo


class Console:
    """The in-process module behind one TCP console connection on 127.0.0.1."""

    def __init__(self, state: Path) -> None:
        self.device = Device(Options(state_dir=state))
        self.device.attach(self._write)
        self.writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()

    def _write(self, data: bytes) -> None:
        if self.writer is not None:
            self.writer.write(data)

    async def _serve(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.writer = w
        self.connected.set()
        while data := await r.read(65536):
            self.device.feed(data)

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"socket://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.server.close()
        await self.device.shutdown()


SockClient = aio.AsyncClient  # SocketsMixin is one of its MIXINS


@pytest.fixture
async def client(tmp_path) -> AsyncIterator[SockClient]:
    console = Console(tmp_path / "state")
    url = await console.start()
    c = await SockClient.open(url, timeout=10)
    await asyncio.wait_for(console.connected.wait(), 10)
    await console.device.power_on()
    await c.wait_wind(32, timeout=10)
    await c.wait_wind(24, timeout=30)  # sockets need the join of the default world (error 60)
    await c.command("AT+S.SCFG=console_echo,0")
    yield c
    await c.close()
    await console.close()


async def test_client_socket_echo(client):
    srv, port = await echo()
    async with srv:
        sock = await client.socket_open("127.0.0.1", port)
        payload = os.urandom(200_000)
        got = bytearray()
        view = memoryview(payload)
        for i in range(0, len(payload), 7300):
            await sock.write(bytes(view[i : i + 7300]))
            while len(got) < i and sock.unread_hint:
                got += await sock.read()
        got += await sock.recv_exactly(len(payload) - len(got), timeout=20)
        assert got == payload
        assert await client.socket_list() == [f":{sock.id}:1:t:0:127.0.0.1:{port}"]
        await sock.close()


async def test_client_server_objects(client):
    srv = await client.socket_listen(0, "t")
    port = client._sockets_watch().servers[srv.id].port  # 0 -> module shows the real port
    listing = (await client.command("AT+S.SOCKDL")).values("AT-S.List:")
    port = int(listing[0].rsplit(":", 1)[1])
    r, w = await asyncio.open_connection("127.0.0.1", port)
    peer = await srv.accept(timeout=10)
    w.write(b"question")
    assert await peer.recv_exactly(8, timeout=10) == b"question"
    await peer.write(b"answer")
    assert await r.readexactly(6) == b"answer"
    w.close()
    assert await peer.recv(timeout=10) == b""
    assert peer.peer_closed
    await srv.close()


async def test_client_tls_certificate_error(client):
    import ssl

    import trustme

    from atwifi.client import CertificateError

    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    await client.tls_load_all(ca=ca.cert_pem.bytes())
    assert (await client.tls_list())[0].startswith("Ca:")
    srv, port = await echo(ssl=ctx)
    async with srv:
        with pytest.raises(CertificateError) as e:
            await client.socket_open("localhost", port, "s")
        assert e.value.number == 21  # the module's clock was never set
        await client.command(f"AT+S.TIME={int(time.time())}")
        sock = await client.socket_open("localhost", port, "s")
        await sock.write(b"tls")
        assert await sock.recv_exactly(3, timeout=10) == b"tls"
