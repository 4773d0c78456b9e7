"""Arguments: the manual's error numbers for every kind of bad input, driven by the command table,
through the device (and a few direct checks of args.parse)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atwifi.errors import AtError
from atwifi.spwf04 import args
from atwifi.spwf04.commands import handlers
from atwifi.spwf04.table.commands import COMMANDS

E1 = b"AT-S.ERROR:1:Command not found\r\n"
E2 = b"AT-S.ERROR:2:Missing argument(s)\r\n"
E6 = b"AT-S.ERROR:6:Too many argument(s)\r\n"
E7 = b"AT-S.ERROR:7:Invalid argument(s)\r\n"
E8 = b"AT-S.ERROR:8:Invalid value\r\n"
E32 = b"AT-S.ERROR:32:Argument exceeds allowed size\r\n"
NOT_BUILT = b"AT-S.ERROR:1:Command not implemented in atwifi\r\n"
OK = b"AT-S.OK\r\n"

UNREGISTERED = sorted(c.at for c in COMMANDS if c.name not in handlers())


@pytest.mark.parametrize(
    "line",
    [
        "AT+S.RANDOM=1",  # no parameter at all
        "AT+S.WCFG=x",
        "AT+S.TIME=1,2",
        "AT+S.PEERS=0,rx_drops,x",
        "AT+S.HELP=a,b",
        "AT+S.GPIOW=1,1,1",
        "AT+S.PMS=0,0",
    ],
)
async def test_too_many_arguments_is_error_6(quiet_module, line):
    assert await quiet_module.cmd(line) == E6


@pytest.mark.parametrize(
    "line",
    ["AT+S.SCFG", "AT+S.SCFG=", "AT+S.SCFG=,1", "AT+S.GPIOW=1", "AT+S.FSR=a", "AT+S.FSD="],
)
async def test_missing_argument_is_error_2(quiet_module, line):
    assert await quiet_module.cmd(line) == E2


@pytest.mark.parametrize(
    "line",
    ["AT+S.TIME=abc", "AT+S.TIME=12x", "AT+S.PEERS=x", "AT+S.PMS=one", "AT+S.GPIOW=1,high"],
)
async def test_not_a_number_is_error_7(quiet_module, line):
    assert await quiet_module.cmd(line) == E7


@pytest.mark.parametrize(
    "line",
    ["AT+S.PMS=4", "AT+S.PMS=-1", "AT+S.GPIOW=1,2", "AT+S.WPS=3", "AT+S.TIME=-1"],
)
async def test_out_of_range_is_error_8(quiet_module, line):
    assert await quiet_module.cmd(line) == E8


async def test_choice_not_in_the_list_is_error_7(quiet_module):
    assert await quiet_module.cmd("AT+S.FSUPDATE=q,127.0.0.1") == E7


async def test_too_long_is_error_32(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SSIDTXT=" + "s" * 33) == E32
    assert await m.cmd("AT+S.SSIDTXT=" + "s" * 32) == OK
    assert await m.cmd("AT+S.FSD=" + "f" * 65) != E32  # FSD states no limit of its own


@pytest.mark.parametrize(
    "line",
    ["AT+S.NOPE", "AT+S.", "AT+", "ATZ", "AT=", "AT =", "AT+S.STS2", "AT+SX.STS", "HELLO", "+++"],
)
async def test_unknown_command_is_error_1(quiet_module, line):
    assert await quiet_module.cmd(line) == E1


def test_every_table_command_has_a_handler():
    # AT+S.PYTHON (tests/python) was the last: the not-built answer is still tested through
    # test_not_built_answer_for_a_valid_command's fallback and tests/core/test_console.py.
    assert not UNREGISTERED


@pytest.mark.parametrize("at", ["AT+S.PMS", "AT+S.PMS=0", "AT+S.PMS=9,x"])
async def test_table_command_without_handler_is_not_silently_ok(quiet_module, monkeypatch, at):
    # Every command is built; one whose handler is gone, arguments valid or not, answers an
    # error and never a bare OK.
    from atwifi.spwf04 import commands

    monkeypatch.delitem(commands._HANDLERS, "PMS")
    out = await quiet_module.cmd(at)
    assert out.startswith(b"AT-S.ERROR:"), out


async def test_not_built_answer_for_a_valid_command(quiet_module, monkeypatch):
    for line in ("AT+S.PMS=0", "AT+S.GPIOR=1"):
        if line.split("=")[0] in UNREGISTERED:
            assert await quiet_module.cmd(line) == NOT_BUILT
    # Every command is built now: a table command whose handler is gone still answers so.
    from atwifi.spwf04 import commands

    monkeypatch.delitem(commands._HANDLERS, "PMS")
    assert await quiet_module.cmd("AT+S.PMS=0") == NOT_BUILT


# -- empty, (null), NULL -------------------------------------------------------------------


async def test_null_text_from_a_c_driver_is_an_empty_value(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=wifi_wpa_psk_text,secret") == OK
    assert await m.cmd("AT+S.SCFG=wifi_wpa_psk_text,(null)") == OK
    assert await m.cmd("AT+S.GCFG=wifi_wpa_psk_text") == (
        b"AT-S.Var:wifi_wpa_psk_text=\r\nAT-S.OK\r\n"
    )


async def test_null_for_a_number_variable_is_missing(quiet_module):
    assert await quiet_module.cmd("AT+S.SCFG=console_echo,(null)") == E2
    assert await quiet_module.cmd("AT+S.SCFG=console_echo,") == E2


async def test_null_and_empty_optional_arguments_take_the_default(quiet_module):
    m = quiet_module
    full = await m.cmd("AT+S.PEERS")
    assert full.count(b"AT-S.Var:0.") == 22
    assert await m.cmd("AT+S.PEERS=") == full
    assert await m.cmd("AT+S.PEERS=,") == full
    assert await m.cmd("AT+S.PEERS=(null),(null)") == full
    time_now = await m.cmd("AT+S.TIME=(null)")
    assert time_now.startswith(b"AT-S.Date:70.01.01:04\r\nAT-S.Time:00.00.")


async def test_null_is_no_number(quiet_module):
    # NULL is the manual's placeholder for <NULL> parameters only; for a number it is text.
    assert await quiet_module.cmd("AT+S.PEERS=NULL") == E7


def test_null_placeholder_forms_are_one():
    forms = [
        "AT+S.SOCKON=127.0.0.1,80,,t",
        "AT+S.SOCKON=127.0.0.1,80,NULL,t",
        "AT+S.SOCKON=127.0.0.1,80,(null),t",
        "AT+S.SOCKON=127.0.0.1,80, ,t",
    ]
    parsed = [args.parse(f) for f in forms]
    assert all(p.error is None for p in parsed)
    assert len({tuple(sorted(p.args.items())) for p in parsed}) == 1


def test_spaces_around_arguments_are_ignored():
    assert args.parse("AT+S.PEERS= 0 , rx_drops ").args == {
        "peer_number": 0,
        "peer_var": "rx_drops",
    }


def test_numbers_accept_a_sign_and_hex():
    assert args.parse("AT+S.TIME=+10").args == {"time": 10}
    assert args.parse("AT+S.TIME=0x10").args == {"time": 16}
    assert args.parse("AT+S.TIME=0x").error.number == 7
    assert args.parse("AT+S.TIME=1e3").error.number == 7


def test_unknown_command_raises_at_parse():
    with pytest.raises(AtError) as e:
        args.parse("AT+S.NOPE=1")
    assert e.value.number == 1


async def test_rest_parameter_keeps_delimiters_and_spaces(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=wifi_wpa_psk_text,a,b c ,d") == OK
    assert await m.cmd("AT+S.GCFG=wifi_wpa_psk_text") == (
        b"AT-S.Var:wifi_wpa_psk_text=a,b c ,d\r\nAT-S.OK\r\n"
    )


async def test_console_delimiter_changes_how_arguments_split(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=console_delimiter,0x3B") == OK
    assert await m.cmd("AT+S.PEERS=0;rx_drops") == b"AT-S.Var:0.rx_drops=0\r\nAT-S.OK\r\n"
    assert await m.cmd("AT+S.PEERS=0,rx_drops") == E7
    assert await m.cmd("AT+S.SCFG=console_delimiter;0x2C") == OK
    assert await m.cmd("AT+S.PEERS=0,rx_drops") == b"AT-S.Var:0.rx_drops=0\r\nAT-S.OK\r\n"


@pytest.mark.parametrize("value", ["0", "0x100", "0xFFFFFFFF"])
async def test_a_delimiter_must_be_one_byte(quiet_module, value):
    m = quiet_module
    assert await m.cmd(f"AT+S.SCFG=console_delimiter,{value}") == E8
    assert await m.cmd("AT+S.PEERS=0,rx_drops") == b"AT-S.Var:0.rx_drops=0\r\nAT-S.OK\r\n"


async def test_a_failure_outside_the_handlers_does_not_stop_the_console(quiet_module):
    m = quiet_module
    # Set from code, past SCFG's checks: the console cannot split with it.
    m.device.config.set_value("console_delimiter", 0x110000)
    assert await m.cmd("AT") == b"AT-S.ERROR:111:Request failed\r\n"
    m.device.config.set_value("console_delimiter", 0x2C)
    assert await m.cmd("AT") == OK


# -- {data} commands keep the stream in step -------------------------------------------------


async def test_data_command_with_a_bad_argument_still_consumes_its_data(quiet_module):
    m = quiet_module
    m.send(b"AT+S.FSC=" + b"n" * 65 + b",5\rhelloAT\r")
    assert await m.reply() == E32
    assert await m.reply() == OK
    assert m.take() == b""


async def test_data_command_with_too_many_arguments_reads_no_data(quiet_module):
    # Which field is the length is anybody's guess: none is taken, the line is answered at
    # once and what follows is a command (issue 14: by position, SOCKW=9,3,0 swallowed the
    # host's next "AT\r" and the host fell one reply out of step).
    m = quiet_module
    m.send(b"AT+S.SOCKW=9,3,0\rAT\r")
    assert await m.reply() == E6
    assert await m.reply() == OK
    m.send(b"AT+S.FSC=a.txt,5,extra\rAT\r")
    assert await m.reply() == E6
    assert await m.reply() == OK
    assert m.take() == b""


@pytest.mark.parametrize(
    "line",
    [
        "AT+S.SOCKW=0,1000000000000",
        "AT+S.SOCKW=9,65536",  # a bad id too: the length alone decides
        "AT+S.SOCKDW=0,0,70000",
        "AT+S.FSC=a.txt,2097153",
        "AT+S.TLSCERT=Ca,16385",
        "AT+S.WPAECERT=Cert,99999999",
        "AT+S.FSWRITE=2228225",
        "AT+S.MQTTPUB=0,t,0,0,65536",
        "AT+S.WSOCKW=0,0,0,0,65536",
        "AT+S.INPUTSSI=4097",
    ],
)
async def test_a_data_length_over_the_command_limit_is_refused_at_once(quiet_module, line):
    # Nothing after it is data: the host's next command is answered.
    m = quiet_module
    m.send(line.encode() + b"\rAT\r")
    assert await m.reply() == E32
    assert await m.reply() == OK
    assert m.take() == b""


async def test_a_huge_length_after_another_bad_argument_reads_no_data(quiet_module):
    # The first bad argument is the answer (a blank file name: 2); the length is still
    # over the limit, so nothing is read as data.
    m = quiet_module
    m.send(b"AT+S.FSC= ," + b"9" * 300 + b"\rAT\r")
    assert await m.reply() == b"AT-S.ERROR:2:Missing argument(s)\r\n"
    assert await m.reply() == OK


async def test_data_command_whose_data_is_a_command_line(quiet_module):
    m = quiet_module
    m.send(b"AT+S.FSC=" + b"n" * 65 + b",10\rAT+S.RESET")
    assert await m.reply() == E32
    assert await m.cmd("AT") == OK  # not rebooted: the RESET was data


async def test_data_command_with_an_unreadable_length_reads_no_data(quiet_module):
    m = quiet_module
    m.send(b"AT+S.FSC=a.txt,abc\rAT\r")
    assert await m.reply() == E7
    assert await m.reply() == OK
    m.send(b"AT+S.FSC=a.txt\rAT\r")
    assert await m.reply() == E2
    assert await m.reply() == OK
    m.send(b"AT+S.FSC=a.txt,-3\rAT\r")
    assert await m.reply() == E8
    assert await m.reply() == OK


def test_every_data_command_announces_its_length_parameter():
    for cmd in COMMANDS:
        if cmd.data is None:
            continue
        assert cmd.data in {p.name for p in cmd.params}, cmd.at
        line = f"{cmd.at}=" + ",".join(
            "7" if p.name == cmd.data else ("1" if p.kind.value == "int" else "x")
            for p in cmd.params
        )
        parsed = args.parse(line)
        assert parsed.data_len == 7, (line, parsed)


def test_certificate_content_form_has_no_data():
    assert args.parse("AT+S.TLSCERT=content,1").data_len is None
    assert args.parse("AT+S.TLSCERT=Content,2").data_len is None
    assert args.parse("AT+S.TLSCERT=ca,12").data_len == 12


# -- properties ----------------------------------------------------------------------------

_names = st.sampled_from([c.at for c in COMMANDS] + ["AT+S.NOPE", "at+s.sts", "AT"])
_fields = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(["", "(null)", "NULL", "0", "-1", "0x10", "99999999999", " 7 ", "t"]),
    ),
    max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(name=_names, fields=_fields, eq=st.booleans())
def test_parse_never_fails_with_anything_but_a_module_error(name, fields, eq):
    text = name + ("=" + ",".join(fields) if eq else "")
    try:
        parsed = args.parse(text)
    except AtError as e:
        assert e.number == 1
        return
    if parsed.error is not None:
        assert parsed.error.number in {2, 6, 7, 8, 32, 33}
    if parsed.data_len is not None:
        assert parsed.data_len >= 0
