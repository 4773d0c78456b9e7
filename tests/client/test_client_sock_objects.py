"""The client's socket objects against the virtual module, over a TCP console on loopback
and over the SPI console (tests/spi_consoles.py)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import pytest

from atwifi.client import aio  # noqa: E402
from peers import echo_server as echo
from spi_consoles import TwoConsoles

SockClient = aio.AsyncClient  # SocketsMixin is one of its MIXINS


@pytest.fixture(params=["uart", "spi"])
async def client(request, tmp_path) -> AsyncIterator[SockClient]:
    """A joined module (sockets need the default world's join: error 60), its console the
    UART (raw TCP) or SPI (console_enabled=0, the bus stand-in): the same tests on both."""
    m = TwoConsoles(tmp_path)
    if request.param == "spi":
        m.save_console(0)
    await m.start()
    c = await SockClient.open(m.url(request.param), timeout=10)
    if request.param == "uart":
        await c.command("AT+S.SCFG=console_echo,0")
    yield c
    await c.close()
    await m.stop()


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
