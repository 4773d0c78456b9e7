"""TLS through the console: certificates uploaded with TLSCERT, checked at the module's time."""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sock_wire import echo_server, sockr, wind55


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_ctx(leaf: trustme.LeafCert, client_ca: trustme.CA | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(ctx)
    if client_ca is not None:
        client_ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


async def upload(m, kind: str, data: bytes) -> bytes:
    return await m.cmd(f"AT+S.TLSCERT={kind},{len(data)}", data)


def der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


async def test_unset_clock_then_time(quiet_module, ca):
    """The trap of the field: a module that never got the time lives in 1970 and rejects
    every certificate as expired (21); after AT+S.TIME the same connection works."""
    m = quiet_module
    assert await upload(m, "Ca", ca.cert_pem.bytes()) == b"AT-S.OK\r\n"
    srv, port = await echo_server(server_ctx(ca.issue_cert("localhost")))
    async with srv:
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},,s") == b"AT-S.Certificate Error:21\r\n"
        assert await m.cmd("AT+S.SOCKL") == b"AT-S.OK\r\n"
        assert await m.cmd(f"AT+S.TIME={int(time.time())}") == b"AT-S.OK\r\n"
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},,s") == (
            b"AT-S.On:127.0.0.1:0\r\nAT-S.OK\r\n"
        )
        assert await m.cmd("AT+S.SOCKW=0,6", b"secret") == b"AT-S.OK\r\n"
        await wind55(m)
        data, _, _ = await sockr(m, "AT+S.SOCKR=0")
        assert data == b"secret"
        assert await m.cmd("AT+S.SOCKL") == (
            f"AT-S.List::0:1:s:0:127.0.0.1:{port}\r\nAT-S.OK\r\n".encode()
        )


async def test_broken_certificates(quiet_module, ca):
    m = quiet_module
    await m.cmd(f"AT+S.TIME={int(time.time())}")
    # DER upload works as well as PEM.
    assert await upload(m, "Ca", der(ca.cert_pem.bytes())) == b"AT-S.OK\r\n"
    now = datetime.now(UTC)
    cases = [
        (trustme.CA().issue_cert("localhost"), "s", 23),  # unknown CA
        (ca.issue_cert("other.example"), "s", 5),  # name mismatch
        (ca.issue_cert("*.example.test"), "a.b.example.test", 4),  # wildcard mismatch
        (
            ca.issue_cert(
                "localhost", not_before=now - timedelta(days=9), not_after=now - timedelta(days=1)
            ),
            "s",
            21,
        ),
    ]
    for leaf, kind, number in cases:
        srv, port = await echo_server(server_ctx(leaf))
        async with srv:
            reply = await m.cmd(f"AT+S.SOCKON=localhost,{port},,{kind}")
            assert reply == f"AT-S.Certificate Error:{number}\r\n".encode(), (kind, number)
    assert await m.cmd("AT+S.SOCKL") == b"AT-S.OK\r\n"


async def test_tlscert_content_and_errors(quiet_module, ca):
    m = quiet_module
    leaf = ca.issue_cert("device.test")
    assert await upload(m, "Ca", ca.cert_pem.bytes()) == b"AT-S.OK\r\n"
    assert await upload(m, "Cert", leaf.cert_chain_pems[0].bytes()) == b"AT-S.OK\r\n"
    assert await upload(m, "Key", leaf.private_key_pem.bytes()) == b"AT-S.OK\r\n"
    listing = await m.cmd("AT+S.TLSCERT=content,1")
    lines = listing.split(b"\r\n")
    assert lines[0].startswith(b"AT-S.List:Ca:")
    assert lines[1].startswith(b"AT-S.List:Cert:") and b"device.test" not in lines[0]
    assert lines[2].startswith(b"AT-S.List:Key:")
    assert listing.endswith(b"AT-S.OK\r\n")
    # Loading over an existing item is refused until the store is cleared.
    assert await upload(m, "Cert", leaf.cert_chain_pems[0].bytes()) == (
        b"AT-S.ERROR:101:Failed to write flash\r\n"
    )
    assert await upload(m, "Ca", b"garbage") == b"AT-S.Certificate Error:3\r\n"
    assert await upload(m, "Bogus", b"x") == b"AT-S.ERROR:7:Invalid argument(s)\r\n"
    assert await m.cmd("AT+S.TLSCERT=content,3") == b"AT-S.ERROR:8:Invalid value\r\n"
    # The store survives a power cycle (flash) ...
    await m.restart()
    await m.cmd("AT+S.SCFG=console_echo,0", echo=True)
    assert await m.cmd("AT+S.TLSCERT=content,1") == listing
    # ... until content,2 removes everything.
    assert await m.cmd("AT+S.TLSCERT=content,2") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.TLSCERT=content,1") == b"AT-S.OK\r\n"
    assert await upload(m, "Cert", leaf.cert_chain_pems[0].bytes()) == b"AT-S.OK\r\n"


async def test_wpaecert(quiet_module, ca):
    m = quiet_module
    data = ca.cert_pem.bytes()
    assert await m.cmd(f"AT+S.WPAECERT=Ca,{len(data)}", data) == b"AT-S.OK\r\n"
    assert (await m.cmd("AT+S.WPAECERT=content,1")).startswith(b"AT-S.List:Ca:")
    assert await m.cmd("AT+S.WPAECERT=Auth,1", b"x") == b"AT-S.ERROR:7:Invalid argument(s)\r\n"
    # A separate store from TLS.
    assert await m.cmd("AT+S.TLSCERT=content,1") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.WPAECERT=content,2") == b"AT-S.OK\r\n"


async def test_mutual_tls_and_servers(quiet_module, ca):
    m = quiet_module
    await m.cmd(f"AT+S.TIME={int(time.time())}")
    device_leaf = ca.issue_cert("localhost")
    await upload(m, "Ca", ca.cert_pem.bytes())
    await upload(m, "Cert", device_leaf.cert_chain_pems[0].bytes())
    await upload(m, "Key", device_leaf.private_key_pem.bytes())
    # Client side, mutual: the peer demands a certificate from our CA.
    srv, port = await echo_server(server_ctx(ca.issue_cert("localhost"), client_ca=ca))
    async with srv:
        assert (await m.cmd(f"AT+S.SOCKON=localhost,{port},,s")).endswith(b"AT-S.OK\r\n")
        assert await m.cmd("AT+S.SOCKW=0,4", b"mtls") == b"AT-S.OK\r\n"
        await wind55(m)
        assert (await sockr(m, "AT+S.SOCKR=0"))[0] == b"mtls"
    # Server side s2: a client with a certificate from the loaded CA is accepted.
    assert await m.cmd("AT+S.SOCKDON=0,s2") == b"AT-S.On:0\r\nAT-S.OK\r\n"
    sport = m.device.sockets.servers[0].host_port
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(cctx)
    ca.issue_cert("client.test").configure_cert(cctx)
    r, w = await asyncio.open_connection("127.0.0.1", sport, ssl=cctx, server_hostname="localhost")
    await m.read_until(b"+WIND:61:Incoming Socket Client:127.0.0.1:")
    w.write(b"hello s2")
    await wind55(m)
    assert (await sockr(m, "AT+S.SOCKDR=0,0"))[0] == b"hello s2"
    assert await m.cmd("AT+S.SOCKDW=0,0,2", b"ok") == b"AT-S.OK\r\n"
    assert await r.readexactly(2) == b"ok"
    w.close()


async def test_file_system_fallback(quiet_module, ca):
    """Store empty: the CA comes from <AuthorityKeyId>.ca, the identity from tls.cert/tls.key."""
    m = quiet_module
    await m.cmd(f"AT+S.TIME={int(time.time())}")
    files: dict[str, bytes] = {}

    class FakeFs:  # stands in for the file-system service until it is merged
        async def read(self, name: str) -> bytes:
            from atwifi.errors import AtError

            if name not in files:
                raise AtError(51, name)
            return files[name]

    m.device.fs = FakeFs()
    srv, port = await echo_server(server_ctx(ca.issue_cert("localhost"), client_ca=ca))
    async with srv:
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},,s") == b"AT-S.Certificate Error:23\r\n"
        cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        files[f"{ski.hex().upper()}.ca"] = der(ca.cert_pem.bytes())
        me = ca.issue_cert("device.test")
        files["tls.cert"] = me.cert_chain_pems[0].bytes()
        files["tls.key"] = me.private_key_pem.bytes()
        assert (await m.cmd(f"AT+S.SOCKON=localhost,{port},,s")).endswith(b"AT-S.OK\r\n")
        assert await m.cmd("AT+S.SOCKW=0,2", b"fs") == b"AT-S.OK\r\n"
        await wind55(m)
        assert (await sockr(m, "AT+S.SOCKR=0"))[0] == b"fs"
