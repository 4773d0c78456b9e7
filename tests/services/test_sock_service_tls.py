"""TLS client and server sockets against real Python ssl peers, checked at the module's time."""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from sock_helpers import Recorder

from atwifi.services.errors import ServiceError
from atwifi.services.sockets import Sockets
from atwifi.services.tls import CertError, TlsService
from harness import spwf04_number, spwf04_result_line

NOW = datetime.now(UTC)


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def now(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
async def env(tmp_path, clock):
    rec = Recorder()
    tls = TlsService(tmp_path / "certs", now=clock.now)
    socks = Sockets(rec, tls=tls)
    yield socks, tls, rec
    socks.close_all()


async def tls_echo(leaf: trustme.LeafCert, client_ca: trustme.CA | None = None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(ctx)
    if client_ca is not None:
        client_ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED

    async def handle(r, w):
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    return srv, srv.sockets[0].getsockname()[1]


async def roundtrip(socks: Sockets, rec: Recorder, cid: int, data: bytes) -> bytes:
    await socks.write(cid, data)
    out = bytearray()
    while len(out) < len(data):
        if not socks.unread(cid):
            await rec.wait("pending", len(rec.of("pending")) + 1)
        out += socks.read(cid)[0]
    return bytes(out)


async def cert_error(coro) -> int:
    with pytest.raises(CertError) as e:
        await coro
    prefix = "AT-S.Certificate Error:"
    line = spwf04_result_line(e.value)
    assert line.startswith(prefix)
    return int(line[len(prefix) :])


async def test_one_way_tls_client(env, ca):
    socks, tls, rec = env
    await tls.store.add("Ca", ca.cert_pem.bytes())
    srv, port = await tls_echo(ca.issue_cert("localhost", "127.0.0.1"))
    async with srv:
        ip, cid = await socks.open("localhost", port, "s")
        assert await roundtrip(socks, rec, cid, b"secret") == b"secret"
        # the server name given in place of the kind
        _, cid2 = await socks.open("127.0.0.1", port, "localhost")
        assert await roundtrip(socks, rec, cid2, b"x" * 5000) == b"x" * 5000


async def test_wrong_ca_name_expired_and_unset_clock(env, ca, clock):
    socks, tls, rec = env
    await tls.store.add("Ca", ca.cert_pem.bytes())
    other = trustme.CA()
    srv, port = await tls_echo(other.issue_cert("localhost"))
    async with srv:
        assert await cert_error(socks.open("localhost", port, "s")) == 23
    srv, port = await tls_echo(ca.issue_cert("localhost"))
    async with srv:
        assert await cert_error(socks.open("localhost", port, "wrong.example")) == 5
        clock.t = 0  # never set: the module lives in 1970
        assert await cert_error(socks.open("localhost", port, "s")) == 21
        clock.t = time.time()  # AT+S.TIME or NTP
        await socks.open("localhost", port, "s")
    old = ca.issue_cert(
        "localhost", not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1)
    )
    srv, port = await tls_echo(old)
    async with srv:
        assert await cert_error(socks.open("localhost", port, "s")) == 21
    assert list(socks.clients) == [0]


async def test_not_tls_is_74(env, ca):
    socks, tls, rec = env

    async def handle(r, w):
        w.write(b"HTTP/1.0 400 no\r\n\r\n")
        w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with srv:
        with pytest.raises(ServiceError) as e:
            await socks.open("127.0.0.1", srv.sockets[0].getsockname()[1], "s")
        assert spwf04_number(e.value) == 74


async def test_mutual_tls_client(env, ca):
    socks, tls, rec = env
    client_ca = trustme.CA()
    device = client_ca.issue_cert("device.test")
    await tls.store.add("Ca", ca.cert_pem.bytes())
    srv, port = await tls_echo(ca.issue_cert("localhost"), client_ca=client_ca)
    async with srv:
        # Without the module's certificate the server refuses it: at the handshake (TLS 1.2)
        # or right after it (TLS 1.3, the alert comes after the client has finished).
        try:
            _, cid = await socks.open("localhost", port, "s")
        except ServiceError as e:
            assert spwf04_number(e) == 74
        else:
            await socks.write(cid, b"x")
            await rec.wait("closed")
        socks.close_all()
        await tls.store.add("Cert", device.cert_chain_pems[0].bytes())
        await tls.store.add("Key", device.private_key_pem.bytes())
        _, cid = await socks.open("localhost", port, "s")
        assert await roundtrip(socks, rec, cid, b"mutual") == b"mutual"


async def tls_client(port: int, ca: trustme.CA, leaf: trustme.LeafCert | None = None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(ctx)
    if leaf is not None:
        leaf.configure_cert(ctx)
    return await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")


async def test_server_s1_and_s2(env, ca, clock):
    socks, tls, rec = env
    with pytest.raises(CertError) as e:
        await socks.open_server(0, "s1")
    assert spwf04_result_line(e.value) == "AT-S.Certificate Error:2"
    me = ca.issue_cert("localhost")
    await tls.store.add("Cert", me.cert_chain_pems[0].bytes())
    await tls.store.add("Key", me.private_key_pem.bytes())
    with pytest.raises(CertError) as e:
        await socks.open_server(0, "s2")
    assert spwf04_result_line(e.value) == "AT-S.Certificate Error:23"
    sid = await socks.open_server(0, "s1")
    port = socks.servers[sid].host_port
    r, w = await tls_client(port, ca)
    w.write(b"over tls")
    await rec.wait("pending")
    assert socks.servers[sid].read(0, 0)[0] == b"over tls"
    await socks.servers[sid].client(0).write(b"reply")
    assert await r.readexactly(5) == b"reply"
    w.close()
    socks.close_all()

    client_ca = trustme.CA()
    await tls.store.add("Ca", client_ca.cert_pem.bytes())
    sid = await socks.open_server(0, "s2")
    port = socks.servers[sid].host_port
    good = client_ca.issue_cert("client.test")
    r, w = await tls_client(port, ca, good)
    w.write(b"hi")
    await rec.wait("incoming", 2)
    # A client certificate from another CA is refused by the handshake.
    stranger = trustme.CA().issue_cert("client.test")
    r2, w2 = await tls_client(port, ca, stranger)
    w2.write(b"x")
    with pytest.raises((ConnectionError, ssl.SSLError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(r2.readexactly(1), 5)
    # With the module's clock in 1970 even the good client is refused after the handshake.
    clock.t = 0
    r3, w3 = await tls_client(port, ca, good)
    note = await rec.wait("note")
    assert "certificate not yet valid" in note[1]  # the 1970 clock
    assert len(rec.of("incoming")) == 2
    for wr in (w, w2, w3):
        wr.close()


async def test_tls_10mb_both_ways(env, ca):
    socks, tls, rec = env
    socks.capacity = lambda: 64 * 1500
    await tls.store.add("Ca", ca.cert_pem.bytes())
    srv, port = await tls_echo(ca.issue_cert("localhost"))
    payload = os.urandom(10 * 1024 * 1024)
    async with srv:
        _, cid = await socks.open("localhost", port, "s")
        conn = socks.clients[cid]
        out = bytearray()
        view = memoryview(payload)
        sent = 0
        while len(out) < len(payload):
            if sent < len(payload) and sent - len(out) < 256 * 1024:
                await socks.write(cid, bytes(view[sent : sent + 65536]))
                sent = min(len(payload), sent + 65536)
            if conn.buf:
                out += socks.read(cid)[0]
            elif sent - len(out) >= 256 * 1024 or sent >= len(payload):
                await rec.wait("pending", len(rec.of("pending")) + 1)
        assert out == payload
