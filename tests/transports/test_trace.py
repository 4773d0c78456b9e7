"""The JSON-lines trace and the TracingTransport wrapper."""

from __future__ import annotations

import asyncio
import io
import json

from rich.console import Console
from transport_helpers import SAFETY, Echo

from atwifi.trace import Trace, TracingTransport, escape, read_trace, record_bytes
from atwifi.transports.base import Transport
from atwifi.transports.tcp import TcpTransport


def test_records_are_json_lines_and_round_trip(tmp_path) -> None:
    path = tmp_path / "trace.jsonl"
    trace = Trace(path, verbose=False)
    chunks = [b"AT+S.STS\r", bytes(range(256)), b"\\x41 not an escape", b"AT-S.OK\r\n"]
    trace.record("in", chunks[0])
    trace.record("out", chunks[1])
    trace.note("blocked by network policy")
    trace.record("in", chunks[2])
    trace.record("out", chunks[3])
    trace.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    records = [json.loads(line) for line in lines]
    assert [r["dir"] for r in records] == ["in", "out", "note", "in", "out"]
    data = [r for r in records if r["dir"] != "note"]
    assert [bytes.fromhex(r["hex"]) for r in data] == chunks
    assert data[0]["data"] == "AT+S.STS\\r"
    assert data[3]["data"] == "AT-S.OK\\r\\n"
    assert data[2]["data"] == "\\\\x41 not an escape"  # a literal backslash is doubled
    assert records[2]["text"] == "blocked by network policy"
    ts = [r["t"] for r in records]
    assert ts == sorted(ts) and all(isinstance(t, float) for t in ts)
    assert all(r["wall"].endswith("Z") and "T" in r["wall"] for r in records)
    assert read_trace(path) == records


def test_escape_is_unambiguous() -> None:
    assert escape(b"\x00\x1f\x7f\xff\t") == "\\x00\\x1f\\x7f\\xff\\t"
    assert escape(b"A b~") == "A b~"


def test_verbose_view_is_coloured_one_line_per_record() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=200)
    trace = Trace(None, verbose=True, console=console)
    trace.record("in", b"AT\r")
    trace.record("out", b"AT-S.OK\r\n")
    trace.note("host connected")
    text = out.getvalue()
    lines = text.splitlines()
    assert len(lines) == 3
    assert "AT\u240d" in lines[0] and "AT-S.OK\u240d\u240a" in lines[1]
    assert "host connected" in lines[2]
    assert "\x1b[" in text  # styled
    assert lines[0].split("\x1b[")[-2] != lines[1].split("\x1b[")[-2]  # different colours


async def test_tracing_transport_records_both_directions(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    trace = Trace(path, verbose=False)
    tcp = TcpTransport("127.0.0.1", 0)
    t = TracingTransport(tcp, trace)
    echo = Echo(t)
    await t.start(echo.feed)
    try:
        assert t.port == tcp.port > 0  # attributes of the wrapped transport show through
        reader, writer = await asyncio.open_connection("127.0.0.1", t.port)
        writer.write(b"at\xff\r")
        assert await asyncio.wait_for(reader.readexactly(4), SAFETY) == b"AT\xff\r"
        writer.close()
    finally:
        await t.close()
        trace.close()
    records = read_trace(path)
    ins = b"".join(bytes.fromhex(r["hex"]) for r in records if r["dir"] == "in")
    outs = b"".join(bytes.fromhex(r["hex"]) for r in records if r["dir"] == "out")
    assert ins == b"at\xff\r" and outs == b"AT\xff\r"
    assert any("host connected" in r.get("text", "") for r in records)


def test_fast_escape_matches_the_table() -> None:
    from atwifi.trace import _JSON_ESCAPES

    for data in (bytes(range(256)), b"'\\'\\\\''", bytes(range(256))[::-1] * 3):
        assert escape(data) == data.decode("latin-1").translate(_JSON_ESCAPES)


def test_long_chunks_carry_hex_only_and_read_back(tmp_path) -> None:
    from atwifi.trace import TEXT_MAX, bulk_path, record_bytes, record_text

    path = tmp_path / "trace.jsonl"
    trace = Trace(path, verbose=False)
    long = bytes(range(256)) * (TEXT_MAX // 256 + 1) + b'"quoted"'
    trace.record("out", long)
    trace.record("in", b'say "hi"\r')
    trace.note('a "quoted" note \u00e9')
    trace.close()
    big, short, note = read_trace(path)
    assert "data" not in big and record_bytes(big) == long
    # On disk: the bytes as they are, beside the trace; the record says where.
    raw = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert "hex" not in raw and raw["len"] == len(long) and raw["at"] == 0
    assert bulk_path(path).read_bytes() == long
    assert record_text(big) == escape(long)
    assert short["data"] == 'say "hi"\\r' and record_text(short) == short["data"]
    assert record_text(note) == 'a "quoted" note \u00e9'


async def test_records_reach_the_file_after_the_loop_turn(tmp_path) -> None:
    """Flushed once per loop turn, not per record: complete up to the last burst."""
    path = tmp_path / "trace.jsonl"
    trace = Trace(path, verbose=False)
    for i in range(100):
        trace.record("in", b"AT%d\r" % i)
    await asyncio.sleep(0)
    assert len(path.read_bytes().splitlines()) == 100  # noqa: ASYNC240  (a test's tmp file)
    trace.close()


async def test_bulk_chunks_reach_their_file_in_blocks_and_a_pause_writes_the_rest(
    tmp_path, monkeypatch
) -> None:
    """Bulk bytes go to the bytes file a block at a time, at the turn a block fills; what a
    pause leaves of a block follows within TAIL_S; their records are in the trace, in order,
    at the end of the turn like the rest."""
    import atwifi.trace as trace_mod
    from atwifi.pytest_plugin import format_trace
    from atwifi.trace import BLOCK, TEXT_MAX, bulk_path

    monkeypatch.setattr(trace_mod, "TAIL_S", 0)  # the pause: the next loop turn
    path = tmp_path / "trace.jsonl"
    trace = Trace(path, verbose=False)
    chunks = [bytes([i]) * (TEXT_MAX + 1 + i) for i in range(5)]
    for i, c in enumerate(chunks):
        trace.record("in", c)
        trace.record("in", b"AT%d\r" % i)
    await asyncio.sleep(0)  # the turn's end: records written, bytes gathered
    assert len(path.read_bytes().splitlines()) == 10  # noqa: ASYNC240
    for _ in range(3):  # the tail's timer, due at once
        await asyncio.sleep(0)
    assert bulk_path(path).read_bytes() == b"".join(chunks)  # noqa: ASYNC240
    got = [bytes.fromhex(r["hex"]) for r in read_trace(path)]
    assert got == [x for i, c in enumerate(chunks) for x in (c, b"AT%d\r" % i)]
    assert "\\x04\\x04" in format_trace(path)  # the readable view shows bulk text too
    big = bytes(range(256)) * (BLOCK // 256 + 10)  # fills the block begun, and begins one
    trace.record("out", big)
    trace.sent()
    written = len(b"".join(chunks)) + len(big)
    assert bulk_path(path).stat().st_size == BLOCK  # the full block, at once
    trace.close()
    assert bulk_path(path).stat().st_size == written  # and the rest at close
    assert record_bytes(read_trace(path)[-1]) == big


async def test_a_block_waits_for_more_until_its_tail_is_due(tmp_path, monkeypatch) -> None:
    """Between a block's first bytes and its tail's timer, the bytes file does not have
    them (one write per block is the point); a pause of TAIL_S writes them, once."""
    import atwifi.trace as trace_mod
    from atwifi.trace import TEXT_MAX, bulk_path

    monkeypatch.setattr(trace_mod, "TAIL_S", 3600)
    path = tmp_path / "trace.jsonl"
    trace = Trace(path, verbose=False)
    chunk = b"Q" * (TEXT_MAX + 1)
    for _ in range(3):
        trace.record("in", chunk)
        await asyncio.sleep(0)
    assert bulk_path(path).stat().st_size == 0
    assert trace._tail is not None  # one timer for the block, armed at its first bytes
    handle = trace._tail
    trace.record("in", chunk)
    await asyncio.sleep(0)
    assert trace._tail is handle
    handle._run()  # the pause: the timer's callback
    assert bulk_path(path).read_bytes() == chunk * 4
    assert not read_trace(path)[-1].get("partial")
    trace.close()


class _Probe(Transport):
    """An inner transport whose write reads the trace files: what a host reading the trace
    the moment the bytes leave would find."""

    def __init__(self, path) -> None:
        self.path, self.seen = path, []

    def write(self, data: bytes) -> None:
        self.seen.append(read_trace(self.path))

    async def start(self, feed) -> None: ...
    async def drain(self) -> None: ...
    async def close(self) -> None: ...
    def describe(self) -> str:
        return "probe"


async def test_records_precede_the_write_and_bulk_bytes_follow_it(tmp_path) -> None:
    """The record of every chunk (and the notes before it) is in the file before the console
    write; a bulk chunk's bytes follow it (gathered right after it, in the file with their
    block)."""
    from atwifi.trace import TEXT_MAX

    path = tmp_path / "trace.jsonl"
    trace = Trace(path, verbose=False)
    probe = _Probe(path)
    t = TracingTransport(probe, trace)
    burst, reply = b"\x01" * (TEXT_MAX + 1), b"\x02" * (TEXT_MAX + 7)
    trace.record("in", burst)
    trace.note("socket 0 sent 2049 bytes")
    t.write(reply)
    (seen,) = probe.seen
    assert [r["dir"] for r in seen] == ["in", "note", "out"]
    assert seen[2]["len"] == len(reply) and seen[2]["partial"]  # not written yet: just after
    assert read_trace(path)[2]["partial"]  # gathered after the write: in the block
    trace.flush()  # (a block's bytes reach the file when it fills or its tail is due)
    got = read_trace(path)
    assert [record_bytes(r) for r in got if r["dir"] != "note"] == [burst, reply]
    assert not any(r.get("partial") for r in got)
    t.write(b"AT-S.OK\r\n")  # a short one: its bytes are in its record, before the write
    assert record_bytes(probe.seen[1][-1]) == b"AT-S.OK\r\n"
    trace.close()


def test_a_record_whose_bytes_are_not_written_yet_reads_as_partial(tmp_path) -> None:
    """Read while the module writes (or after it was killed): the bytes there are, marked."""
    from atwifi.pytest_plugin import format_trace
    from atwifi.trace import TEXT_MAX, bulk_path

    path = tmp_path / "trace.jsonl"
    trace = Trace(path, verbose=False)
    chunk = b"Z" * (TEXT_MAX + 100)
    trace.record("in", chunk)
    trace.close()
    with open(bulk_path(path), "r+b") as f:
        f.truncate(TEXT_MAX)  # as if only part of it had reached the file
    (rec,) = read_trace(path)
    assert rec["partial"] and record_bytes(rec) == chunk[:TEXT_MAX]
    assert format_trace(path).endswith("(100 bytes not written yet)")
