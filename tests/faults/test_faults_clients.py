"""Faults on the module's other clients' connections (HTTP, WebSocket, SMTP, TFTP), seen
through the console bytes a host gets, against real peers on 127.0.0.1. Each goes through the
one connection path (services/net/dial.py), so every fault kind applies as on SOCKON; each
client words the failure as the manual's result for its command. MQTT: test_faults_mqtt.py.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import time

import pytest
import trustme
from fault_helpers import boot, ctl
from http_peers import WebPeer, pattern  # tests/http, tests/transfer: see conftest.py
from smtp_peers import Sink, server_ctx, smtp_server
from tftp_peers import GIVE_UP, fast, fsp, tftpy_server

from atwifi.spwf04.commands import smtp as smtp_commands
from ws_peers import ws_server

OK = b"AT-S.OK\r\n"
ERR74 = b"AT-S.ERROR:74:Failed to open socket\r\n"
ERR111 = b"AT-S.ERROR:111:Request failed\r\n"
UNKNOWN_CA = b"AT-S.Certificate Error:23\r\n"
EXPIRED = b"AT-S.Certificate Error:21\r\n"


def status(code: int) -> bytes:
    return b"AT-S.Http Server Status Code:%d\r\n" % code


def http_error(n: int) -> bytes:
    return b"AT-S.Http Client Error:%d\r\n" % n


def ws_error(n: int) -> bytes:
    return b"AT-S.WebSocket Client Error:%d\r\n" % n


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def trust(m, ca: trustme.CA) -> None:
    pem = ca.cert_pem.bytes()
    assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(pem)}", pem) == OK
    assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK


@pytest.fixture
async def web(ca):
    p = WebPeer(ca)
    await p.start()
    yield p
    await p.stop()


# -- HTTP (HTTPGET; HTTPPOST, FSUPDATE and FWUPDATE share the client) -------------------------


async def test_http_refuse_reset_stall_delay(tmp_path, web):
    m, notes = await boot(tmp_path)
    http = m.device.http
    # Short waits only where the fault is meant to outlast them (a loaded machine may take
    # more than that to answer a request that goes through).
    http.response_timeout = http.idle_timeout = 10.0
    index = b"<html>hello from the index</html>"
    get = f"AT+S.HTTPGET=127.0.0.1,/index.html,{web.port}"

    await ctl(m, "fault.add", kind="refuse", match=f"127.0.0.1:{web.port}", times=1)
    assert await m.cmd(get) == http_error(3)  # "connection refused"
    assert notes.having(f"fault #1 refuse: connection to 127.0.0.1:{web.port} refused")
    assert await m.cmd(get) == status(200) + index + OK  # used up

    # RST in mid-body: the status line and the bytes before the reset, then the cut reply.
    await ctl(m, "fault.add", kind="reset", match=f"*:{web.port}", after=2000, times=1)
    out = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/large?n=100000,{web.port}")
    assert out.startswith(status(200)) and out.endswith(http_error(9)), out[-80:]
    body = out[len(status(200)) : -len(http_error(9))]
    assert 0 < len(body) < 2000 and body == pattern(len(body))
    assert notes.having("fault #2 reset: RST after 2000 bytes on tcp 127.0.0.1:")

    # Stall from the first byte: no reply head ever comes (error 10, response timeout).
    http.response_timeout = 0.3
    await ctl(m, "fault.add", kind="stall", match=f"*:{web.port}", after=0, times=1)
    assert await m.cmd(get) == http_error(10)
    assert notes.having("fault #3 stall:")
    # Stall in mid-body: the head and what came before, then the receive timeout (4).
    http.response_timeout, http.idle_timeout = 10.0, 0.3
    await ctl(m, "fault.add", kind="stall", match=f"*:{web.port}", after=1000, times=1)
    out = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/large?n=100000,{web.port}")
    assert out.startswith(status(200)) and out.endswith(http_error(4)), out[-80:]

    # A delay longer than the client waits: the head is late (10); a short one, with
    # jitter and a bandwidth cap, changes nothing in the bytes.
    http.response_timeout, http.idle_timeout = 1.0, 10.0
    await ctl(m, "fault.add", kind="delay", match=f"*:{web.port}", ms=5000, times=1)
    assert await m.cmd(get) == http_error(10)
    http.response_timeout = 10.0
    await ctl(m, "fault.add", kind="delay", match=f"*:{web.port}", ms=2, jitter_ms=3, seed=5)
    await ctl(m, "fault.add", kind="bandwidth", match=f"*:{web.port}", bps=2_000_000)
    out = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/large?n=50000,{web.port}")
    assert out == status(200) + pattern(50000) + OK
    assert notes.having("delay: 2 ms") and notes.having("bandwidth: 2e+06 bytes/s")
    assert await m.cmd("AT") == OK
    await m.device.shutdown()


async def test_http_tls_faults(tmp_path, web, ca):
    m, notes = await boot(tmp_path)
    await trust(m, ca)
    get = f"AT+S.HTTPGET=localhost,/index.html,{web.tls_port},2"
    index = b"<html>hello from the index</html>"
    await ctl(m, "fault.add", kind="tls_fail", match=f"localhost:{web.tls_port}", times=1)
    assert await m.cmd(get) == http_error(7)  # TLS connect error
    assert notes.having("tls_fail: TLS handshake with localhost (127.0.0.1)")
    await ctl(m, "fault.add", kind="tls_cert", cert="unknown", times=1)
    assert await m.cmd(get) == UNKNOWN_CA
    assert notes.having("tls_cert: localhost presents a self-signed certificate")
    # Autodetect never falls back to plain over a bad certificate.
    await ctl(m, "fault.add", kind="tls_cert", cert="expired", proto="tls", times=1)
    assert await m.cmd(f"AT+S.HTTPGET=localhost,/index.html,{web.tls_port},1") == EXPIRED
    assert await m.cmd(get) == status(200) + index + OK  # no fault left
    # A reset inside the TLS stream: the reply is cut.
    await ctl(m, "fault.add", kind="reset", proto="tls", after=10, times=1)
    assert await m.cmd(get) == http_error(9)
    assert notes.having("reset: RST after 10 bytes on tls localhost (127.0.0.1)")
    await m.device.shutdown()


async def test_fsupdate_under_faults_leaves_the_volume(tmp_path, web):
    from atwifi.services.fs import image

    m, notes = await boot(tmp_path)
    assert await m.cmd("AT+S.FSC=1:/keep.txt,4", b"keep") == OK
    before = await m.cmd("AT+S.FSL")
    web.files["fs.img"] = image.pack({"new.txt": b"n" * 3000})
    update = f"AT+S.FSUPDATE=e,127.0.0.1,/files/fs.img,{web.port}"
    await ctl(m, "fault.add", kind="refuse", match=f"*:{web.port}", times=1)
    assert await m.cmd(update) == http_error(3)
    await ctl(m, "fault.add", kind="reset", match=f"*:{web.port}", after=1500, times=1)
    assert await m.cmd(update) == status(200) + http_error(9)
    assert await m.cmd("AT+S.FSL") == before
    assert notes.having("reset: RST after 1500 bytes")
    # Through a bandwidth cap the image arrives whole.
    await ctl(m, "fault.add", kind="bandwidth", match=f"*:{web.port}", bps=500_000, times=1)
    assert await m.cmd(update) == status(200) + OK
    assert b"new.txt" in await m.cmd("AT+S.FSL")
    await m.device.shutdown()


async def test_held_bytes_stay_bounded_for_a_wrapped_client():
    """A client's connection under a long delay and a flood: the plan holds at most its
    bound (plus one read) and reading from the peer pauses; nothing is lost once released."""
    from atwifi.services.faults import Faults, make_rule
    from atwifi.services.faults.wrap import HOLD
    from atwifi.services.net.dial import Dialer

    notes: list[str] = []
    paused = asyncio.Event()

    def note(text: str) -> None:
        notes.append(text)
        if "reading paused" in text:
            paused.set()

    faults = Faults(note=note)
    total = 4 * HOLD

    async def flood(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"f" * total)
        await w.drain()
        w.close()

    srv = await asyncio.start_server(flood, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        rule = faults.add(make_rule("delay", ms=60000, match=f"*:{port}"))
        dialer = Dialer(faults=faults)
        reader, writer = await dialer.open_connection(host="127.0.0.1", ip="127.0.0.1", port=port)
        await asyncio.wait_for(paused.wait(), 20)
        plan = writer.transport._owner.plan  # the FaultyStream behind the proxy
        assert HOLD <= plan.held <= HOLD + 256 * 1024
        assert len(reader._buffer) == 0  # nothing delivered yet
        faults.remove(rule.id)  # delay gone: what is held comes through, in order, all of it
        assert await asyncio.wait_for(reader.read(), 20) == b"f" * total
        writer.close()


async def test_policy_refusals_are_each_clients_own_error_and_traced(tmp_path):
    m, notes = await boot(tmp_path)
    # 192.0.2.x (TEST-NET): the loopback-only policy refuses it before anything is sent.
    body = b"x"
    cases = [
        ("AT+S.HTTPGET=192.0.2.1,/,80", http_error(2)),
        ("AT+S.WSOCKON=192.0.2.2,80", ws_error(0)),
        ("AT+S.MQTTCONN=192.0.2.3,1883,,,,,,,,,,", ERR74),
        ("AT+S.TFTPGET=192.0.2.4,69,f.bin,0:/f.bin", ERR74),
    ]
    for line, answer in cases:
        assert await m.cmd(line) == answer, line
    smtp = f"AT+S.SMTP=192.0.2.5,25,,,,,mod@example.com,a@x.test,,,Hi,,{len(body)}"
    assert await m.cmd(smtp, body) == ERR74
    for i in range(1, 6):
        assert notes.having(f"blocked by network policy: 192.0.2.{i}"), i
    assert await m.cmd("AT") == OK
    await m.device.shutdown()


# -- WebSocket (WSOCKON) ------------------------------------------------------------------------


async def test_websocket_faults(tmp_path):
    m, notes = await boot(tmp_path)
    m.device.websockets.handshake_timeout = 0.3
    async with ws_server() as peer:
        on = f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo"
        await ctl(m, "fault.add", kind="refuse", match=f"*:{peer.port}", times=1)
        assert await m.cmd(on) == ws_error(0)
        assert notes.having("fault #1 refuse")
        # A reset before the upgrade's answer: the TCP connection is lost (1).
        await ctl(m, "fault.add", kind="reset", match=f"*:{peer.port}", after=0, times=1)
        assert await m.cmd(on) == ws_error(1)
        assert notes.having("fault #2 reset: RST after 0 bytes")
        # A stall, or a delay past the handshake timeout: no answer to the upgrade (5).
        await ctl(m, "fault.add", kind="stall", match=f"*:{peer.port}", after=0, times=1)
        assert await m.cmd(on) == ws_error(5)
        await ctl(m, "fault.add", kind="delay", match=f"*:{peer.port}", ms=3000, times=1)
        assert await m.cmd(on) == ws_error(5)
        assert await m.cmd("AT") == OK
    await m.device.shutdown()


async def test_websocket_reset_mid_stream(tmp_path):
    m, notes = await boot(tmp_path)
    async with ws_server() as peer, ws_server() as other:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{other.port},/echo") == b"AT-S.On:0\r\n" + OK
        # A reset armed 5 bytes into the echo of "hello world" (after the upgrade's answer).
        head = await _upgrade_answer_size(peer.port)
        await ctl(m, "fault.add", kind="reset", match=f"*:{peer.port}", after=head + 5, times=1)
        assert await m.cmd(f"AT+S.WSOCKON=localhost,{peer.port},/echo") == b"AT-S.On:1\r\n" + OK
        assert await m.cmd("AT+S.WSOCKW=1,0,0,0,11", b"hello world") == OK
        await m.read_until(b"+WIND:89:WebSocket Closed:1\r\n")
        assert notes.having(f"reset: RST after {head + 5} bytes on tcp localhost (127.0.0.1)")
        # The other connection is unharmed.
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,2", b"ok") == OK
        await m.read_until(b"+WIND:88:WebSocket Data:0:1:1:2:2\r\n")
    await m.device.shutdown()


async def test_websocket_fault_on_one_open_client(tmp_path):
    from atwifi.control import ControlError

    m, notes = await boot(tmp_path)
    async with ws_server() as peer, ws_server() as other:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == b"AT-S.On:0\r\n" + OK
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{other.port},/echo") == b"AT-S.On:1\r\n" + OK
        # A delay on client 0 keeps its bytes; a reset on client 1 ends it at once.
        await ctl(m, "fault.socket", client="websocket", id=0, kind="delay", ms=5)
        rule = await ctl(m, "fault.socket", client="websocket", id=1, kind="reset", after=0)
        assert rule["socket"] == 1 and rule["kind"] == "reset"
        await m.read_until(b"+WIND:89:WebSocket Closed:1\r\n")
        assert notes.having("fault #2 reset: RST after ")  # what the connection got so far
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,2", b"ok") == OK
        await m.read_until(b"+WIND:88:WebSocket Data:0:1:1:2:2\r\n")
        assert notes.having("fault #1 delay: 5 ms")
        for args in ({"id": 5}, {"id": 1, "kind": "loss"}, {"client": "nope"}):
            with pytest.raises(ControlError):
                await ctl(
                    m, "fault.socket", **{"client": "websocket", "id": 0, "kind": "reset", **args}
                )
    await m.device.shutdown()


async def _upgrade_answer_size(port: int) -> int:
    """The size of the server's answer to an upgrade like the module's (same headers)."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import Request

    r, w = await asyncio.open_connection("127.0.0.1", port)
    ws = WSConnection(ConnectionType.CLIENT)
    w.write(ws.send(Request(host=f"localhost:{port}", target="/echo")))
    head = await r.readuntil(b"\r\n\r\n")
    w.close()
    return len(head)


async def test_websocket_tls_faults(tmp_path, ca):
    m, notes = await boot(tmp_path)
    await trust(m, ca)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    async with ws_server(ctx) as peer:
        on = f"AT+S.WSOCKON=localhost,{peer.port},/echo,2"
        await ctl(m, "fault.add", kind="tls_fail", times=1)
        assert await m.cmd(on) == ws_error(2)
        assert notes.having("tls_fail: TLS handshake with localhost")
        await ctl(m, "fault.add", kind="tls_cert", cert="unknown", times=1)
        assert await m.cmd(on) == UNKNOWN_CA
        await ctl(m, "fault.add", kind="tls_cert", cert="expired", times=1)
        assert await m.cmd(on) == EXPIRED
        assert await m.cmd(on) == b"AT-S.On:0\r\n" + OK
    await m.device.shutdown()


# -- SMTP (AT+S.SMTP) ---------------------------------------------------------------------------


async def send_mail(m, port: int, tls: str = "") -> bytes:
    body = b"fault test"
    line = f"AT+S.SMTP=localhost,{port},{tls},,,,mod@example.com,a@x.test,,,Hi,,{len(body)}"
    return await m.cmd(line, body)


async def test_smtp_faults(tmp_path, monkeypatch):
    monkeypatch.setattr(smtp_commands, "TIMEOUT", 10.0)
    m, notes = await boot(tmp_path)
    sink = Sink()
    srv, port = await smtp_server(sink)
    async with srv:
        await ctl(m, "fault.add", kind="refuse", match=f"*:{port}", times=1)
        assert await send_mail(m, port) == ERR74
        assert notes.having(f"fault #1 refuse: connection to localhost (127.0.0.1):{port}")
        # A reset in the middle of the server's greeting: the session breaks (111).
        await ctl(m, "fault.add", kind="reset", match=f"*:{port}", after=8, times=1)
        assert await send_mail(m, port) == ERR111
        assert notes.having("fault #2 reset: RST after 8 bytes")
        # A stall, or a delay past the reply timeout: the server "stops answering" (111).
        monkeypatch.setattr(smtp_commands, "TIMEOUT", 0.5)
        await ctl(m, "fault.add", kind="stall", match=f"*:{port}", after=0, times=1)
        assert await send_mail(m, port) == ERR111
        await ctl(m, "fault.add", kind="delay", match=f"*:{port}", ms=5000, times=1)
        assert await send_mail(m, port) == ERR111
        assert not sink.mails
        monkeypatch.setattr(smtp_commands, "TIMEOUT", 10.0)
        # A short delay and a bandwidth cap: the mail goes.
        await ctl(m, "fault.add", kind="delay", match=f"*:{port}", ms=1, times=1)
        await ctl(m, "fault.add", kind="bandwidth", match=f"*:{port}", bps=100000, times=1)
        assert await send_mail(m, port) == OK
        assert len(sink.mails) == 1
    assert await m.cmd("AT") == OK
    await m.device.shutdown()


async def test_smtp_relay_carries_a_long_mail_under_faults(tmp_path, ca, monkeypatch):
    """aiosmtplib's socket is relayed over the faulted connection: a 64 KB body goes whole,
    with STARTTLS, through a delay, jitter and a bandwidth cap on what the server sends."""
    monkeypatch.setattr(smtp_commands, "TIMEOUT", 10.0)
    m, _ = await boot(tmp_path)
    await trust(m, ca)
    sink = Sink()
    srv, port = await smtp_server(sink, starttls=server_ctx(ca))
    async with srv:
        await ctl(m, "fault.add", kind="delay", match=f"*:{port}", ms=1, jitter_ms=2, seed=2)
        await ctl(m, "fault.add", kind="bandwidth", match=f"*:{port}", bps=1_000_000)
        body = bytes(range(32, 127)) * 689 + b"end"  # 65535 bytes, printable
        line = f"AT+S.SMTP=localhost,{port},8,,,,mod@example.com,a@x.test,,,Big,,{len(body)}"
        assert await m.cmd(line, body) == OK
    (mail,) = sink.mails
    assert mail.secure
    msg = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert msg.get_payload(decode=True) == body + b"\r\n"  # the builder ends the body
    await m.device.shutdown()


async def test_smtp_tls_faults(tmp_path, ca, monkeypatch):
    monkeypatch.setattr(smtp_commands, "TIMEOUT", 10.0)
    m, notes = await boot(tmp_path)
    await trust(m, ca)
    sink = Sink()
    srv, port = await smtp_server(sink, starttls=server_ctx(ca))
    async with srv:
        # STARTTLS required (8): a failing handshake, then bad certificates.
        await ctl(m, "fault.add", kind="tls_fail", match=f"*:{port}", times=1)
        assert await send_mail(m, port, "8") == ERR111
        assert notes.having(f"tls_fail: TLS handshake with localhost (127.0.0.1):{port} fails")
        await ctl(m, "fault.add", kind="tls_cert", cert="unknown", times=1)
        assert await send_mail(m, port, "8") == UNKNOWN_CA
        await ctl(m, "fault.add", kind="tls_cert", cert="expired", times=1)
        assert await send_mail(m, port, "8") == EXPIRED
        assert not sink.mails
        # A plain session (0) is not a TLS connection: a tls_cert rule neither fires nor
        # counts there.
        await ctl(m, "fault.add", kind="tls_cert", cert="unknown", times=1)
        assert await send_mail(m, port) == OK
        assert (await ctl(m, "fault.list"))["rules"][0]["fired"] == 0
        assert await send_mail(m, port, "8") == UNKNOWN_CA
        assert await send_mail(m, port, "8") == OK
        assert [mail.secure for mail in sink.mails] == [False, True]
    # Best effort (5): a tls_fail on the implicit TLS attempt is a server without SMTPS, as a
    # real failed handshake: STARTTLS on the same port carries the mail.
    srv, port = await smtp_server(sink, starttls=server_ctx(ca))
    async with srv:
        await ctl(m, "fault.add", kind="tls_fail", match=f"*:{port}", times=1)
        assert await send_mail(m, port, "5") == OK
        assert sink.mails[-1].secure
        assert notes.having(f"SMTP: no SMTPS on 127.0.0.1:{port}")
    implicit = server_ctx(ca)
    srv, port = await smtp_server(sink, implicit=implicit)
    async with srv:
        # SMTPS (9): a bad certificate on the implicit TLS session.
        await ctl(m, "fault.add", kind="tls_cert", cert="unknown", times=1)
        assert await send_mail(m, port, "9") == UNKNOWN_CA
        assert await send_mail(m, port, "9") == OK
    await m.device.shutdown()


# -- TFTP (TFTPGET / TFTPPUT) ---------------------------------------------------------------


async def test_tftp_faults(tmp_path):
    m, notes = await boot(tmp_path)
    root = tmp_path / "tftproot"
    root.mkdir()
    content = bytes(range(256)) * 9  # 5 blocks: 4 full, one short
    (root / "f.bin").write_bytes(content)
    with tftpy_server(root) as port:
        get = f"AT+S.TFTPGET=127.0.0.1,{port},f.bin,0:/f.bin"
        await ctl(m, "fault.add", kind="refuse", proto="udp", match=f"*:{port}", times=1)
        assert await m.cmd(get) == ERR74
        assert notes.having(f"fault #1 refuse: connection to 127.0.0.1:{port} refused")
        # Every datagram from the server lost: the client retries, then gives up (111).
        m.device.tftp.timing = GIVE_UP
        await ctl(m, "fault.add", kind="loss", match=f"*:{port}", rate=1, times=1)
        assert await m.cmd(get) == ERR111
        assert notes.having("fault #2 loss: datagram of")
        # A delay longer than every retransmission waits: no answer in time either.
        await ctl(m, "fault.add", kind="delay", match=f"*:{port}", ms=2000, times=1)
        assert await m.cmd(get) == ERR111
        # A third of the datagrams lost (seeded): retransmissions carry the file through.
        fast(m)
        await ctl(m, "fault.add", kind="loss", match=f"*:{port}", rate=0.3, seed=3, times=1)
        assert await m.cmd(get) == OK
        assert await fsp(m, "0:/f.bin") == content
        assert len(notes.having("loss: datagram of")) > 1
        # Uploads go the same way.
        await ctl(m, "fault.add", kind="refuse", match=f"*:{port}", times=1)
        assert await m.cmd(f"AT+S.TFTPPUT=127.0.0.1,{port},0:/f.bin") == ERR74
    assert await m.cmd("AT") == OK
    await m.device.shutdown()


# -- NTP (ip_ntp_server1, the module's SNTP client) -------------------------------------------


async def test_ntp_faults(tmp_path, monkeypatch):
    import re

    from netsupport import start_sntp_server

    from atwifi.spwf04.parts import net as net_part

    monkeypatch.setattr(net_part, "NTP_TIMEOUT_S", 0.3)
    m, notes = await boot(tmp_path)
    server, transport = await start_sntp_server()
    try:
        assert await m.cmd(f"AT+S.SCFG=ip_ntp_server1,127.0.0.1:{server.port}") == OK
        assert await m.cmd("AT+S.SCFG=ip_ntp_server2,") == OK
        for n, rule in enumerate(
            (
                {"kind": "refuse"},
                {"kind": "loss", "rate": 1},  # the answer is lost: no answer in time
                {"kind": "delay", "ms": 5000},  # the answer comes too late
            ),
            start=1,
        ):
            await ctl(m, "fault.add", match=f"*:{server.port}", times=1, **rule)
            m.device.net.on_link_up()
            await notes.wait("NTP: no server answered", count=n)
            assert notes.having(f"fault #{n} {rule['kind']}")
            # The clock is unset, as the host sees it.
            assert (await m.cmd("AT+S.TIME")).startswith(b"AT-S.Date:70.01.01:")
        # No rule left: the time comes (a generous wait for a loaded machine).
        monkeypatch.setattr(net_part, "NTP_TIMEOUT_S", 10.0)
        m.device.net.on_link_up()
        await m.read_until(re.compile(rb"\+WIND:84:NTP Server Delivery:[^\r]*\r\n"))
    finally:
        transport.close()
    await m.device.shutdown()
