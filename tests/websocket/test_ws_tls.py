"""WebSocket over TLS (wss): certificates from TLSCERT, checked at the module's clock."""

from __future__ import annotations

import ssl
import time

import pytest
import trustme
from ws_wire import read_message

from ws_peers import ws_server

OK = b"AT-S.OK\r\n"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_ctx(leaf: trustme.LeafCert) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(ctx)
    return ctx


async def load_ca(m, ca: trustme.CA) -> None:
    pem = ca.cert_pem.bytes()
    assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(pem)}", pem) == OK


async def test_wss_echo_after_the_clock_is_set(quiet_module, ca):
    m = quiet_module
    await load_ca(m, ca)
    async with ws_server(server_ctx(ca.issue_cert("localhost"))) as peer:
        on = f"AT+S.WSOCKON=localhost,{peer.port},/echo,2"
        # A module that never got the time lives in 1970: the certificate is not valid yet.
        assert await m.cmd(on) == b"AT-S.Certificate Error:21\r\n"
        assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
        assert await m.cmd(on) == b"AT-S.On:0\r\n" + OK
        assert await m.cmd("AT+S.WSOCKW=0,0,0,1,4", b"\x00tls") == OK
        assert await read_message(m) == b"\x00tls"
        assert m.device.websockets.client(0).tls
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_autodetect_tls_and_plain(quiet_module, ca):
    m = quiet_module
    await load_ca(m, ca)
    assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
    async with ws_server(server_ctx(ca.issue_cert("localhost"))) as tls_peer, ws_server() as plain:
        assert await m.cmd(f"AT+S.WSOCKON=localhost,{tls_peer.port},/echo,1") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert await m.cmd(f"AT+S.WSOCKON=localhost,{plain.port},/echo,1") == (
            b"AT-S.On:1\r\n" + OK
        )
        ws = m.device.websockets
        assert (ws.client(0).tls, ws.client(1).tls) == (True, False)
        for cid in (0, 1):
            assert await m.cmd(f"AT+S.WSOCKW={cid},0,0,0,2", b"hi") == OK
            assert await read_message(m, cid) == b"hi"
            assert await m.cmd(f"AT+S.WSOCKC={cid}") == OK


async def test_certificate_and_handshake_failures(quiet_module, ca):
    m = quiet_module
    await load_ca(m, ca)
    assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
    stranger = trustme.CA()
    async with ws_server(server_ctx(stranger.issue_cert("localhost"))) as peer:
        assert await m.cmd(f"AT+S.WSOCKON=localhost,{peer.port},/echo,2") == (
            b"AT-S.Certificate Error:23\r\n"
        )
        # Autodetect does not fall back to plain over a certificate it must not trust.
        assert await m.cmd(f"AT+S.WSOCKON=localhost,{peer.port},/echo,1") == (
            b"AT-S.Certificate Error:23\r\n"
        )
    async with ws_server(server_ctx(ca.issue_cert("other.example"))) as peer:
        assert await m.cmd(f"AT+S.WSOCKON=localhost,{peer.port},/echo,2") == (
            b"AT-S.Certificate Error:5\r\n"
        )
    async with ws_server() as plain:
        # TLS required, the server speaks plain HTTP: TLS Connection Error (Table 11).
        assert await m.cmd(f"AT+S.WSOCKON=localhost,{plain.port},/echo,2") == (
            b"AT-S.WebSocket Client Error:2\r\n"
        )
    assert await m.cmd("AT+S.WSOCKL") == OK
    assert await m.cmd("AT") == OK
