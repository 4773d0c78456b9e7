"""The sans-I/O reply parser alone: every wire shape, any split of the byte stream."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atwifi.client.protocol import Parser, Reply, Stray, Wind, parse_final, parse_wind


@dataclass
class Step:
    command: str | None  # None: bytes that arrive with no command pending
    wire: bytes  # what the module sends
    raw: tuple[int, ...] = ()  # expect_raw() declarations


def run(steps: list[Step], cuts: list[list[int]] | None = None) -> list:
    """Feed each step's bytes in pieces cut at ``cuts[i]``; return all events."""
    p = Parser()
    events: list = []
    for i, step in enumerate(steps):
        if step.command is not None:
            p.start(step.command)
            for n in step.raw:
                p.expect_raw(n)
        points = sorted(set(cuts[i])) if cuts else []
        prev = 0
        for c in [*points, len(step.wire)]:
            events += p.feed(step.wire[prev:c])
            prev = c
    return events


READING = b"hello\r\nAT-S.OK\r\n+WIND:55:Pending Data::0:3:3\r\nAT-S.ERROR:1\r\n\x00\xff"

SCENARIOS: dict[str, list[Step]] = {
    "gcfg_echo_on": [
        Step(
            "AT+S.GCFG=console_echo",
            b"AT+S.GCFG=console_echo\r\nAT-S.Var:console_echo=1\r\nAT-S.OK\r\n",
        )
    ],
    "gcfg_echo_off": [
        Step("AT+S.GCFG=console_echo", b"AT-S.Var:console_echo=0\r\nAT-S.OK\r\n"),
    ],
    "verbose_ok": [Step("AT", b"AT\r\nAT-S.OK:55200:10\r\n")],
    "errors": [
        Step("AT+S.GCFG=nope", b"AT+S.GCFG=nope\r\nAT-S.ERROR:4:Unknown variable\r\n"),
        Step("AT+S.GCFG=nope", b"AT-S.ERROR:4\r\n"),
        Step("AT+S.GCFG=nope", b"AT-S.ERROR\r\n"),
        Step("AT+S.HTTPGET=h", b"AT-S.Http Client Error:2\r\n"),
        Step("AT+S.TLSCERT=x", b"AT-S.Certificate Error:21\r\n"),
        Step("AT+S.WSOCKON=h", b"AT-S.WebSocket Client Error:3\r\n"),
    ],
    "reading_echo_on": [
        Step(
            "AT+S.SOCKR=0",
            b"AT+S.SOCKR=0\r\nAT-S.Reading:%d:%d\r\n%sAT-S.OK\r\n"
            % (len(READING), len(READING), READING),
        )
    ],
    "reading_echo_off_and_empty": [
        Step("AT+S.SOCKR=0", b"AT-S.Reading:%d:31\r\n%sAT-S.OK\r\n" % (len(READING), READING)),
        Step("AT+S.SOCKR=1,", b"AT-S.Reading:0:0\r\nAT-S.OK\r\n"),
    ],
    "winds_between": [
        Step(None, b"+WIND:1:Poweron:171117-0328fe3-SPWF04S\r\n+WIND:0:Console active\r\n"),
        Step("AT", b"+WIND:32:WiFi Hardware Started\r\nAT\r\nAT-S.OK\r\n"),
        Step(None, b"+WIND:58:Socket Closed:0:1\r\n+WIND:33\r\n"),
        Step("AT", b"AT-S.OK\r\n+WIND:24:WiFi Up:0:fe80:0:0:0:280:e1ff:fefa:1234\r\n"),
    ],
    "scan": [
        Step(
            "AT+S.SCAN",
            b"AT+S.SCAN\r\nAT-S.Parsing Networks:1\r\n"
            b"0:\t BSS 00:11:22:33:44:55 CHAN: 06 RSSI: -40 SSID: 'lab' CAPS: 0431 WPA2 \r\n"
            b"AT-S.OK\r\n",
        )
    ],
    "declared_raw_echo_on": [
        Step("AT+S.FSP=f", b"AT+S.FSP=f\r\nAT+S.FSP=f\r\n+WIND:1\r\nAT-S.OK\r\n", raw=(21,)),
    ],
    "declared_raw_echo_off_looks_like_echo": [
        Step("AT+S.FSP=f", b"AT+S.FSP\r\n+WIAT-S.OK\r\n", raw=(13,)),
        Step("AT+S.FSP=f", b"+WIND:0:Console active\r\nDATAAT-S.OK\r\n", raw=(4,)),
    ],
    "lone_lf": [Step("AT", b"AT\nAT-S.OK\n")],
}


def test_gcfg_echo_on() -> None:
    [r] = run(SCENARIOS["gcfg_echo_on"])
    assert r == Reply(
        lines=["AT-S.Var:console_echo=1"],
        raw=b"",
        ok=True,
        final="AT-S.OK",
        command="AT+S.GCFG=console_echo",
        echoed=True,
        body=b"AT-S.Var:console_echo=1\r\n",
    )


def test_echo_detected() -> None:
    p = Parser()
    assert p.echo is None
    p.start("AT")
    p.feed(b"AT\r\nAT-S.OK\r\n")
    assert p.echo is True
    p.start("AT")
    [r] = p.feed(b"AT-S.OK\r\n")
    assert p.echo is False and not r.echoed and r.ok


def test_only_the_echo_of_the_sent_command_is_skipped() -> None:
    p = Parser()
    p.start("AT+S.STS=build")
    # A line equal to the command after the answer started is data, not an echo.
    [r] = p.feed(b"AT-S.Var:build=x\r\nAT+S.STS=build\r\nAT-S.OK\r\n")
    assert r.lines == ["AT-S.Var:build=x", "AT+S.STS=build"]
    p.start("AT+S.STS=build")
    [r] = p.feed(b"AT+S.STS=other\r\nAT-S.OK\r\n")
    assert r.lines == ["AT+S.STS=other"] and not r.echoed


def test_verbose_ok() -> None:
    [r] = run(SCENARIOS["verbose_ok"])
    assert r.ok and r.final == "AT-S.OK:55200:10" and r.lines == []


def test_error_forms() -> None:
    rs = run(SCENARIOS["errors"])
    got = [(r.ok, r.error_kind, r.error_number, r.error_text) for r in rs]
    assert got == [
        (False, "error", 4, "Unknown variable"),
        (False, "error", 4, ""),
        (False, "error", None, ""),
        (False, "http", 2, ""),
        (False, "certificate", 21, ""),
        (False, "websocket", 3, ""),
    ]


def test_parse_final_and_wind() -> None:
    assert parse_final("AT-S.OKAY") is None
    assert parse_final("AT-S.Var:x=1") is None
    assert parse_final("AT-S.ERROR:77:Pending data") == (False, "error", 77, "Pending data")
    assert parse_final("AT-S.ERROR:x") == (False, "error", None, "x")
    assert parse_wind("+WIND:33") == Wind(33, "", [], "+WIND:33")
    w = parse_wind("+WIND:55:Pending Data::0:31:31")
    assert w == Wind(55, "Pending Data", ["", "0", "31", "31"], "+WIND:55:Pending Data::0:31:31")
    assert w.tail == ":0:31:31"
    assert parse_wind("+WIND:x:y") is None
    assert parse_wind("WIND:1:x") is None


def test_reading_raw_block_with_lines_inside() -> None:
    [r] = run(SCENARIOS["reading_echo_on"])
    assert r.ok and r.raw == READING and r.echoed
    assert r.lines == [f"AT-S.Reading:{len(READING)}:{len(READING)}"]
    assert r.body == b"AT-S.Reading:%d:%d\r\n%s" % (len(READING), len(READING), READING)
    a, b = run(SCENARIOS["reading_echo_off_and_empty"])
    assert a.raw == READING and a.ok
    assert b.raw == b"" and b.ok and b.lines == ["AT-S.Reading:0:0"]


def test_extra_raw_prefix_per_command() -> None:
    p = Parser()
    p.start("AT+S.X", raw_prefixes={"AT-S.Blob:": 1})
    [r] = p.feed(b"AT-S.Blob:a:4\r\nAT-SAT-S.OK\r\n")
    assert r.raw == b"AT-S"
    # Only for that command.
    p.start("AT+S.X")
    [r] = p.feed(b"AT-S.Blob:a:4\r\nAT-S.OK\r\n")
    assert r.raw == b""


def test_malformed_announce_is_a_line() -> None:
    p = Parser()
    p.start("AT+S.SOCKR=0")
    [r] = p.feed(b"AT-S.Reading:x:y\r\nAT-S.OK\r\n")
    assert r.lines == ["AT-S.Reading:x:y"] and r.raw == b""


def test_winds_between_and_before_echo() -> None:
    evs = run(SCENARIOS["winds_between"])
    kinds = [(type(e).__name__, getattr(e, "number", None)) for e in evs]
    assert kinds == [
        ("Wind", 1),
        ("Wind", 0),
        ("Wind", 32),
        ("Reply", None),
        ("Wind", 58),
        ("Wind", 33),
        ("Reply", None),
        ("Wind", 24),
    ]
    assert evs[0].fields == ["171117-0328fe3-SPWF04S"] and evs[1].text == "Console active"
    assert evs[3].echoed and not evs[6].echoed
    assert evs[-1].tail == "0:fe80:0:0:0:280:e1ff:fefa:1234"


def test_scan_lines_belong_to_the_reply() -> None:
    [r] = run(SCENARIOS["scan"])
    assert r.lines[0] == "AT-S.Parsing Networks:1"
    assert r.lines[1].startswith("0:\t BSS 00:11:22:33:44:55")


def test_declared_raw() -> None:
    [r] = run(SCENARIOS["declared_raw_echo_on"])
    assert r.raw == b"AT+S.FSP=f\r\n+WIND:1\r\n" and r.echoed and r.lines == []
    a, w, b = run(SCENARIOS["declared_raw_echo_off_looks_like_echo"])
    assert a.raw == b"AT+S.FSP\r\n+WI" and not a.echoed
    # A WIND before the answer is a WIND; the raw block comes after it.
    assert isinstance(w, Wind) and w.number == 0 and b.raw == b"DATA"


def test_stray_and_abandon() -> None:
    p = Parser()
    assert p.feed(b"AT-S.OK\r\n") == [Stray("AT-S.OK")]
    p.start("AT+S.RESET")
    assert p.pending == "AT+S.RESET"
    assert p.feed(b"AT+S.RESET\r\n") == []
    p.abandon()
    assert p.pending is None
    assert p.feed(b"+WIND:1:Poweron:x\r\nAT-S.OK\r\n") == [
        Wind(1, "Poweron", ["x"], "+WIND:1:Poweron:x"),
        Stray("AT-S.OK"),
    ]


def test_start_twice_is_a_bug() -> None:
    p = Parser()
    p.start("AT")
    with pytest.raises(RuntimeError):
        p.start("AT")
    with pytest.raises(RuntimeError):
        Parser().expect_raw(3)


def test_non_utf8_bytes_survive() -> None:
    p = Parser()
    p.start("AT+S.GCFG=wifi_ssid")
    [r] = p.feed(b"AT-S.Var:wifi_ssid=caf\xe9\r\nAT-S.OK\r\n")
    assert r.lines[0].encode("utf-8", "surrogateescape") == b"AT-S.Var:wifi_ssid=caf\xe9"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_single_split(name: str) -> None:
    steps = SCENARIOS[name]
    whole = run(steps)
    assert whole
    for i, step in enumerate(steps):
        for c in range(len(step.wire) + 1):
            cuts = [[] for _ in steps]
            cuts[i] = [c]
            assert run(steps, cuts) == whole, (name, i, c)


def test_byte_by_byte() -> None:
    for steps in SCENARIOS.values():
        whole = run(steps)
        assert run(steps, [list(range(len(s.wire))) for s in steps]) == whole


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_split_gives_the_same_events(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(SCENARIOS)))
    steps = SCENARIOS[name]
    cuts = [data.draw(st.lists(st.integers(0, len(s.wire)), max_size=len(s.wire))) for s in steps]
    assert run(steps, cuts) == run(steps)


def test_wind_forms() -> None:
    assert parse_wind("+WIND") == Wind(-1, "", [], "+WIND")
    assert parse_wind("+WIND:58:0:1", texts=False) == Wind(58, "", ["0", "1"], "+WIND:58:0:1")
    p = Parser()
    p.wind_texts = False
    # The boot lines, which have no fields, tell the form.
    [a, b, c] = p.feed(b"+WIND:58:0:1\r\n+WIND:0:Console active\r\n+WIND:58:Socket Closed:0:1\r\n")
    assert a.fields == ["0", "1"] and a.text == ""
    assert b.text == "Console active" and p.wind_texts
    assert c.text == "Socket Closed" and c.fields == ["0", "1"]
    [a, b] = p.feed(b"+WIND:32\r\n+WIND:58:0:1\r\n")
    assert not p.wind_texts and a.number == 32 and b.fields == ["0", "1"]
    # A WIND-like line that is not one belongs to the reply.
    p.start("AT")
    [r] = p.feed(b"+WINDY\r\nAT-S.OK\r\n")
    assert r.lines == ["+WINDY"]


def test_late_answer_after_timeout_is_stray() -> None:
    p = Parser()
    p.start("AT+S.SLOW")
    assert p.feed(b"AT+S.SLOW\r\n") == []
    p.abandon()  # timed out after its echo
    p.start("AT+S.STS=x")
    evs = p.feed(b"AT-S.Var:late=1\r\nAT-S.OK\r\nAT+S.STS=x\r\nAT-S.Var:x=2\r\nAT-S.OK\r\n")
    assert evs[:2] == [Stray("AT-S.Var:late=1"), Stray("AT-S.OK")]
    assert isinstance(evs[2], Reply) and evs[2].lines == ["AT-S.Var:x=2"]
    # Once the late answer is complete, lines are taken normally again.
    p.start("AT")
    [r] = p.feed(b"AT\r\nAT-S.OK\r\n")
    assert r.ok


def test_late_answer_that_never_comes() -> None:
    p = Parser()
    p.start("AT+S.SLOW")
    p.feed(b"AT+S.SLOW\r\n")
    p.abandon()
    # Echo went off behind our back and no late answer comes: one more timeout, then normal.
    p.start("AT")
    assert p.feed(b"AT-S.OK\r\n") == [Stray("AT-S.OK")]
    p.abandon()
    assert p.echo is None
    p.start("AT")
    [r] = p.feed(b"AT-S.OK\r\n")
    assert r.ok and not r.echoed


def test_reboot_ends_waiting_for_a_late_answer() -> None:
    p = Parser()
    p.start("AT+S.SLOW")
    p.feed(b"AT+S.SLOW\r\n")
    p.abandon()
    p.feed(b"+WIND:1:Poweron:x\r\n+WIND:0:Console active\r\n")
    assert p.echo is None
    p.start("AT")
    [r] = p.feed(b"AT-S.OK\r\n")
    assert r.ok


def test_echo_switch_is_tracked() -> None:
    p = Parser()
    p.start("AT+S.SCFG=console_echo,0")
    p.feed(b"AT+S.SCFG=console_echo,0\r\nAT-S.OK\r\n")
    assert p.echo is False
    p.start("at+s.scfg=console_echo, 1")
    p.feed(b"AT-S.OK\r\n")
    assert p.echo is True
    p.start("AT+S.FCFG")
    p.feed(b"AT+S.FCFG\r\nAT-S.OK\r\n")
    assert p.echo is None


# --- generated streams: the parser against a model of the wire ---------------------------------

_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)
_WIND_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=":"))
_FINALS = [
    "AT-S.OK",
    "AT-S.OK:55200:10",
    "AT-S.ERROR:4:Variable not found",
    "AT-S.ERROR:4",
    "AT-S.ERROR",
    "AT-S.Http Client Error:2",
    "AT-S.Certificate Error:21",
]


@st.composite
def _wind(draw) -> tuple[bytes, Wind]:
    n = draw(st.integers(2, 99))  # 0 and 1 are reboot lines that also reset echo knowledge
    text = draw(_WIND_TEXT.filter(lambda t: t.strip() == t and t != ""))
    line = f"+WIND:{n}:{text}"
    return line.encode() + b"\r\n", Wind(n, text, [], line)


@st.composite
def _exchange(draw) -> tuple[Step, list]:
    """A command and its answer (or WINDs alone), with the events the parser must give."""
    winds_before = draw(st.lists(_wind(), max_size=2))
    wire = b"".join(w for w, _ in winds_before)
    events: list = [e for _, e in winds_before]
    if draw(st.booleans()):
        return Step(None, wire), events
    command = "AT+S." + draw(st.sampled_from(["SOCKR=0", "GCFG", "SCAN", "FSP=f"]))
    echo = draw(st.booleans())
    if echo:
        wire += command.encode() + b"\r\n"
    lines = [
        draw(st.sampled_from(["AT-S.Var:", "0:\t BSS ", "AT-S.Query:"])) + draw(_TEXT)
        for _ in range(draw(st.integers(0, 3)))
    ]
    body = b"".join(ln.encode() + b"\r\n" for ln in lines)
    raw = b""
    if draw(st.booleans()):
        raw = draw(st.binary(max_size=64))
        announce = f"AT-S.Reading:{len(raw)}:{len(raw)}"
        lines.append(announce)
        body += announce.encode() + b"\r\n" + raw
    final = draw(st.sampled_from(_FINALS))
    wire += body + final.encode() + b"\r\n"
    ok, kind, number, text = parse_final(final)  # type: ignore[misc]
    events.append(Reply(lines, raw, ok, final, command, echo, body, kind, number, text))
    winds_after = draw(st.lists(_wind(), max_size=2))
    wire += b"".join(w for w, _ in winds_after)
    events += [e for _, e in winds_after]
    return Step(command, wire), events


@settings(max_examples=150, deadline=None)
@given(st.lists(_exchange(), min_size=1, max_size=5), st.data())
def test_generated_streams(exchanges: list[tuple[Step, list]], data: st.DataObject) -> None:
    steps = [s for s, _ in exchanges]
    expected = [e for _, evs in exchanges for e in evs]
    cuts = [data.draw(st.lists(st.integers(0, len(s.wire)), max_size=8)) for s in steps]
    assert run(steps, cuts) == expected


def test_abandoned_raw_block_is_counted_off() -> None:
    p = Parser()
    p.start("AT+S.SOCKR=0")
    p.feed(b"AT+S.SOCKR=0\r\nAT-S.Reading:20:20\r\n12345")
    p.abandon()  # timed out in the middle of the data
    p.start("AT")
    evs = p.feed(b"+WIND:9:oops\r\nzAT-S.OK\r\nAT\r\nAT-S.OK\r\n")
    assert evs[0] == Stray("AT-S.OK")  # the late end of the read, not a WIND, not our answer
    assert isinstance(evs[1], Reply) and evs[1].echoed and evs[1].raw == b""
    assert len(evs) == 2


def test_forget_raw_after_a_reboot() -> None:
    p = Parser()
    p.start("AT+S.SOCKR=0")
    p.feed(b"AT-S.Reading:20:20\r\n12345")
    p.abandon()
    p.forget_raw()
    [w] = p.feed(b"+WIND:1:Poweron:x\r\n")
    assert w.number == 1
