"""Configuration (Table 7) and the flash: factory values, SCFG validation per type, WCFG/FCFG,
restarts, corrupt flash, and a real process killed with SIGKILL while it saves."""

from __future__ import annotations

import asyncio
import json
import random
import re
import signal

import pytest
from coreutil import needs_serve, reset_and_wait

from atwifi.services.flash import Flash
from atwifi.spwf04.table.config_vars import CONFIG_BY_NAME, CONFIG_VARS
from harness import ServedModule, spawn_serve, stop_serve

OK = b"AT-S.OK\r\n"
E2 = b"AT-S.ERROR:2:Missing argument(s)\r\n"
E4 = b"AT-S.ERROR:4:Variable not found\r\n"
E8 = b"AT-S.ERROR:8:Invalid value\r\n"
E32 = b"AT-S.ERROR:32:Argument exceeds allowed size\r\n"
FACTORY_RESET = b"+WIND:65:Factory Reset:1\r\n"


def var_line(name: str, value: str) -> bytes:
    return f"AT-S.Var:{name}={value}\r\n".encode("latin-1")


async def gcfg(m, name: str) -> str:
    out = await m.cmd(f"AT+S.GCFG={name}")
    match = re.fullmatch(rb"AT-S\.Var:([^=]+)=(.*)\r\nAT-S\.OK\r\n", out, re.S)
    assert match, out
    return match.group(2).decode("latin-1")


def factory_listing() -> bytes:
    return b"".join(var_line(v.name, v.default) for v in CONFIG_VARS) + OK


# -- factory values ----------------------------------------------------------------------------


async def test_gcfg_lists_every_table_7_variable_with_its_factory_value(quiet_module):
    # The echo was switched off by the fixture: put the factory value back for the comparison.
    quiet_module.device.config.set_value("console_echo", 1)
    out = await quiet_module.cmd("AT+S.GCFG", echo=True)
    assert out == factory_listing()
    assert len(CONFIG_VARS) == 105


@pytest.mark.parametrize("var", CONFIG_VARS, ids=lambda v: v.name)
async def test_gcfg_of_one_variable(module, var):
    assert await module.cmd(f"AT+S.GCFG={var.name}") == var_line(var.name, var.default) + OK


async def test_gcfg_of_an_unknown_variable_is_error_4(quiet_module):
    assert await quiet_module.cmd("AT+S.GCFG=console_echoo") == E4
    assert await quiet_module.cmd("AT+S.SCFG=console_echoo,1") == E4


# -- SCFG per type -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "reply", "shown"),
    [
        # INT with a stated range
        ("console_speed", "9600", OK, "9600"),
        ("console_speed", "921600", OK, "921600"),
        ("console_speed", "9599", E8, "115200"),
        ("console_speed", "921601", E8, "115200"),
        ("console_speed", "fast", E8, "115200"),
        ("wifi_ssid_len", "33", E8, "6"),
        ("wifi_tx_power", "-1", E8, "18"),
        ("standby_time", "4294967295", OK, "4294967295"),
        ("standby_time", "4294967296", E8, "10"),
        # HEX: printed with the factory value's width
        ("console_wind_off_low", "0xFF", OK, "0x000000FF"),
        ("console_wind_off_low", "ff", OK, "0x000000FF"),
        ("console_wind_off_high", "0xFFFFFFFF", OK, "0xFFFFFFFF"),
        ("console_wind_off_high", "0x100000000", E8, "0x00000000"),
        ("console_wind_off_low", "0xG", E8, "0x00000000"),
        ("wifi_opr_rate_mask", "0x3f", OK, "0x0000003F"),
        # HEX[n], with and without colons
        ("nv_wifi_macaddr", "aa:bb:cc:dd:ee:ff", OK, "AA:BB:CC:DD:EE:FF"),
        ("nv_wifi_macaddr", "AABBCCDDEEFF", OK, "AA:BB:CC:DD:EE:FF"),
        ("nv_wifi_macaddr", "00:11:22:33:44:55:66", E32, "00:80:E1:FA:12:34"),
        ("nv_wifi_macaddr", "00112233445566", E32, "00:80:E1:FA:12:34"),
        ("nv_wifi_macaddr", "0:1:2:3:4:5", E8, "00:80:E1:FA:12:34"),
        ("nv_wifi_macaddr", "ABC", E8, "00:80:E1:FA:12:34"),
        ("nv_wifi_macaddr", "zz:zz:zz:zz:zz:zz", E8, "00:80:E1:FA:12:34"),
        ("wifi_wpa_psk_raw", "01:02", OK, "01:02"),
        ("wifi_wpa_psk_raw", "01" * 32, OK, ":".join(["01"] * 32)),
        ("wifi_wpa_psk_raw", "01" * 33, E32, "00:00"),
        # TEXT[n]
        ("user_desc", "u" * 16, OK, "u" * 16),
        ("user_desc", "u" * 17, E32, "anonymous"),
        ("user_desc", "two words, comma", OK, "two words, comma"),
        ("ip_hostname", "h" * 32, OK, "h" * 32),
        ("ip_hostname", "h" * 33, E32, "iwm-FA-12-34"),
        ("wifi_wpa_psk_text", "p" * 64, OK, "p" * 64),
        ("wifi_wpa_psk_text", "p" * 65, E32, ""),
        # IP
        ("ip_ipaddr", "10.0.0.7", OK, "10.0.0.7"),
        ("ip_ipaddr", "10.0.0.256", E8, "192.168.0.50"),
        ("ip_ipaddr", "10.0.0", E8, "192.168.0.50"),
        ("ip_ipaddr", "::1", E8, "192.168.0.50"),
        ("ip_gw", "host.example", E8, "192.168.0.1"),
        # IPv6
        ("ip_local", "fe80:0:0:0:0:0:1", OK, "fe80:0:0:0:0:0:1"),
        ("ip_local", "::1", OK, "::1"),
        ("ip_dns1v6", "2001:db8::zz", E8, "0:0:0:0:0:0:0"),
        ("ip_dns1v6", "1:2:3:4:5:6:7:8:9", E8, "0:0:0:0:0:0:0"),
        ("ip_dns1v6", "10.0.0.1", E8, "0:0:0:0:0:0:0"),
        # LIST of numbers
        ("ip_mdns_services_port", "80 8080 69", OK, "80 8080 69"),
        ("ip_mdns_services_port", "80 http", E8, "80 69"),
    ],
)
async def test_scfg_validates_per_type(quiet_module, name, value, reply, shown):
    assert await quiet_module.cmd(f"AT+S.SCFG={name},{value}") == reply
    assert await gcfg(quiet_module, name) == shown


async def test_scfg_without_a_value(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=console_echo") == E2
    assert await m.cmd("AT+S.SCFG=console_echo,") == E2
    assert await m.cmd("AT+S.SCFG=ip_ipaddr,(null)") == E2
    assert await m.cmd("AT+S.SCFG=user_desc,") == OK
    assert await gcfg(m, "user_desc") == ""


async def test_scfg_variable_names_ignore_case(quiet_module):
    assert await quiet_module.cmd("AT+S.SCFG=Console_Errs,1") == OK
    assert await quiet_module.cmd("AT+S.GCFG=console_errs") == b"AT-S.Var:console_errs=1\r\n" + OK


async def test_every_console_is_accepted(quiet_module):
    # SPI (0, tests/spi), UART (1), MicroPython (2, 3: tests/python); nothing else.
    for value in ("0", "00", "+0", "0x0", "1", "2", "0x2", "03"):
        assert await quiet_module.cmd(f"AT+S.SCFG=console_enabled,{value}") == OK
    assert await quiet_module.cmd("AT+S.SCFG=console_enabled,4") != OK


async def test_echo_off_takes_effect_on_the_next_command(module):
    module.send(b"AT+S.SCFG=console_echo,0\r")
    assert await module.reply() == b"AT+S.SCFG=console_echo,0\r\nAT-S.OK\r\n"
    module.send(b"AT\r")
    assert await module.reply() == OK
    module.send(b"AT+S.SCFG=console_echo,1\r")
    assert await module.reply() == OK  # not echoed: echo was still off when it arrived
    module.send(b"AT\r")
    assert await module.reply() == b"AT\r\nAT-S.OK\r\n"


# -- SSIDTXT keeps wifi_ssid and wifi_ssid_len in step -----------------------------------------


async def test_ssidtxt_factory(quiet_module):
    assert await quiet_module.cmd("AT+S.SSIDTXT") == b"AT-S.Network:STTest\r\n" + OK


@pytest.mark.parametrize(
    ("text", "octets"),
    [
        ("home", "68:6F:6D:65:00"),
        ("a,b c", "61:2C:62:20:63:00"),
        ("x" * 32, ":".join(["78"] * 32)),  # no room for the NUL
    ],
)
async def test_ssidtxt_sets_both_variables(quiet_module, text, octets):
    m = quiet_module
    assert await m.cmd(f"AT+S.SSIDTXT={text}") == OK
    assert await gcfg(m, "wifi_ssid") == octets
    assert await gcfg(m, "wifi_ssid_len") == str(len(text))
    assert await m.cmd("AT+S.SSIDTXT") == f"AT-S.Network:{text}\r\n".encode() + OK


async def test_ssidtxt_keeps_non_ascii_octets(quiet_module):
    m = quiet_module
    assert await m.cmd(b"AT+S.SSIDTXT=caf\xe9") == OK
    assert await gcfg(m, "wifi_ssid") == "63:61:66:E9:00"
    assert await m.cmd("AT+S.SSIDTXT") == b"AT-S.Network:caf\xe9\r\n" + OK


async def test_ssidtxt_reads_what_scfg_set(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=wifi_ssid,41:42:43:44") == OK
    assert await m.cmd("AT+S.SCFG=wifi_ssid_len,2") == OK
    assert await m.cmd("AT+S.SSIDTXT") == b"AT-S.Network:AB\r\n" + OK
    assert await m.cmd("AT+S.SCFG=wifi_ssid_len,32") == OK  # longer than the octets set
    assert await m.cmd("AT+S.SSIDTXT") == b"AT-S.Network:ABCD\r\n" + OK


async def test_ssidtxt_too_long_changes_nothing(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SSIDTXT=" + "y" * 33) == E32
    assert await gcfg(m, "wifi_ssid") == CONFIG_BY_NAME["wifi_ssid"].default
    assert await gcfg(m, "wifi_ssid_len") == "6"


# -- WCFG, FCFG, RESET, restart ----------------------------------------------------------------


async def test_saved_value_survives_reset(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=user_desc,kept") == OK
    assert await m.cmd("AT+S.WCFG") == OK
    await reset_and_wait(m)
    assert await gcfg(m, "user_desc") == "kept"
    assert await gcfg(m, "console_echo") == "0"  # saved too, by the same WCFG


async def test_unsaved_value_is_gone_after_reset(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.WCFG") == OK  # echo off saved
    assert await m.cmd("AT+S.SCFG=user_desc,lost") == OK
    await reset_and_wait(m)
    assert await gcfg(m, "user_desc") == "anonymous"


async def test_saved_values_survive_power_cycles(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=ip_hostname,survivor") == OK
    assert await m.cmd("AT+S.SCFG=nv_wifi_macaddr,02:00:00:00:00:01") == OK
    assert await m.cmd("AT+S.WCFG") == OK
    for _ in range(2):
        boot = await m.restart()
        assert FACTORY_RESET not in boot
        assert await gcfg(m, "ip_hostname") == "survivor"
        assert await gcfg(m, "nv_wifi_macaddr") == "02:00:00:00:00:01"


async def test_fcfg_restores_factory_values_and_erases_the_saved_copy(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=user_desc,gone") == OK
    assert await m.cmd("AT+S.WCFG") == OK
    assert await m.cmd("AT+S.FCFG", echo=False) == OK
    # Factory values at once: the echo is back on.
    assert await m.cmd("AT+S.GCFG=user_desc", echo=True) == var_line("user_desc", "anonymous") + OK
    boot = await m.restart()
    assert FACTORY_RESET not in boot  # no saved copy is no corruption
    assert await m.cmd("AT+S.GCFG=user_desc") == var_line("user_desc", "anonymous") + OK
    assert await m.cmd("AT+S.GCFG=console_echo") == var_line("console_echo", "1") + OK


async def test_every_variable_round_trips_through_flash(quiet_module):
    m = quiet_module
    before = await m.cmd("AT+S.GCFG")
    assert await m.cmd("AT+S.WCFG") == OK
    await m.restart()
    assert await m.cmd("AT+S.GCFG") == before


# -- a damaged flash ---------------------------------------------------------------------------


def config_blob(m):
    return m.options.state_dir / "flash" / "config.bin"


async def saved_then_damaged(m, damage) -> bytes:
    assert await m.cmd("AT+S.SCFG=user_desc,before") == OK
    assert await m.cmd("AT+S.WCFG") == OK
    path = config_blob(m)
    data = bytearray(path.read_bytes())
    damage(path, data)
    boot = await m.restart()
    return boot


def flip_a_byte(path, data):
    data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))


def truncate(path, data):
    path.write_bytes(bytes(data[: len(data) - 7]))


def header_only(path, data):
    path.write_bytes(bytes(data[:5]))


def empty_file(path, data):
    path.write_bytes(b"")


def not_a_json_object(path, data):
    path.unlink()
    Flash(path.parent).write("config", b'["a list"]')


@pytest.mark.parametrize(
    "damage", [flip_a_byte, truncate, header_only, empty_file, not_a_json_object]
)
async def test_damaged_config_boots_with_factory_values_and_wind_65(quiet_module, damage):
    m = quiet_module
    boot = await saved_then_damaged(m, damage)
    assert boot.startswith(
        b"+WIND:1:Poweron:171117-0328fe3-SPWF04S\r\n"
        b"+WIND:13:Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved:SPWF04SA\r\n"
        + FACTORY_RESET
        + b"+WIND:0:Console active\r\n"
    )
    # Factory values: the echo is on again.
    assert await m.cmd("AT+S.GCFG=user_desc", echo=True) == var_line("user_desc", "anonymous") + OK
    # The damaged copy was dropped: the next boot is clean.
    boot = await m.restart()
    assert FACTORY_RESET not in boot


async def test_damaged_counters_do_not_stop_the_boot(quiet_module):
    m = quiet_module
    counters = m.options.state_dir / "flash" / "counters.bin"
    counters.write_bytes(b"junk")
    await m.restart()
    assert (
        await m.cmd("AT+S.STS=nv_power_cycles", echo=True) == var_line("nv_power_cycles", "1") + OK
    )


async def test_unknown_and_bad_saved_values_are_skipped(quiet_module):
    m = quiet_module
    flash = Flash(config_blob(m).parent)
    flash.write(
        "config",
        b'{"user_desc": "fine", "no_such_var": "1", "console_speed": "fast", "console_errs": 1}',
    )
    boot = await m.restart()
    assert FACTORY_RESET not in boot
    m.device.config.set_value("console_echo", 0)
    assert await gcfg(m, "user_desc") == "fine"
    assert await gcfg(m, "console_speed") == "115200"
    assert await gcfg(m, "console_errs") == "2"


# -- a real process killed with SIGKILL --------------------------------------------------------


async def connect(state, *extra) -> ServedModule:
    proc, port = await asyncio.to_thread(spawn_serve, state, *extra)
    served = ServedModule(proc, port)
    await served.connect()
    return served


async def close(served: ServedModule, hard: bool = False) -> None:
    await served.disconnect()
    await asyncio.to_thread(stop_serve, served.proc, hard)


async def boot_lines(served: ServedModule) -> bytes:
    """What the console shows up to the end of the boot, whenever we connected (the TCP
    console keeps what the module said before: the boot WINDs come first)."""
    out = await served.console_active()
    await served.send(b"\rAT+S.GCFG=console_errs\r")
    return out + await served.read_until(b"AT-S.OK\r\n")


@needs_serve
async def test_saved_value_survives_kill_9(tmp_path):
    state = tmp_path / "state"
    s = await connect(state)
    try:
        await boot_lines(s)
        assert (await s.cmd("AT+S.SCFG=user_desc,killed")).endswith(OK)
        assert (await s.cmd("AT+S.WCFG")).endswith(OK)
    finally:
        await close(s, hard=True)
    assert s.proc.returncode == -signal.SIGKILL
    s = await connect(state)
    try:
        out = await boot_lines(s)
        assert FACTORY_RESET not in out
        assert await gcfg_served(s, "user_desc") == "killed"
    finally:
        await close(s)


@needs_serve
async def test_kill_9_at_random_moments_while_saving(tmp_path):
    """Each round: a process saves a few times, then SIGKILL lands at a random moment around
    the next save. The flash must then hold the last value saved or the one being saved, never
    a damaged copy, and the next boot must not report a factory reset."""
    state = tmp_path / "state"
    rng = random.Random(4)
    old = "anonymous"
    for round_ in range(8):
        s = await connect(state)
        try:
            out = await boot_lines(s)
            assert FACTORY_RESET not in out, (round_, out)
            assert await gcfg_served(s, "user_desc") == old
            for i in range(rng.randrange(4)):
                old = f"r{round_}n{i}"
                await s.send(f"AT+S.SCFG=user_desc,{old}\rAT+S.WCFG\r".encode())
                assert (await s.reply()).endswith(OK)
                assert (await s.reply()).endswith(OK)
            new = f"r{round_}killed"
            await s.send(f"AT+S.SCFG=user_desc,{new}\rAT+S.WCFG\r".encode())
            # A jitter, not a wait: the kill lands before, during or after the save.
            await asyncio.sleep(rng.uniform(0, 0.004))
            s.proc.send_signal(signal.SIGKILL)
        finally:
            await close(s, hard=True)
        saved = Flash(state / "flash").read("config")  # raises CorruptBlob if damaged
        value = json.loads(saved)["user_desc"] if saved else "anonymous"
        assert value in {old, new}, (round_, value, old, new)
        old = value
    s = await connect(state)
    try:
        out = await boot_lines(s)
        assert FACTORY_RESET not in out
        assert await gcfg_served(s, "user_desc") == old
        # Temporary files of killed writers are cleaned up by the next process.
        assert not list((state / "flash").glob(".*.tmp"))
    finally:
        await close(s)


async def gcfg_served(s: ServedModule, name: str) -> str:
    reply = await s.cmd(f"AT+S.GCFG={name}")
    match = re.search(rb"AT-S\.Var:" + name.encode() + rb"=([^\r]*)\r\nAT-S\.OK\r\n$", reply)
    assert match, reply
    return match.group(1).decode("latin-1")


def test_every_int_variable_has_a_range() -> None:
    from atwifi.spwf04.table.config_vars import CONFIG_VARS
    from atwifi.spwf04.table.schema import VarType

    for var in CONFIG_VARS:
        if var.type is VarType.INT:
            assert var.min is not None and var.max is not None, var.name
            assert var.min <= int(var.default, 0) <= var.max, var.name


@pytest.mark.parametrize(
    "name",
    [
        "wifi_wps_walk_time",
        "ip_dhcp_timeout",
        "ip_ntp_refresh",
        "ip_sock_memsize",
        "ramdisk_memsize",
        "wifi_channelnum",
        "ip_dhcp_lease_time",
        "wifi_ap_idle_timeout",
    ],
)
async def test_a_400_digit_int_is_refused_and_the_module_goes_on(quiet_module, name) -> None:
    m = quiet_module
    before = await m.cmd(f"AT+S.GCFG={name}")
    assert await m.cmd(f"AT+S.SCFG={name},{'9' * 400}") == b"AT-S.ERROR:8:Invalid value\r\n"
    assert await m.cmd(f"AT+S.GCFG={name}") == before
    assert await m.cmd("AT") == b"AT-S.OK\r\n"


async def test_an_out_of_range_saved_int_boots_on_its_factory_value(quiet_module):
    # A flash written by an atwifi that had no ranges: the value must not reach the radio.
    m = quiet_module
    Flash(config_blob(m).parent).write(
        "config", json.dumps({"wifi_wps_walk_time": "9" * 400, "user_desc": "kept"}).encode()
    )
    await m.restart()
    m.device.config.set_value("console_echo", 0)
    assert await gcfg(m, "wifi_wps_walk_time") == "120"
    assert await gcfg(m, "user_desc") == "kept"
    assert await m.cmd("AT") == b"AT-S.OK\r\n"
