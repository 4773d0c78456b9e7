# ruff: noqa: F811  (pytest fixtures imported from netsupport are parameters here)
"""PING and NTP through the module's console bytes (in-process module, real loopback peers).

Until the radio part joins networks, the link-up the radio will signal is called directly:
``device.net.on_link_up()`` is exactly what the radio calls after its IPv4 +WIND:24.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from netsupport import (  # noqa: F401  (fixtures)
    SntpServer,
    closed_udp_port,
    has_ipv6_loopback,
    sntp_server,
)

import harness
from atwifi.spwf04.parts import PARTS
from atwifi.spwf04.parts.net import Net


class TraceNotes:
    """Collects the trace notes the device writes (what `--trace FILE` records as notes)."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.changed = asyncio.Event()

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.changed.set()

    def __getattr__(self, name: str) -> object:  # any other trace hook: ignore
        return lambda *a, **k: None

    async def wait_for(self, needle: str) -> str:
        async def wait() -> str:
            while True:
                for n in self.notes:
                    if needle in n:
                        return n
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), 20)


@pytest.fixture
async def quiet_module(module):
    """A booted module, echo off, on a quiet console with an IP link. With a radio part the
    module joins the default world's open network at boot: wait until that settles and drop
    its WINDs; without one the host's own network is the link."""
    radio = module.device.radio
    if radio is not None and hasattr(radio, "wait_settled"):
        await asyncio.wait_for(radio.wait_settled(), 30)
    # Set directly, not by command, so no boot WIND can land in a reply this fixture reads.
    module.device.config.set("console_echo", "0")
    module.take()
    return module


@pytest.fixture
def notes(quiet_module) -> TraceNotes:
    t = TraceNotes()
    quiet_module.device.trace = t
    return t


async def test_device_publishes_net(quiet_module) -> None:
    assert isinstance(quiet_module.device.net, Net)
    assert quiet_module.device.net.policy.loopback_only


async def test_ntp_sets_time_and_prints_wind84(quiet_module, sntp_server: SntpServer) -> None:
    m = quiet_module
    assert await m.cmd(f"AT+S.SCFG=ip_ntp_server1,127.0.0.1:{sntp_server.port}") == b"AT-S.OK\r\n"
    before = await m.cmd("AT+S.TIME")
    assert before.startswith(b"AT-S.Date:70.01.01:")
    m.device.net.on_link_up()
    wind = await m.read_until(re.compile(rb"\+WIND:84:[^\r]*\r\n"))
    # 2031-02-03 04:05:06 UTC, a Monday
    assert wind.endswith(b"+WIND:84:NTP Server Delivery:31.2.3:1:4.5.6\r\n")
    out = await m.cmd("AT+S.TIME")
    assert out.startswith(b"AT-S.Date:31.02.03:01\r\nAT-S.Time:04.05.")
    assert out.endswith(b"AT-S.OK\r\n")
    assert m.device.clock.is_set


async def test_ntp_via_world_name_then_second_server(
    quiet_module, sntp_server: SntpServer, closed_udp_port: int
) -> None:
    m = quiet_module
    m.device.world = type("World", (), {"hosts": {"time.test": "127.0.0.1"}, "policy": None})()
    await m.cmd(f"AT+S.SCFG=ip_ntp_server1,127.0.0.1:{closed_udp_port}")
    await m.cmd(f"AT+S.SCFG=ip_ntp_server2,time.test:{sntp_server.port}")
    m.device.net.on_link_up()
    await m.read_until(b"+WIND:84:NTP Server Delivery:31.2.3:1:4.5.6\r\n")


async def test_factory_ntp_servers_stay_on_the_machine(quiet_module, notes: TraceNotes) -> None:
    m = quiet_module
    # One round of our own: the boot's background round may have begun before the notes
    # were collected (its "no server answered" then came without the lines before it).
    m.device.net.stop_ntp()
    assert not await m.device.net.sync_time()
    assert any(n.startswith("NTP: no server answered") for n in notes.notes)
    assert any("ptbtime1.ptb.de" in n and "blocked by network policy" in n for n in notes.notes)
    assert b"+WIND:84" not in m.take()
    assert (await m.cmd("AT+S.TIME")).startswith(b"AT-S.Date:70.01.01:")


async def test_ntp_startup_off(quiet_module, sntp_server: SntpServer, notes: TraceNotes) -> None:
    m = quiet_module
    await m.cmd(f"AT+S.SCFG=ip_ntp_server1,127.0.0.1:{sntp_server.port}")
    await m.cmd("AT+S.SCFG=ip_ntp_startup,0")
    m.device.net.on_link_up()
    assert await m.cmd("AT") == b"AT-S.OK\r\n"
    assert sntp_server.requests == []


async def test_wind84_masked(quiet_module, sntp_server: SntpServer) -> None:
    m = quiet_module
    await m.cmd(f"AT+S.SCFG=ip_ntp_server1,127.0.0.1:{sntp_server.port}")
    await m.cmd("AT+S.SCFG=console_wind_off_high,0x00100000")  # bit 20: WIND 84
    assert await m.device.net.sync_time()
    assert b"+WIND:84" not in m.take()
    assert (await m.cmd("AT+S.TIME")).startswith(b"AT-S.Date:31.02.03:01")


async def test_ping_loopback(quiet_module) -> None:
    out = await quiet_module.cmd("AT+S.PING=3,32,127.0.0.1")
    lines = out.split(b"\r\n")
    assert lines[-2:] == [b"AT-S.OK", b""]
    replies = [
        re.fullmatch(rb"AT-S\.Reply:(\d+):127\.0\.0\.1:(\d+):(\d+)ms", x) for x in lines[:-2]
    ]
    assert all(replies), out
    assert [int(r[1]) for r in replies] == [1, 2, 3]  # type: ignore[index]


async def test_ping_defaults_and_names(quiet_module) -> None:
    out = await quiet_module.cmd("AT+S.PING=,,localhost")
    assert re.fullmatch(rb"AT-S\.Reply:1:127\.0\.0\.1:\d+:\d+ms\r\nAT-S\.OK\r\n", out), out
    if has_ipv6_loopback():
        out = await quiet_module.cmd("AT+S.PING=,,::1")
        assert out.startswith(b"AT-S.Reply:1:::1:") and out.endswith(b"AT-S.OK\r\n")


async def test_ping_blocked_fails_as_unreachable(quiet_module, notes: TraceNotes) -> None:
    out = await quiet_module.cmd("AT+S.PING=2,,192.0.2.1")
    assert out == b"AT-S.ERROR:60:IP not ready to send\r\n"
    assert any("blocked by network policy: 192.0.2.1" in n for n in notes.notes)


async def test_ping_unknown_name(quiet_module, notes: TraceNotes) -> None:
    out = await quiet_module.cmd("AT+S.PING=1,56,no-such-host.example")
    assert out == b"AT-S.ERROR:65:DNS address failure\r\n"
    assert any("DNS blocked by network policy: no-such-host.example" in n for n in notes.notes)


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("AT+S.PING", b"AT-S.ERROR:2:Missing argument(s)\r\n"),
        ("AT+S.PING=1,56", b"AT-S.ERROR:2:Missing argument(s)\r\n"),
        ("AT+S.PING=1001,56,127.0.0.1", b"AT-S.ERROR:8:Invalid value\r\n"),
        ("AT+S.PING=x,56,127.0.0.1", None),
        ("AT+S.PING=1,-5,127.0.0.1", None),
    ],
)
async def test_ping_bad_input(quiet_module, line: str, reply: bytes | None) -> None:
    out = await quiet_module.cmd(line)
    if reply is None:
        assert out.startswith(b"AT-S.ERROR:")
    else:
        assert out == reply
    assert await quiet_module.cmd("AT") == b"AT-S.OK\r\n"  # and the module goes on


async def test_ping_counter_zero_sends_nothing(quiet_module) -> None:
    assert await quiet_module.cmd("AT+S.PING=0,56,127.0.0.1") == b"AT-S.OK\r\n"


async def test_ntp_refresh_cancelled_by_reset(quiet_module, sntp_server: SntpServer) -> None:
    m = quiet_module
    await m.cmd(f"AT+S.SCFG=ip_ntp_server1,127.0.0.1:{sntp_server.port}")
    net = m.device.net
    net.on_link_up()
    await m.read_until(b"+WIND:84:")
    task = net._ntp_task
    assert task is not None and not task.done()
    await m.device.reboot()
    assert task.done()


async def test_ntp_overrides_time_set_by_hand(quiet_module, sntp_server: SntpServer) -> None:
    m = quiet_module
    assert await m.cmd("AT+S.TIME=1700000000") == b"AT-S.OK\r\n"
    assert (await m.cmd("AT+S.TIME")).startswith(b"AT-S.Date:23.11.14:")
    await m.cmd(f"AT+S.SCFG=ip_ntp_server1,127.0.0.1:{sntp_server.port}")
    assert await m.device.net.sync_time()
    await m.read_until(b"+WIND:84:NTP Server Delivery:31.2.3:1:4.5.6\r\n")
    assert (await m.cmd("AT+S.TIME")).startswith(b"AT-S.Date:31.02.03:01")
    sts = await m.cmd("AT+S.STS=system_time")
    assert re.match(rb"AT-S\.Var:system_time=19278579\d\d\r\n", sts), sts


async def test_ping_needs_an_ip_link_when_a_radio_exists(quiet_module) -> None:
    m = quiet_module
    if m.device.radio is None:
        m.device.radio = object()  # as if a radio part were present
    m.device.status.set("wifi_state", 3)  # radio idle
    assert await m.cmd("AT+S.PING=1,56,127.0.0.1") == b"AT-S.ERROR:60:IP not ready to send\r\n"
    m.device.status.set("wifi_state", 10)  # link up
    assert (await m.cmd("AT+S.PING=1,56,127.0.0.1")).endswith(b"AT-S.OK\r\n")


async def test_join_runs_ntp_at_link_up(tmp_path, sntp_server: SntpServer) -> None:
    """The whole path: saved ip_ntp_server1 -> boot -> the radio joins -> +WIND:24 ->
    device.net.on_link_up() -> +WIND:84 -> AT+S.TIME. Needs the radio part."""
    if not any(ref.endswith(":RadioPart") for ref in PARTS):
        pytest.skip("no radio part in this build: nothing signals link-up")
    m = harness.InProcessModule(tmp_path / "state")
    try:
        m.device.config.set("console_echo", "0")
        m.device.config.set("ip_ntp_server1", f"127.0.0.1:{sntp_server.port}")
        m.device.config.save()
        await m.device.power_on()
        out = await m.read_until(b"+WIND:84:NTP Server Delivery:31.2.3:1:4.5.6\r\n")
        assert b"+WIND:24:WiFi Up:" in out
        assert out.index(b"+WIND:24:") < out.index(b"+WIND:84:")
        assert (await m.cmd("AT+S.TIME")).startswith(b"AT-S.Date:31.02.03:01\r\n")
        ping = await m.cmd("AT+S.PING=2,,127.0.0.1")
        assert ping.startswith(b"AT-S.Reply:1:127.0.0.1:56:") and ping.endswith(b"AT-S.OK\r\n")
    finally:
        await m.device.shutdown()


async def test_sockets_use_names_and_policy(quiet_module, notes: TraceNotes) -> None:
    """SOCKON goes through device.net: [hosts] names, error 65 for unknown names, error 74
    (as an unreachable host) for a destination outside the policy, with the reason traced."""
    if quiet_module.device.sockets is None:
        pytest.skip("no sockets part in this build")
    m = quiet_module
    accepted = asyncio.Event()

    done = asyncio.Event()

    async def on_client(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        accepted.set()
        await done.wait()  # keep the connection open: no WIND:58 in the replies below
        w.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        m.device.world = type(
            "World", (), {"hosts": {"broker.test": "127.0.0.1"}, "policy": None}
        )()
        out = await m.cmd(f"AT+S.SOCKON=broker.test,{port},,t")
        assert out == b"AT-S.On:127.0.0.1:0\r\nAT-S.OK\r\n", out
        await asyncio.wait_for(accepted.wait(), 20)
        out = await m.cmd("AT+S.SOCKON=192.0.2.1,80,,t")
        assert out == b"AT-S.ERROR:74:Failed to open socket\r\n"
        assert "blocked by network policy: 192.0.2.1" in notes.notes
        out = await m.cmd("AT+S.SOCKON=nowhere.test,80,,t")
        assert out == b"AT-S.ERROR:65:DNS address failure\r\n"
        assert await m.cmd("AT+S.SOCKC=0") == b"AT-S.OK\r\n"
    finally:
        done.set()
        server.close()
        await server.wait_closed()


async def test_ping_own_address_answers(quiet_module, notes: TraceNotes) -> None:
    m = quiet_module
    if m.device.radio is None:
        pytest.skip("no radio part: the module has no address of its own")
    own = m.device.status.get("ip_ipaddr")
    assert own != "0.0.0.0"
    out = await m.cmd(f"AT+S.PING=1,20,{own}")
    assert out.startswith(f"AT-S.Reply:1:{own}:20:".encode()) and out.endswith(b"AT-S.OK\r\n")
    assert any("the module's own address" in n for n in notes.notes)
    # the world's gateway is a real host destination: outside loopback, it is blocked
    gw = m.device.status.get("ip_gw")
    assert await m.cmd(f"AT+S.PING=1,20,{gw}") == b"AT-S.ERROR:60:IP not ready to send\r\n"
    assert f"blocked by network policy: {gw} (ping, nothing sent)" in notes.notes
