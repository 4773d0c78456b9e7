"""Network faults on demand, seen through the console bytes a host gets."""

from __future__ import annotations

import asyncio
import random
import re
import ssl
import time

import pytest
import trustme
from fault_helpers import boot, ctl, sockr, talker, udp_echo

from atwifi.control import ControlClient, ControlError

REFUSED = b"AT-S.ERROR:74:Failed to open socket\r\n"
DNS = b"AT-S.ERROR:65:DNS address failure\r\n"


async def test_refuse_then_heal(tmp_path):
    m, notes = await boot(tmp_path)
    srv, port, _ = await talker(b"")
    async with srv:
        rule = await ctl(m, "fault.add", kind="refuse", match=f"127.0.0.1:{port}", times=1)
        assert rule["id"] == 1
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == REFUSED
        assert notes.having("fault #1 refuse: connection to 127.0.0.1:")
        # times=1: used up, the next connect goes through.
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == (
            b"AT-S.On:127.0.0.1:0\r\nAT-S.OK\r\n"
        )
        # Another port does not match the pattern.
        await ctl(m, "fault.add", kind="refuse", match="*:1")
        assert (await m.cmd(f"AT+S.SOCKON=localhost,{port},,t")).endswith(b"AT-S.OK\r\n")
        assert await m.cmd("AT") == b"AT-S.OK\r\n"
    await m.device.shutdown()


async def test_reset_mid_stream_after_n_bytes(tmp_path):
    m, notes = await boot(tmp_path)
    srv, port, ends = await talker(b"0123456789" * 10)
    async with srv:
        await ctl(m, "fault.add", kind="reset", match=f"*:{port}", after=25)
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(b"AT-S.OK\r\n")
        await m.read_until(b"+WIND:58:Socket Closed:0:1\r\n")  # reason 1: RST
        assert await sockr(m) == b"0123456789012345678901234"
        assert notes.having("fault #1 reset: RST after 25 bytes")
        await ends.wait()  # the peer saw the RST
        assert ends == ["reset"]
        assert await m.cmd("AT") == b"AT-S.OK\r\n"
    await m.device.shutdown()


async def test_fault_on_one_open_socket(tmp_path):
    m, notes = await boot(tmp_path)
    srv, port, ends = await talker(b"")
    async with srv:
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        rule = await ctl(m, "fault.socket", id=1, kind="reset", after=0)
        assert rule["socket"] == 1
        await m.read_until(b"+WIND:58:Socket Closed:1:1\r\n")
        assert await m.cmd("AT+S.SOCKW=0,2", b"ok") == b"AT-S.OK\r\n"  # socket 0 unharmed
        with pytest.raises(ControlError):
            await ctl(m, "fault.socket", id=5, kind="reset")
    await m.device.shutdown()


async def test_stall_stops_delivering(tmp_path):
    m, notes = await boot(tmp_path)
    srv, port, _ = await talker(b"x" * 100)
    async with srv:
        await ctl(m, "fault.add", kind="stall", match=f"127.0.0.1:{port}", after=10)
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        await notes.wait("stall:")
        await m.read_until(b"+WIND:55:Pending Data::0:10:10\r\n")
        assert await m.cmd("AT+S.SOCKQ=0") == b"AT-S.Query:10\r\nAT-S.OK\r\n"
        assert await sockr(m) == b"x" * 10
        assert await m.cmd("AT+S.SOCKQ=0") == b"AT-S.Query:0\r\nAT-S.OK\r\n"
    await m.device.shutdown()


async def test_delay_jitter_and_bandwidth_keep_the_bytes(tmp_path):
    m, notes = await boot(tmp_path)
    body = bytes(range(256)) * 4
    srv, port, _ = await talker(body)
    async with srv:
        await ctl(m, "fault.add", kind="delay", match=f"*:{port}", ms=5, jitter_ms=5, seed=1)
        await ctl(m, "fault.add", kind="bandwidth", match=f"*:{port}", bps=200000)
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        await m.read_until(re.compile(rb"\+WIND:55:Pending Data::0:\d+:1024\r\n"))
        assert await sockr(m) == body
        assert notes.having("fault #1 delay: 5 ms") and notes.having("fault #2 bandwidth")
    await m.device.shutdown()


async def test_udp_loss_with_a_seed(tmp_path):
    m, notes = await boot(tmp_path)
    t, port = await udp_echo()
    try:
        await ctl(m, "fault.add", kind="loss", proto="udp", match=f"*:{port}", rate=0.5, seed=7)
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,u")).endswith(b"AT-S.OK\r\n")
        rng = random.Random(7)
        kept = [b"d%02d" % i for i in range(20) if not rng.random() < 0.5]
        assert 0 < len(kept) < 20
        seen = b""
        for i in range(20):
            m.send(b"AT+S.SOCKW=0,3\r" + b"d%02d" % i)
            seen += await m.read_until(b"AT-S.OK\r\n")
        # Every echo has come back once a WIND:55 says all kept ones are unread and the
        # trace names every drop.
        while f"::0:3:{3 * len(kept)}\r\n".encode() not in seen:
            seen += await m.read_until(b"\r\n")
        await notes.wait("loss: datagram of 3 bytes dropped", count=20 - len(kept))
        assert await sockr(m) == b"".join(kept)
    finally:
        t.close()
        await m.device.shutdown()


async def test_dns_faults(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text('[[ap]]\nssid = "STTest"\n[hosts]\n"svc.test" = "127.0.0.1"\n')
    m, notes = await boot(tmp_path, world=world)
    a_srv, b_srv, port = await _pair_of_talkers()
    async with a_srv, b_srv:
        await ctl(m, "fault.add", kind="dns_answer", match="svc.test", answer="127.0.0.2", times=1)
        assert await m.cmd(f"AT+S.SOCKON=svc.test,{port},,t") == (
            b"AT-S.On:127.0.0.2:0\r\nAT-S.OK\r\n"
        )
        await m.read_until(b"+WIND:55:")
        await m.read_until(b"\r\n")
        assert await sockr(m, 0) == b"B"
        assert notes.having("dns_answer: svc.test resolves to 127.0.0.2")
        # Used up: the real answer again.
        assert await m.cmd(f"AT+S.SOCKON=svc.test,{port},,t") == (
            b"AT-S.On:127.0.0.1:1\r\nAT-S.OK\r\n"
        )
        # Its greeting's WIND:55 comes when it comes: read it before the exact replies below.
        await m.read_until(b"+WIND:55:Pending Data::1:")
        await m.read_until(b"\r\n")
        await ctl(m, "fault.add", kind="dns_fail", match="svc.*", times=1)
        assert (await m.cmd(f"AT+S.SOCKON=svc.test,{port},,t")).endswith(DNS)
        await ctl(m, "fault.add", kind="dns_timeout", match="*", seconds=0.01, times=1)
        assert await m.cmd(f"AT+S.SOCKON=svc.test,{port},,t") == DNS
        assert notes.having("dns_timeout: lookup of svc.test gets no answer")
        # An IP literal asks no DNS: not affected.
        await ctl(m, "fault.add", kind="dns_fail")
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(b"AT-S.OK\r\n")
    await m.device.shutdown()


async def _pair_of_talkers() -> tuple[asyncio.Server, asyncio.Server, int]:
    """Talkers "A" on 127.0.0.1 and "B" on 127.0.0.2, on the same port (a DNS answer changes
    the address only). The kernel picks a free port on one address; it may be taken on the
    other (by a listener or a connection of a test running in parallel): try again, in
    either order, with a new port each time."""
    for i in range(200):
        first, second = ("127.0.0.2", "127.0.0.1") if i % 2 == 0 else ("127.0.0.1", "127.0.0.2")
        greeting = {"127.0.0.1": b"A", "127.0.0.2": b"B"}
        one, port, _ = await talker(greeting[first], host=first)
        try:
            two, _, _ = await talker(greeting[second], host=second, port=port)
        except OSError:
            one.close()
            await one.wait_closed()
            continue
        return (one, two, port) if first == "127.0.0.1" else (two, one, port)
    raise AssertionError("no port free on both 127.0.0.1 and 127.0.0.2 in 200 tries")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def test_tls_faults(tmp_path, ca):
    m, notes = await boot(tmp_path)
    await m.cmd(f"AT+S.TIME={int(time.time())}")
    pem = ca.cert_pem.bytes()
    assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(pem)}", pem) == b"AT-S.OK\r\n"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    srv, port, _ = await talker(b"", host="127.0.0.1")
    srv.close()
    srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0, ssl=ctx)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        await ctl(m, "fault.add", kind="tls_cert", cert="unknown", times=1)
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},,s") == b"AT-S.Certificate Error:23\r\n"
        assert notes.having("tls_cert: localhost presents a self-signed certificate")
        await ctl(m, "fault.add", kind="tls_cert", cert="expired", proto="tls", times=1)
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},,s") == b"AT-S.Certificate Error:21\r\n"
        await ctl(m, "fault.add", kind="tls_fail", match=f"localhost:{port}", times=1)
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},,s") == REFUSED
        assert notes.having("tls_fail: TLS handshake with localhost (127.0.0.1)")
        # No fault left: the same server is trusted.
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},,s") == (
            b"AT-S.On:127.0.0.1:0\r\nAT-S.OK\r\n"
        )
    await m.device.shutdown()


async def test_bad_rules_are_refused(tmp_path):
    m, _ = await boot(tmp_path)
    for args in (
        {"kind": "nope"},
        {"kind": "reset", "ms": 3},
        {"kind": "loss", "rate": 2},
        {"kind": "dns_answer", "answer": "not-an-ip"},
        {"kind": "tls_cert", "cert": "weird"},
        {"kind": "refuse", "proto": "sctp"},
    ):
        with pytest.raises(ControlError):
            await ctl(m, "fault.add", **args)
    with pytest.raises(ControlError):
        await ctl(m, "fault.remove", id=99)
    assert (await ctl(m, "fault.list"))["rules"] == []
    await m.device.shutdown()


async def test_control_channel_world_file_and_scenario(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(
        '[[ap]]\nssid = "STTest"\n[[faults.rule]]\nkind = "refuse"\nmatch = "127.0.0.1:*"\ntimes = 1\n'
    )
    m, notes = await boot(tmp_path, world=world)
    srv, port, _ = await talker(b"")
    async with srv:
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == REFUSED  # the world's rule
        c = ControlClient(tmp_path / "state")
        rule = await c.acall("fault.add", kind="refuse", match=f"*:{port}")
        listed = await c.acall("fault.list")
        assert [r["id"] for r in listed["rules"]] == [rule["id"]]
        await c.acall("fault.remove", id=rule["id"])
        steps = [
            {"at": 0, "verb": "fault.add", "args": {"kind": "refuse", "match": f"*:{port}"}},
            {"at": 0.01, "verb": "nope", "args": {}},
            {"at": 0.02, "verb": "fault.console", "args": {"fragment_size": 0}},
        ]
        assert await c.acall("scenario.run", steps=steps) == {"steps": 3, "last_at": 0.02}
        await notes.wait("scenario: done, 2/3 steps applied")
        assert notes.having("scenario: at 0.01 s nope {} failed")
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == REFUSED
    await m.device.shutdown()


def test_bad_world_faults_fail_the_load(tmp_path):
    from atwifi.services.radio import World, WorldError

    p = tmp_path / "w.toml"
    p.write_text('[[faults.rule]]\nkind = "explode"\n')
    with pytest.raises(WorldError, match="faults"):
        World.load(p)


async def test_fault_on_a_client_of_the_modules_server(tmp_path):
    m, notes = await boot(tmp_path)
    assert await m.cmd("AT+S.SOCKDON=0,t") == b"AT-S.On:0\r\nAT-S.OK\r\n"
    listing = await m.cmd("AT+S.SOCKDL")
    port = int(listing.split(b"\r\n")[0].rsplit(b":", 1)[1])
    r, w = await asyncio.open_connection("127.0.0.1", port)
    await m.read_until(b"+WIND:61:Incoming Socket Client:")
    await m.read_until(b"\r\n")
    await ctl(m, "fault.socket", server=0, id=0, kind="reset", after=3)
    w.write(b"0123456789")
    await m.read_until(b"+WIND:62:Socket Client Gone:127.0.0.1:")
    assert (await m.read_until(b"\r\n")).endswith(b":0:0:1\r\n")  # reason 1: RST
    assert await m.cmd("AT+S.SOCKDQ=0,0") == b"AT-S.Query:3\r\nAT-S.OK\r\n"
    assert notes.having("reset: RST after 3 bytes on tcp server 0 client 0")
    with pytest.raises(ConnectionResetError):
        await r.read()
    w.close()
    with pytest.raises(ControlError):
        await ctl(m, "fault.socket", server=1, id=0, kind="reset")
    await m.device.shutdown()


async def test_held_bytes_stay_within_the_socket_buffer(tmp_path):
    """A stalled or delayed socket under a flood holds no more than its buffer's room."""
    m, notes = await boot(tmp_path)
    srv, port, _ = await talker(b"f" * 1_000_000)
    async with srv:
        await ctl(m, "fault.add", kind="stall", match=f"*:{port}", after=0, times=1)
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        await notes.wait("stall:")
        conn = m.device.sockets.clients[0]
        assert conn.faults.held <= conn.capacity
        assert await m.cmd("AT+S.SOCKQ=0") == b"AT-S.Query:0\r\nAT-S.OK\r\n"
        # A 10 s delay: what arrives waits in the plan, reading pauses once the room is gone.
        await ctl(m, "fault.add", kind="delay", match=f"*:{port}", ms=10000)
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        conn = m.device.sockets.clients[1]
        await notes.wait("bytes held, reading paused")
        assert conn.faults.held == conn.capacity and not conn.buf
        assert await m.cmd("AT") == b"AT-S.OK\r\n"
    await m.device.shutdown()


async def test_a_rule_counts_only_sockets_it_means_something_on(tmp_path):
    m, _ = await boot(tmp_path)
    srv, port, _ = await talker(b"")
    async with srv:
        await ctl(m, "fault.add", kind="tls_cert", cert="unknown", times=1)
        await ctl(m, "fault.add", kind="loss", rate=1, times=1)
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(b"AT-S.OK\r\n")
        # A TCP connect used up neither.
        assert [r["fired"] for r in (await ctl(m, "fault.list"))["rules"]] == [0, 0]
    await m.device.shutdown()
