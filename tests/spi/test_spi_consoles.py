"""The same client-level assertions through the UART console and through the SPI console:
one module, both consoles wired; the test's parameter says which one the module boots into
(console_enabled 1 or 0) and which one the client talks to."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from atwifi.client import AsyncClient, AtCommandError, CertificateError
from peers import echo_server
from spi_consoles import TIMEOUT, TwoConsoles


@pytest.fixture(params=["uart", "spi"])
async def client(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    m = TwoConsoles(tmp_path)
    if request.param == "spi":
        m.save_console(0)
    await m.start()
    try:
        async with await AsyncClient.open(m.url(request.param), timeout=TIMEOUT) as c:
            c.clear_winds()
            yield c
    finally:
        await m.stop()


async def test_at(client: AsyncClient) -> None:
    reply = await client.command("AT")
    assert reply.ok and reply.lines == [] and reply.final == "AT-S.OK"


async def test_config(client: AsyncClient) -> None:
    await client.set_config("user_desc", "bench 7")
    assert await client.get_config("user_desc") == "bench 7"
    await client.set_config("ip_hostname", "")
    assert await client.get_config("ip_hostname") == ""
    config = await client.get_config()
    assert isinstance(config, dict) and config["user_desc"] == "bench 7"


async def test_status(client: AsyncClient) -> None:
    assert await client.status("wifi_state") == "10"
    status = await client.status()
    assert isinstance(status, dict) and "ip_ipaddr" in status


async def test_files(client: AsyncClient) -> None:
    data = bytes(range(256)) * 9 + b"\r\nAT-S.OK\r\n\x02\x00"  # over one SPI packet's payload
    await client.upload("spi.bin", data)
    assert await client.download("spi.bin") == data
    assert await client.download("spi.bin", 250, 10) == data[250:260]
    names = [f.name for f in await client.list_files()]
    assert "spi.bin" in names


async def test_socket_echo_and_wind55(client: AsyncClient) -> None:
    srv, port = await echo_server()
    async with srv:
        sock = await client.socket_open("127.0.0.1", port)
        payload = b"ping\r\n\x02\x00\xff" * 100
        await sock.write(payload)
        wind = await client.wait_wind(55, timeout=TIMEOUT)
        assert wind.fields[:2] == ["", str(sock.id)]
        assert await sock.recv_exactly(len(payload), timeout=TIMEOUT) == payload
        await sock.close()


async def test_error_reply(client: AsyncClient) -> None:
    with pytest.raises(AtCommandError) as e:
        await client.command("AT+S.SOCKQ=7")
    assert e.value.number == 76 and e.value.line.startswith("AT-S.ERROR:76:Illegal Socket ID")
    with pytest.raises(AtCommandError) as e:
        await client.command("AT+S.NOSUCH")
    assert e.value.number == 1
    assert (await client.command("AT")).ok


async def test_tls_certificate_error(client: AsyncClient) -> None:
    """The module's clock is in 1970: the server's certificate is not valid yet (21)."""
    ca = trustme.CA()
    await client.tls_load("ca", ca.cert_pem.bytes())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    srv, port = await echo_server(ctx)
    async with srv:
        with pytest.raises(CertificateError) as e:
            await client.socket_open("localhost", port, "s")
        assert e.value.number == 21 and e.value.line == "AT-S.Certificate Error:21"
    assert (await client.command("AT")).ok


async def test_http_get_body(client: AsyncClient) -> None:
    """HTTPGET's status line, then a body longer than one SPI packet."""
    import asyncio

    body = bytes(range(256)) * 12 + b"\r\nthe end\r\n"

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await r.readuntil(b"\r\n\r\n")
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        w.write(head + body)
        await w.drain()
        w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        response = await client.http_get("127.0.0.1", "/x", port=port)
    assert response.status == 200 and response.body == body
