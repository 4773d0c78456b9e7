"""The client's tftp_get / tftp_put / send_mail against the virtual module over a loopback
TCP console, with tftpy's server and aiosmtpd as the peers."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator

import pytest
from smtp_peers import Sink, server_ctx, smtp_server
from tftp_peers import fast, tftpy_server

from atwifi.client import AsyncClient
from atwifi.client.errors import AtCommandError, CertificateError


@pytest.fixture
async def client(module) -> AsyncIterator[AsyncClient]:
    fast(module)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        module.device.attach(writer.write, writer.drain)
        while data := await reader.read(65536):
            module.device.feed(data)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    c = await AsyncClient.open(f"socket://127.0.0.1:{port}")
    try:
        yield c
    finally:
        await c.close()
        server.close()


async def test_tftp_helpers(client, tmp_path):
    root = tmp_path / "root"
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "cfg.txt").write_bytes(b"a=1\n")
    with tftpy_server(root) as port:
        await client.tftp_get("127.0.0.1", "dir/cfg.txt", port=port)
        assert await client.download("2:/cfg.txt") == b"a=1\n"
        await client.tftp_get("localhost", "dir/cfg.txt", local="1:/c.txt", port=port)
        await client.upload("2:/out.bin", b"\x00\x01" * 700)
        await client.tftp_put("127.0.0.1", "2:/out.bin", port=port)
        with pytest.raises(AtCommandError) as e:
            await client.tftp_get("127.0.0.1", "nosuch", port=port)
        assert e.value.number == 51
    assert await client.download("1:/c.txt") == b"a=1\n"
    assert (root / "out.bin").read_bytes() == b"\x00\x01" * 700
    with pytest.raises(ValueError):
        await client.tftp_get("127.0.0.1", "a,b")


async def test_send_mail(client):
    sink = Sink()
    srv, port = await smtp_server(sink, auth=True)
    async with srv:
        await client.send_mail(
            "localhost",
            "me@x.test",
            ["a@x.test", "Nick <n@x.test>"],
            "Grüße",
            "Hallo Welt\n",
            port=port,
            username="mod",
            password="s3cret",
            helo="bench-1",
        )
        with pytest.raises(ValueError):
            await client.send_mail("localhost", "me@x.test", "a@x.test", "a, b", b"", port=port)
    (mail,) = sink.mails
    assert mail.rcpt_tos == ["a@x.test", "n@x.test"] and mail.helo == "bench-1"
    assert mail.user == b"mod"
    msg = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert msg["subject"] == "Grüße"
    assert msg["to"] == "a@x.test, Nick <n@x.test>"
    assert msg.get_content() == "Hallo Welt\r\n" or msg.get_content() == "Hallo Welt\n"


async def test_send_mail_certificate_error(client):
    import trustme

    sink = Sink()
    srv, port = await smtp_server(sink, implicit=server_ctx(trustme.CA()))
    async with srv:
        with pytest.raises(CertificateError):
            await client.send_mail(
                "localhost", "me@x.test", "a@x.test", "s", b"x", port=port, tls=9
            )
    assert not sink.mails
