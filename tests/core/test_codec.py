"""The console codec alone: bytes in -> events, replies and WINDs -> bytes (no device, no I/O)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atwifi.codec import (
    MAX_LINE,
    CommandLine,
    ConsoleDecoder,
    DataBlock,
    Event,
    LineTooLong,
    OutputGate,
    format_error,
    format_ok,
    format_wind,
    wind_masked,
)
from atwifi.runtime.items import Wind


def drain(dec: ConsoleDecoder) -> list[Event]:
    out: list[Event] = []
    while (event := dec.next_event()) is not None:
        out.append(event)
    return out


def decode(*chunks: bytes) -> list[Event]:
    dec = ConsoleDecoder()
    out: list[Event] = []
    for chunk in chunks:
        dec.feed(chunk)
        out += drain(dec)
    return out


# A toy host protocol for the tests: a command line "D<n>" announces n bytes of {data}, as
# AT+S.SOCKW=0,<n> does for the device. The harness answers it with expect_data(n).
_DATA_CMD = re.compile(rb"D([0-9]{1,3})")


def run(chunks: list[bytes]) -> list[Event]:
    dec = ConsoleDecoder()
    events: list[Event] = []
    for chunk in chunks:
        dec.feed(chunk)
        while (event := dec.next_event()) is not None:
            events.append(event)
            if isinstance(event, CommandLine) and (m := _DATA_CMD.fullmatch(event.text)):
                dec.expect_data(int(m.group(1)))
    return events


# -- terminators -----------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\r", b"\r\n", b"\n"])
def test_each_terminator_ends_a_command(eol: bytes) -> None:
    assert decode(b"AT+S.STS" + eol + b"AT" + eol) == [
        CommandLine(b"AT+S.STS"),
        CommandLine(b"AT"),
    ]


def test_lf_after_cr_is_part_of_the_terminator_even_in_the_next_feed() -> None:
    assert decode(b"AT\r", b"\nAT+S.HELP\r", b"\n") == [
        CommandLine(b"AT"),
        CommandLine(b"AT+S.HELP"),
    ]


def test_lf_cr_is_two_terminators_and_the_empty_line_is_ignored() -> None:
    assert decode(b"AT\n\rAT\r") == [CommandLine(b"AT"), CommandLine(b"AT")]


def test_empty_lines_are_ignored() -> None:
    assert decode(b"\r\r\n\n\r\n\r\rAT\r\n\r\n") == [CommandLine(b"AT")]
    assert decode(b"\r\n" * 1000) == []


def test_case_and_spaces_are_preserved() -> None:
    assert decode(b"at+s.Gcfg= Console_Echo \r") == [CommandLine(b"at+s.Gcfg= Console_Echo ")]


def test_pipelined_commands_in_one_feed() -> None:
    lines = [b"AT", b"AT+S.STS=build", b"at+s.help", b"AT+S.GCFG=console_echo"]
    assert decode(b"\r\n".join(lines) + b"\r\n") == [CommandLine(x) for x in lines]


def test_partial_line_waits_for_its_terminator() -> None:
    dec = ConsoleDecoder()
    dec.feed(b"AT+S.ST")
    assert dec.next_event() is None
    dec.feed(b"S")
    assert dec.next_event() is None
    dec.feed(b"\r")
    assert dec.next_event() == CommandLine(b"AT+S.STS")
    assert dec.next_event() is None
    assert dec.buffered == 0


def test_a_line_split_at_every_position() -> None:
    stream = b"AT+S.SCFG=wifi_ssid,41:42\r\nAT\rAT+S.STS\n"
    expected = decode(stream)
    assert len(expected) == 3
    for i in range(len(stream) + 1):
        for j in range(i, len(stream) + 1):
            assert decode(stream[:i], stream[i:j], stream[j:]) == expected, (i, j)


def test_byte_by_byte() -> None:
    stream = b"AT\r\nAT+S.HELP=sock\r\n\r\nAT+S.RESET\r"
    assert decode(*(stream[i : i + 1] for i in range(len(stream)))) == decode(stream)


# -- line length -----------------------------------------------------------------------------


def test_exactly_max_line_is_accepted() -> None:
    line = b"A" * MAX_LINE
    assert MAX_LINE == 512
    assert decode(line + b"\r") == [CommandLine(line)]
    assert decode(line, b"\r\n") == [CommandLine(line)]


@pytest.mark.parametrize("eol", [b"\r", b"\r\n", b"\n"])
def test_over_long_line_is_reported_once_then_the_next_line_decodes(eol: bytes) -> None:
    line = b"B" * (MAX_LINE + 1)
    assert decode(line + eol + b"AT" + eol) == [LineTooLong(MAX_LINE + 1), CommandLine(b"AT")]


def test_over_long_line_in_pieces_counts_every_dropped_byte() -> None:
    pieces = [b"C" * 300] * 7 + [b"\r\nAT\r\n"]
    assert decode(*pieces) == [LineTooLong(2100), CommandLine(b"AT")]


def test_over_long_line_after_a_good_one_in_the_same_feed() -> None:
    assert decode(b"AT\r" + b"x" * 2000, b"\rAT\r") == [
        CommandLine(b"AT"),
        LineTooLong(2000),
        CommandLine(b"AT"),
    ]


def test_memory_stays_bounded_while_dropping() -> None:
    dec = ConsoleDecoder()
    chunk = bytes(range(14, 256)) * 271  # ~64 KiB without CR or LF
    fed = 0
    while fed < 10 * 1024 * 1024:
        dec.feed(chunk)
        fed += len(chunk)
        assert dec.next_event() is None
        assert dec.buffered <= MAX_LINE
    dec.feed(b"\rAT\r")
    assert drain(dec) == [LineTooLong(fed), CommandLine(b"AT")]
    assert dec.buffered == 0


def test_one_huge_feed_is_dropped_at_once() -> None:
    dec = ConsoleDecoder()
    dec.feed(b"z" * (10 * 1024 * 1024))
    assert dec.next_event() is None
    assert dec.buffered == 0


# -- data blocks -----------------------------------------------------------------------------


def test_data_block_takes_exactly_n_bytes_whatever_they_are() -> None:
    payload = b"\r\n\x1b\x00AT+S.RESET\r\nAT\r\r\n\xff"
    stream = b"D%d\r" % len(payload) + payload + b"AT\r"
    assert run([stream]) == [
        CommandLine(b"D%d" % len(payload)),
        DataBlock(payload),
        CommandLine(b"AT"),
    ]


def test_data_block_arriving_byte_by_byte() -> None:
    payload = b"\x00\r\n\x1bAT+S.\r"
    stream = b"D%d\r" % len(payload) + payload + b"AT\r"
    pieces = [stream[i : i + 1] for i in range(len(stream))]
    assert run(pieces) == run([stream])


def test_partial_data_block_yields_nothing_yet() -> None:
    dec = ConsoleDecoder()
    dec.feed(b"D10\r01234")
    assert dec.next_event() == CommandLine(b"D10")
    dec.expect_data(10)
    assert dec.in_data
    assert dec.next_event() is None
    dec.feed(b"56789AT\r")
    assert dec.next_event() == DataBlock(b"0123456789")
    assert not dec.in_data
    assert dec.next_event() == CommandLine(b"AT")


def test_expect_data_zero_is_an_empty_block() -> None:
    assert run([b"D0\rAT\r"]) == [CommandLine(b"D0"), DataBlock(b""), CommandLine(b"AT")]


def test_expect_data_negative_is_refused() -> None:
    with pytest.raises(ValueError):
        ConsoleDecoder().expect_data(-1)


def test_lf_right_after_the_cr_belongs_to_the_data() -> None:
    # Documented choice (wire-notes): the data starts right after the CR, so a host that
    # sends CR LF before its data gives the LF as the first data byte.
    assert run([b"D3\r\nab\r"]) == [CommandLine(b"D3"), DataBlock(b"\nab")]


def test_lf_after_cr_in_a_later_feed_still_belongs_to_the_data() -> None:
    assert run([b"D3\r", b"\nab"]) == [CommandLine(b"D3"), DataBlock(b"\nab")]


def test_data_block_longer_than_a_line() -> None:
    payload = bytes(range(256)) * 40
    assert run([b"D999\r", payload[:999]]) == [CommandLine(b"D999"), DataBlock(payload[:999])]


def test_reset_forgets_everything() -> None:
    dec = ConsoleDecoder()
    dec.feed(b"D5\rab")
    assert dec.next_event() == CommandLine(b"D5")
    dec.expect_data(5)
    assert dec.next_event() is None
    dec.reset()
    assert not dec.in_data and dec.buffered == 0
    dec.feed(b"\nAT\r")
    assert drain(dec) == [CommandLine(b"AT")]


# -- properties ------------------------------------------------------------------------------

# Streams rich in terminators, data announcements and long runs, so that every branch is hit.
_atoms = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\r", b"\n", b"\r\n", b"\n\r", b"AT", b"D0\r", b"D3\r", b"D7\r\n", b"\x1b"]),
    st.integers(min_value=500, max_value=1200).map(lambda n: b"q" * n),
)
streams = st.lists(_atoms, max_size=30).map(b"".join)


def _split(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(stream[last:p])
        last = p
    pieces.append(stream[last:])
    return pieces


@settings(max_examples=300, deadline=None)
@given(stream=streams, cuts=st.lists(st.integers(min_value=0), max_size=20))
def test_events_do_not_depend_on_how_the_stream_is_split(stream: bytes, cuts: list[int]) -> None:
    assert run(_split(stream, cuts)) == run([stream])


@settings(max_examples=300, deadline=None)
@given(stream=st.binary(max_size=3000), cuts=st.lists(st.integers(min_value=0), max_size=20))
def test_random_bytes_never_raise_and_lines_are_bounded(stream: bytes, cuts: list[int]) -> None:
    for event in run(_split(stream, cuts)):
        if isinstance(event, CommandLine):
            assert 0 < len(event.text) <= MAX_LINE
            assert b"\r" not in event.text and b"\n" not in event.text


@settings(max_examples=300, deadline=None)
@given(garbage=streams, cuts=st.lists(st.integers(min_value=0), max_size=10))
def test_sync_is_regained_after_any_garbage(garbage: bytes, cuts: list[int]) -> None:
    dec = ConsoleDecoder()
    for piece in _split(garbage, cuts):
        dec.feed(piece)
        while (event := dec.next_event()) is not None:
            if isinstance(event, CommandLine) and (m := _DATA_CMD.fullmatch(event.text)):
                dec.expect_data(int(m.group(1)))
    # A data block may still be owed: a host that lost count finishes it first (the manual:
    # the module waits for the missing bytes). Pay it with filler, then resynchronise.
    if dec.in_data:
        dec.feed(b"\x00" * 1000)
        assert isinstance(dec.next_event(), DataBlock)
    dec.feed(b"\rAT\r")
    events = drain(dec)
    assert events[-1] == CommandLine(b"AT")
    assert dec.buffered == 0


# -- output formats --------------------------------------------------------------------------


def test_format_ok_per_console_verbose() -> None:
    assert format_ok(0, 55200, 10) == b"AT-S.OK\r\n"
    assert format_ok(1, 55200, 10) == b"AT-S.OK\r\n"
    assert format_ok(2, 55200, 10) == b"AT-S.OK:55200:10\r\n"


def test_format_error_per_console_errs() -> None:
    assert format_error(0, 4, "Unknown variable") == b"AT-S.ERROR\r\n"
    assert format_error(1, 4, "Unknown variable") == b"AT-S.ERROR:4\r\n"
    assert format_error(2, 4, "Unknown variable") == b"AT-S.ERROR:4:Unknown variable\r\n"


def test_format_wind_per_console_winds() -> None:
    assert format_wind(0, 55, "Pending Data", ("", 0, 3, 3)) == b"+WIND\r\n"
    assert format_wind(1, 55, "Pending Data", ("", 0, 3, 3)) == b"+WIND:55::0:3:3\r\n"
    assert format_wind(2, 55, "Pending Data", ("", 0, 3, 3)) == (
        b"+WIND:55:Pending Data::0:3:3\r\n"
    )


def test_format_wind_without_fields_has_nothing_after_the_text() -> None:
    assert format_wind(2, 0, "Console active") == b"+WIND:0:Console active\r\n"
    assert format_wind(2, 32, "WiFi Hardware Started") == b"+WIND:32:WiFi Hardware Started\r\n"
    assert format_wind(1, 0, "Console active") == b"+WIND:0\r\n"


def test_format_wind_text_fields() -> None:
    line = format_wind(2, 1, "Poweron", ("171117-0328fe3-SPWF04S",))
    assert line == b"+WIND:1:Poweron:171117-0328fe3-SPWF04S\r\n"


# -- WIND masks ------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", ["low", "medium", "high"])
@pytest.mark.parametrize("bit", [0, 1, 5, 30, 31])
def test_wind_masked_each_bit_of_each_mask(mask: str, bit: int) -> None:
    base = {"low": 0, "medium": 32, "high": 64}[mask]
    masks = {"low": 0, "medium": 0, "high": 0, mask: 1 << bit}
    assert wind_masked(base + bit, **masks)
    for other in range(96):
        if other != base + bit:
            assert not wind_masked(other, **masks), other


def test_wind_masked_all_bits() -> None:
    full = 0xFFFFFFFF
    assert all(wind_masked(n, full, full, full) for n in range(96))
    assert not any(wind_masked(n, 0, 0, 0) for n in range(96))
    # Beyond the three masks nothing can silence a WIND.
    assert not wind_masked(96, full, full, full)


def test_wind_masked_ignores_bits_beyond_32() -> None:
    assert not wind_masked(32, 1 << 32, 0, 0)
    assert not wind_masked(64, 0, 1 << 32, 0)


# -- the output gate (atwifi.runtime.gate: it holds WIND items) --------------------------------


def test_gate_passes_winds_when_idle() -> None:
    gate = OutputGate()
    assert not gate.hold(Wind(0, "Console active"))
    assert gate.end() == []


def test_gate_holds_winds_during_a_reply_and_releases_them_in_order() -> None:
    gate = OutputGate()
    gate.begin()
    assert gate.hold(Wind(1))
    assert gate.hold(Wind(2))
    assert gate.end() == [Wind(1), Wind(2)]
    assert not gate.busy
    assert not gate.hold(Wind(3))


def test_gate_clear_forgets_held_winds() -> None:
    gate = OutputGate()
    gate.begin()
    gate.hold(Wind(1))
    gate.clear()
    assert not gate.busy
    assert gate.end() == []


def test_gate_counts_the_bytes_it_holds() -> None:
    gate = OutputGate()
    gate.begin()
    gate.hold(Wind(86, "MQTT Published", (0, "flood", "z" * 500)))
    assert 500 < gate.held_bytes < 600
    gate.end()
    assert gate.held_bytes == 0
