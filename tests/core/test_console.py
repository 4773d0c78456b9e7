"""The console through the device: echo, result forms, WIND forms and masks, WINDs held during
a reply, pipelining, over-long lines and garbage."""

from __future__ import annotations

import asyncio

import pytest
from coreutil import reset_and_wait
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

WIND55 = (55, "", 0, 3, 3)  # Pending Data on client socket 0, as a driver sees it
FSC_NOT_READY = b"AT+S.FSC=held.txt,10"


# -- echo -----------------------------------------------------------------------------------


async def test_factory_echo_is_the_command_text_then_crlf(module):
    module.send(b"at+s.gcfg=console_echo\r")
    out = await module.reply()
    assert out == b"at+s.gcfg=console_echo\r\nAT-S.Var:console_echo=1\r\nAT-S.OK\r\n"


async def test_echo_keeps_the_command_as_typed_and_drops_the_terminator(module):
    module.send(b"At+S.StS=Build\r\n")
    out = await module.reply()
    assert out.startswith(b"At+S.StS=Build\r\nAT-S.Var:build=")


async def test_echo_off_does_not_echo(quiet_module):
    quiet_module.send(b"AT\r")
    assert await quiet_module.reply() == b"AT-S.OK\r\n"


async def test_data_bytes_are_never_echoed(module):
    # The FSC handler may not exist on this branch: whatever the answer, it follows the echo
    # of the line only, never the data.
    module.send(b"AT+S.FSC=echo.txt,7\r\r\nAT\r\x00\x1b")
    out = await module.reply()
    assert out.startswith(b"AT+S.FSC=echo.txt,7\r\nAT-S.")
    assert b"\x00" not in out and b"\x1b" not in out
    assert out.count(b"\r\n") == 2
    assert await module.cmd("AT") == b"AT-S.OK\r\n"


async def test_command_names_and_variable_names_are_case_insensitive(module):
    assert await module.cmd("at+s.gcfg=console_echo") == (b"AT-S.Var:console_echo=1\r\nAT-S.OK\r\n")
    assert await module.cmd("AT+s.GCFG=CONSOLE_ECHO") == (b"AT-S.Var:console_echo=1\r\nAT-S.OK\r\n")
    assert await module.cmd("at") == b"AT-S.OK\r\n"


# -- result forms ---------------------------------------------------------------------------


async def test_verbose_2_shows_heap_and_wifi_state(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=console_verbose,2") == b"AT-S.OK:%d:%d\r\n" % (
        m.device.free_heap(),
        m.device.status.get("wifi_state"),
    )
    out = await m.cmd("AT")
    heap, state = out.removeprefix(b"AT-S.OK:").removesuffix(b"\r\n").split(b":")
    assert int(heap) == m.device.free_heap()
    assert int(state) == m.device.status.get("wifi_state") >= 3
    assert await m.cmd("AT+S.SCFG=console_verbose,1") == b"AT-S.OK\r\n"


async def test_verbose_0_still_ends_a_reply_with_ok(quiet_module):
    assert await quiet_module.cmd("AT+S.SCFG=console_verbose,0") == b"AT-S.OK\r\n"
    assert await quiet_module.cmd("AT") == b"AT-S.OK\r\n"


@pytest.mark.parametrize(
    ("errs", "expected"),
    [
        (0, b"AT-S.ERROR\r\n"),
        (1, b"AT-S.ERROR:4\r\n"),
        (2, b"AT-S.ERROR:4:Variable not found\r\n"),
    ],
)
async def test_error_forms_per_console_errs(quiet_module, errs, expected):
    assert await quiet_module.cmd(f"AT+S.SCFG=console_errs,{errs}") == b"AT-S.OK\r\n"
    assert await quiet_module.cmd("AT+S.GCFG=no_such_var") == expected
    # No AT-S.OK after an error: the next reply is the next command's.
    assert await quiet_module.cmd("AT") == b"AT-S.OK\r\n"


async def test_not_built_error_follows_console_errs(quiet_module, monkeypatch):
    from atwifi.spwf04 import commands

    # Every command is built: PMS with its handler taken away stands for one that is not.
    monkeypatch.delitem(commands._HANDLERS, "PMS")
    assert await quiet_module.cmd("AT+S.SCFG=console_errs,1") == b"AT-S.OK\r\n"
    assert await quiet_module.cmd("AT+S.PMS=0") == b"AT-S.ERROR:1\r\n"


# -- WIND forms and masks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("winds", "expected"),
    [
        (0, b"+WIND\r\n"),
        (1, b"+WIND:55::0:3:3\r\n"),
        (2, b"+WIND:55:Pending Data::0:3:3\r\n"),
    ],
)
async def test_wind_forms_per_console_winds(quiet_module, winds, expected):
    assert await quiet_module.cmd(f"AT+S.SCFG=console_winds,{winds}") == b"AT-S.OK\r\n"
    quiet_module.device.wind(*WIND55)
    assert quiet_module.take() == expected


async def test_boot_winds_follow_saved_console_winds(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=console_winds,1") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.WCFG") == b"AT-S.OK\r\n"
    out = await reset_and_wait(m)
    # Form 1: the number and the fields, no text.
    assert out.startswith(
        b"+WIND:1:171117-0328fe3-SPWF04S\r\n+WIND:13:SPWF04SA\r\n+WIND:0\r\n+WIND:32\r\n"
    )


async def test_low_mask_bit_0_silences_console_active_at_reset(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=console_wind_off_low,0x00000001") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.WCFG") == b"AT-S.OK\r\n"
    out = await reset_and_wait(m)
    assert b"+WIND:0:" not in out
    assert b"+WIND:13:" in out and b"+WIND:32:WiFi Hardware Started\r\n" in out
    assert await m.cmd("AT") == b"AT-S.OK\r\n"


async def test_medium_mask_bit_0_silences_wind_32(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=console_wind_off_medium,0x1") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.WCFG") == b"AT-S.OK\r\n"
    out = await reset_and_wait(m)
    assert b"+WIND:0:Console active\r\n" in out
    assert b"+WIND:32" not in out
    assert await m.cmd("AT") == b"AT-S.OK\r\n"


@pytest.mark.parametrize(
    ("var", "number"),
    [
        ("console_wind_off_low", 31),
        ("console_wind_off_medium", 55),
        ("console_wind_off_medium", 63),
        ("console_wind_off_high", 64),
        ("console_wind_off_high", 95),
    ],
)
async def test_masks_silence_winds_raised_at_run_time(quiet_module, var, number):
    m = quiet_module
    bit = number % 32
    assert await m.cmd(f"AT+S.SCFG={var},0x{1 << bit:08X}") == b"AT-S.OK\r\n"
    m.device.wind(number, 1)
    assert m.take() == b""
    m.device.wind(number - 1 if bit else number + 1, 1)
    assert m.take().startswith(b"+WIND:")
    assert await m.cmd(f"AT+S.SCFG={var},0") == b"AT-S.OK\r\n"
    m.device.wind(number, 1)
    assert m.take().startswith(b"+WIND:%d" % number)


# -- a WIND never lands inside a reply ------------------------------------------------------


async def test_wind_raised_while_a_command_waits_for_its_data_is_held(module):
    module.send(FSC_NOT_READY + b"\r12345")
    assert await module.read_until(b"\r\n") == FSC_NOT_READY + b"\r\n"  # the echo, nothing else
    module.device.wind(*WIND55)
    await asyncio.sleep(0)  # let the console run, if it (wrongly) wanted to print now
    assert module.take() == b""
    module.send(b"67890")
    final = await module.reply()
    assert final.startswith(b"AT-S.")
    assert b"+WIND" not in final
    assert await module.read_until(b"\r\n") == b"+WIND:55:Pending Data::0:3:3\r\n"
    assert module.take() == b""


async def test_held_winds_come_out_in_order_after_the_reply(module):
    m = module
    m.send(FSC_NOT_READY + b"\r")
    await m.read_until(FSC_NOT_READY + b"\r\n")  # the echo: the command is running
    for n in (55, 56, 58):
        m.device.wind(n, 7)
    assert m.take() == b""
    m.send(b"0123456789")
    await m.reply()
    out = await m.read_until(b"+WIND:58:Socket Closed:7\r\n")
    assert out == (
        b"+WIND:55:Pending Data:7\r\n+WIND:56:Input to remote:7\r\n+WIND:58:Socket Closed:7\r\n"
    )


async def test_wind_while_idle_goes_out_at_once(quiet_module):
    quiet_module.device.wind(*WIND55)
    assert quiet_module.take() == b"+WIND:55:Pending Data::0:3:3\r\n"


# -- pipelining, long lines, garbage ----------------------------------------------------------


async def test_pipelined_commands_are_answered_in_order(quiet_module):
    m = quiet_module
    m.send(b"AT\rAT+S.GCFG=console_errs\r\nAT+S.NOPE\nAT+S.STS=fw_version\r\n")
    assert await m.reply() == b"AT-S.OK\r\n"
    assert await m.reply() == b"AT-S.Var:console_errs=2\r\nAT-S.OK\r\n"
    assert await m.reply() == b"AT-S.ERROR:1:Command not found\r\n"
    assert await m.reply() == b"AT-S.Var:fw_version=1.1.0\r\nAT-S.OK\r\n"
    assert m.take() == b""


async def test_pipelined_with_echo(module):
    module.send(b"AT\rat+s.gcfg=console_echo\r")
    assert await module.reply() == b"AT\r\nAT-S.OK\r\n"
    assert await module.reply() == (
        b"at+s.gcfg=console_echo\r\nAT-S.Var:console_echo=1\r\nAT-S.OK\r\n"
    )


async def test_over_long_line_answers_error_32_and_the_console_goes_on(module):
    module.send(b"AT+S.SCFG=wifi_wpa_psk_text," + b"x" * 600 + b"\r")
    assert await module.reply() == b"AT-S.ERROR:32:Argument exceeds allowed size\r\n"
    assert await module.cmd("AT") == b"AT-S.OK\r\n"
    assert await module.cmd("AT+S.GCFG=wifi_wpa_psk_text") == (
        b"AT-S.Var:wifi_wpa_psk_text=\r\nAT-S.OK\r\n"
    )


async def test_over_long_line_in_many_writes(quiet_module):
    m = quiet_module
    for _ in range(100):
        m.send(b"y" * 1000)
    m.send(b"\r\nAT\r\n")
    assert await m.reply() == b"AT-S.ERROR:32:Argument exceeds allowed size\r\n"
    assert await m.reply() == b"AT-S.OK\r\n"
    assert m.device.decoder.buffered == 0


async def test_a_line_of_exactly_512_bytes_is_a_command(quiet_module):
    line = b"AT+S.HELP=" + b"z" * 502
    assert len(line) == 512
    assert await quiet_module.cmd(line) == b"AT-S.OK\r\n"  # no command matches: empty list


_garbage = st.lists(
    st.one_of(
        st.binary(max_size=64),
        st.sampled_from(
            [b"\r", b"\n", b"AT", b"AT+S.", b"=", b",", b"(null)", b"NULL", b"AT+S.STS=", b"\x1b"]
        ),
        st.sampled_from([b"AT+S.GCFG=", b"AT+S.HELP", b"at+s.peers=", b"AT+S.SCFG=x,"]),
        st.integers(min_value=400, max_value=900).map(lambda n: b"g" * n),
    ),
    max_size=25,
).map(b"".join)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(garbage=_garbage)
async def test_garbage_never_stops_the_module(quiet_module, garbage):
    m = quiet_module
    m.send(garbage)
    # A marker command the garbage cannot have produced, to know all its replies are out.
    m.send(b"\rAT+S.GCFG=console_errs\r")
    await m.read_until(b"AT-S.Var:console_errs=2\r\nAT-S.OK\r\n")
    m.take()
    m.send(b"\rAT\r")
    assert await m.reply() == b"AT-S.OK\r\n"
    assert m.take() == b""


async def test_bytes_sent_before_console_active_are_dropped_every_time(quiet_module):
    """Issue 14: input while the module reboots was kept or dropped by timing. A UART hears
    nothing until the firmware sets it up: every byte until +WIND:0 is dropped."""
    m = quiet_module
    for _ in range(3):
        # Pipelined behind the reset, in the same write: never answered, never run.
        m.send(b"AT+S.RESET\rAT+S.SCFG=user_desc,piped\r")
        assert await m.reply() == b"AT-S.OK\r\n"
        out = await m.read_until(b"+WIND:0:Console active\r\n")
        assert b"AT-S." not in out  # nothing answered before the console is active
        await m.settle()
        m.device.config.set_value("console_echo", 0)  # not saved: a reset brings it back
        got = await m.cmd("AT+S.GCFG=user_desc")
        assert got == b"AT-S.Var:user_desc=anonymous\r\nAT-S.OK\r\n", got
