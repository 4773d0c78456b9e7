"""Boot, reset and status: the boot WINDs byte for byte, counters, reset reasons, the clock,
RANDOM, STS, PEERS and HELP."""

from __future__ import annotations

import re
import time

import pytest
from coreutil import reset_and_wait

from atwifi.spwf04.table.commands import COMMANDS
from atwifi.spwf04.table.peer_vars import PEER_VARS
from atwifi.spwf04.table.status_vars import STATUS_VARS

OK = b"AT-S.OK\r\n"
E4 = b"AT-S.ERROR:4:Variable not found\r\n"
BOOT = (
    b"+WIND:1:Poweron:171117-0328fe3-SPWF04S\r\n"
    b"+WIND:13:Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved:SPWF04SA\r\n"
    b"+WIND:0:Console active\r\n"
    b"+WIND:32:WiFi Hardware Started\r\n"
)


async def sts(m, name: str) -> str:
    out = await m.cmd(f"AT+S.STS={name}")
    match = re.fullmatch(rb"AT-S\.Var:([^=]+)=(.*)\r\nAT-S\.OK\r\n", out, re.S)
    assert match, out
    return match.group(2).decode("latin-1")


# -- boot ----------------------------------------------------------------------------------


async def test_power_on_prints_the_boot_winds_exactly(tmp_path):
    from harness import InProcessModule

    m = InProcessModule(tmp_path / "state")
    try:
        # The radio adds its WINDs after WIND:32 (joining); these four come first.
        assert (await m.boot()).startswith(BOOT)
    finally:
        await m.device.shutdown()


async def test_boot_sequence_bytes(module):
    boot = await module.restart()
    assert boot.startswith(BOOT)
    # Nothing may follow the text of WIND:0 and WIND:32 (drivers match the whole line).
    assert b"+WIND:0:Console active\r\n" in boot and b"+WIND:32:WiFi Hardware Started\r\n" in boot


async def test_reset_answers_ok_then_boots(quiet_module):
    m = quiet_module
    m.send(b"AT+S.RESET\r")
    out = await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    assert out == OK + BOOT
    await m.settle()
    # The fixture's console_echo=0 was never saved: the reset brought the echo back.
    m.send(b"AT\r")
    assert await m.reply() == b"AT\r\nAT-S.OK\r\n"


async def test_reset_brings_back_the_saved_configuration(module):
    assert await module.cmd("AT+S.SCFG=console_echo,0", echo=True) == OK
    module.send(b"AT+S.RESET\r")
    await module.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    await module.settle()
    module.send(b"AT\r")
    assert await module.reply() == b"AT\r\nAT-S.OK\r\n"


async def test_reset_reason_and_counters(quiet_module):
    m = quiet_module
    assert await sts(m, "reset_reason") == "0"
    assert await sts(m, "nv_power_cycles") == "1"
    assert await sts(m, "nv_reset_cycles") == "0"
    assert await sts(m, "nv_wdog_resets") == "0"
    assert await m.cmd("AT+S.WCFG") == OK  # keep the echo off across resets
    await reset_and_wait(m)
    assert await sts(m, "reset_reason") == "2"
    assert await sts(m, "nv_reset_cycles") == "1"
    await reset_and_wait(m)
    assert await sts(m, "nv_reset_cycles") == "2"
    assert await sts(m, "nv_power_cycles") == "1"
    await m.restart()
    assert await sts(m, "reset_reason") == "0"
    assert await sts(m, "nv_power_cycles") == "2"
    assert await sts(m, "nv_reset_cycles") == "2"


async def test_wifi_state_after_boot(quiet_module):
    # 3 (radio idle) at least; the radio part moves it on (10: joined the world's network).
    state = await sts(quiet_module, "wifi_state")
    assert int(state) >= 3
    assert state == str(quiet_module.device.status.get("wifi_state"))


async def test_pipelined_commands_after_reset_are_dropped_with_the_reboot(quiet_module):
    # The module reboots after its OK; what was still buffered is lost, as on a real reboot.
    m = quiet_module
    m.send(b"AT+S.RESET\rAT+S.STS=build\r")
    out = await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    assert out == OK + BOOT
    await m.settle()
    m.send(b"AT\r")
    assert await m.reply() in (OK, b"AT\r\n" + OK)


# -- the clock -----------------------------------------------------------------------------


TIME_LINES = re.compile(
    rb"AT-S\.Date:(\d\d)\.(\d\d)\.(\d\d):(\d\d)\r\nAT-S\.Time:(\d\d)\.(\d\d)\.(\d\d)\r\n"
    + re.escape(OK)
)


def time_lines(t: int) -> bytes:
    """What AT+S.TIME prints at ``t``: two-digit fields, year modulo 100, 00 = Sunday."""
    g = time.gmtime(t)
    return (
        f"AT-S.Date:{g.tm_year % 100:02d}.{g.tm_mon:02d}.{g.tm_mday:02d}:{(g.tm_wday + 1) % 7:02d}"
        f"\r\nAT-S.Time:{g.tm_hour:02d}.{g.tm_min:02d}.{g.tm_sec:02d}\r\n"
    ).encode() + OK


def shown_near(out: bytes, t: int) -> bool:
    """The clock runs while the test does: allow the few seconds a slow machine may take."""
    assert TIME_LINES.fullmatch(out), out
    return any(out == time_lines(t + d) for d in range(5))


async def test_clock_starts_in_1970(quiet_module):
    out = await quiet_module.cmd("AT+S.TIME")
    assert out.startswith(b"AT-S.Date:70.01.01:04\r\nAT-S.Time:00.")  # a Thursday
    assert not quiet_module.device.clock.is_set


@pytest.mark.parametrize(
    "t",
    [
        1700000000,  # Tue 14 Nov 2023 22:13:20
        951782400,  # Tue 29 Feb 2000
        1735689599,  # Tue 31 Dec 2024 23:59:59
        4102444800,  # Fri 1 Jan 2100: the year prints as 00
        0xFFFFFFFF,  # Sun 7 Feb 2106, the last second of the RTC
        0,
    ],
)
async def test_time_set_and_get(quiet_module, t):
    m = quiet_module
    assert await m.cmd(f"AT+S.TIME={t}") == OK
    assert shown_near(await m.cmd("AT+S.TIME"), t)
    system_time = int(await sts(m, "system_time"))
    assert t <= system_time <= t + 5
    assert m.device.clock.is_set


async def test_time_exact_line_format(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.TIME=1700000000") == OK
    out = await m.cmd("AT+S.TIME")
    assert out.startswith(b"AT-S.Date:23.11.14:02\r\nAT-S.Time:22.13.2")


@pytest.mark.parametrize("bad", ["-1", "4294967296", "99999999999999999999"])
async def test_time_out_of_range(quiet_module, bad):
    assert await quiet_module.cmd(f"AT+S.TIME={bad}") == b"AT-S.ERROR:8:Invalid value\r\n"
    assert shown_near(await quiet_module.cmd("AT+S.TIME"), 0)


async def test_clock_runs_across_reset_and_restarts_at_power_on(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.WCFG") == OK
    assert await m.cmd("AT+S.TIME=1700000000") == OK
    await reset_and_wait(m)
    assert int(await sts(m, "system_time")) >= 1700000000
    await m.restart()
    assert int(await sts(m, "system_time")) < 3600


# -- RANDOM, STS ---------------------------------------------------------------------------


async def test_random_sets_random_number(quiet_module):
    m = quiet_module
    values = set()
    for _ in range(5):
        out = await m.cmd("AT+S.RANDOM")
        match = re.fullmatch(rb"AT-S\.Number:(\d+)\r\n" + re.escape(OK), out)
        assert match, out
        n = int(match.group(1))
        assert 0 <= n <= 0xFFFFFFFF
        assert await sts(m, "random_number") == str(n)
        values.add(n)
    assert len(values) > 1


async def test_sts_lists_every_table_8_variable_in_order(quiet_module):
    out = await quiet_module.cmd("AT+S.STS")
    names = re.findall(rb"AT-S\.Var:([^=]+)=", out)
    assert [n.decode() for n in names] == [v.name for v in STATUS_VARS]
    assert out.endswith(OK)


async def test_sts_of_one_variable(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.STS=fw_version") == b"AT-S.Var:fw_version=1.1.0\r\n" + OK
    assert await m.cmd("AT+S.STS=build") == b"AT-S.Var:build=171117-0328fe3-SPWF04S\r\n" + OK
    assert await m.cmd("AT+S.STS=IP_FROM_AUTOIP") == b"AT-S.Var:ip_from_AutoIP=0\r\n" + OK


async def test_sts_follows_the_configuration(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=nv_wifi_macaddr,02:00:00:AA:BB:CC") == OK
    assert await sts(m, "wifi_own_macaddr") == "02:00:00:AA:BB:CC"


@pytest.mark.parametrize("name", ["nope", "console_echo", "fw_versio"])
async def test_sts_unknown_variable_is_error_4(quiet_module, name):
    assert await quiet_module.cmd(f"AT+S.STS={name}") == E4


# -- PEERS ---------------------------------------------------------------------------------


def peer_names(out: bytes, n: int = 0) -> list[str]:
    return [x.decode() for x in re.findall(rb"AT-S\.Var:%d\.([^=]+)=" % n, out)]


async def test_peers_lists_entry_0(quiet_module):
    out = await quiet_module.cmd("AT+S.PEERS")
    assert peer_names(out) == [v.name for v in PEER_VARS]
    assert re.search(rb"AT-S\.Var:0\.addr=([0-9A-F]{2}:){5}[0-9A-F]{2}\r\n", out)
    assert re.search(rb"AT-S\.Var:0\.rate_mask=0x[0-9A-F]{8}\r\n", out)
    assert out.endswith(OK)


async def test_peers_forms(quiet_module):
    m = quiet_module
    assert peer_names(await m.cmd("AT+S.PEERS=0")) == peer_names(await m.cmd("AT+S.PEERS"))
    out = await m.cmd("AT+S.PEERS=0,rx_rssi")
    assert re.fullmatch(rb"AT-S\.Var:0\.rx_rssi=-?\d+\r\n" + re.escape(OK), out), out


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("AT+S.PEERS=1", b"AT-S.ERROR:8:Invalid value\r\n"),
        ("AT+S.PEERS=5,addr", b"AT-S.ERROR:8:Invalid value\r\n"),
        ("AT+S.PEERS=0,nope", E4),
        ("AT+S.PEERS=,addr", b"AT-S.ERROR:2:Missing argument(s)\r\n"),
        ("AT+S.PEERS=x", b"AT-S.ERROR:7:Invalid argument(s)\r\n"),
        ("AT+S.PEERS=0,addr,1", b"AT-S.ERROR:6:Too many argument(s)\r\n"),
    ],
)
async def test_peers_errors(quiet_module, line, reply):
    assert await quiet_module.cmd(line) == reply


# -- HELP ----------------------------------------------------------------------------------


async def test_help_lists_every_command_of_table_1(quiet_module):
    out = await quiet_module.cmd("AT+S.HELP")
    lines = out.split(b"\r\n")[:-2]
    assert lines == [f"AT-S.Command:{c.at} -- {c.summary}".encode() for c in COMMANDS]
    assert out.endswith(OK)


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        ("sockw", ["AT+S.SOCKW", "AT+S.WSOCKW"]),
        ("SOCKDW", ["AT+S.SOCKDW"]),
        ("CFG", ["AT+S.GCFG", "AT+S.SCFG", "AT+S.WCFG", "AT+S.FCFG"]),
        ("mqtt", [c.at for c in COMMANDS if "mqtt" in (c.at + c.summary).lower()]),
        ("no such thing", []),
    ],
)
async def test_help_with_a_keyword(quiet_module, keyword, expected):
    out = await quiet_module.cmd(f"AT+S.HELP={keyword}")
    shown = [x.decode() for x in re.findall(rb"AT-S\.Command:(\S+) -- ", out)]
    assert shown == expected
    assert out.endswith(OK)


async def test_help_keyword_matches_the_summary_too(quiet_module):
    out = await quiet_module.cmd("AT+S.HELP=random number")
    assert out == b"AT-S.Command:AT+S.RANDOM -- Provide random number\r\n" + OK
