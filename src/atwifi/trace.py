"""A JSON-lines trace of every console byte, and the coloured `-v` view of the same records.

One JSON object per chunk:
    {"t": 1.234567, "wall": "2026-01-01T00:00:00.000000Z", "dir": "in"|"out",
     "data": "AT\\r", "hex": "41540d"}
    {"t": ..., "wall": ..., "dir": "out", "len": 47000, "at": 1880000}
    {"t": ..., "wall": ..., "dir": "note", "text": "host connected from 127.0.0.1:40000"}
"in" is host -> module, "out" is module -> host. "data" is for reading (printable ASCII kept,
backslash doubled, \\r \\n \\t and \\xNN for the rest); "hex" is the exact bytes. A chunk
over TEXT_MAX bytes (bulk data: SOCKW bursts, SOCKR replies) is kept as it is in the file
beside the trace, ``<trace>.bytes``: its record says where ("at") and how long ("len"), as
making hex of every byte cost more than the module's own work. ``read_trace()`` gives every
record with its "hex"; ``record_text()`` the readable text of any record.

Cheap enough to leave on: records are formatted without json.dumps (every field is made
JSON-safe by construction), the wall clock is computed from the monotonic one, and the trace
is flushed before every console write (once per burst: every record of what the host has
seen, and every note that led to it, is in the file) and at the end of every event-loop
turn, instead of after every record. Bulk chunks' bytes are gathered in a block of BLOCK
bytes (copied after the console write that sends them, or at the turn's end) and written one
block at a time, at aligned offsets: that copy into the page cache is most of the trace's
cost, and made in 256 KiB aligned writes it costs a tenth to a quarter less than a write
per chunk (1 MiB blocks measured worse than a write per chunk, in the module). A block
begun is written within TAIL_S even if it does not fill (a pause in the traffic), and at
close. So a reader racing the module may find the newest bulk bytes still missing, and a
killed module loses up to one block of them: ``resolve`` marks those records "partial".
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import threading
import time
from binascii import hexlify
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from atwifi.transports.base import Transport


def _table(special: dict[int, str]) -> dict[int, str]:
    table = {i: f"\\x{i:02x}" for i in range(256) if not 0x20 <= i < 0x7F}
    table.update(special)
    return table


# The escape of "data", as a table (the reference: ``_escaped`` makes the same, faster).
_JSON_ESCAPES = _table({0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t", 0x5C: "\\\\"})
_VIEW_ESCAPES = _table({0x0D: "\u240d", 0x0A: "\u240a"})


# Chunks longer than this carry "hex" only.
TEXT_MAX = 2048

_DIRS = {"in": b"in", "out": b"out", "note": b"note"}

BLOCK = 1 << 18  # bulk bytes gathered for one write into the bytes file
TAIL_S = 0.05  # bulk bytes wait at most this long for their block to fill

_escape_encode = codecs.escape_encode  # type: ignore[attr-defined]


def _escaped(data: bytes | bytearray | memoryview) -> bytes:
    # codecs.escape_encode escapes exactly as _JSON_ESCAPES does (\\ \t \n \r, \xNN for
    # bytes outside 0x20-0x7e), in C, about ten times faster than str.translate, but for one
    # more: ' becomes \'. A ' in its output is always that escape's, so undoing it is exact.
    return _escape_encode(bytes(data))[0].replace(b"\\'", b"'")


def escape(data: bytes) -> str:
    """Bytes as readable text: printable ASCII kept, \\r \\n \\t \\\\ and \\xNN otherwise."""
    return _escaped(data).decode("ascii")


def bulk_path(path: Path) -> Path:
    """The file beside a trace that holds its bulk chunks' bytes."""
    return path.with_name(path.name + ".bytes")


def resolve(rec: dict[str, Any], bulk: IO[bytes] | None) -> dict[str, Any]:
    """A bulk chunk's record given its "hex" from the trace's bytes file (open, binary)."""
    if "at" in rec and "hex" not in rec and bulk is not None:
        bulk.seek(rec["at"])
        data = bulk.read(rec["len"])
        rec["hex"] = data.hex()
        if len(data) < rec["len"]:
            # Read while the module writes: the record goes out before the console write,
            # its bytes just after it (or lost with a killed module).
            rec["partial"] = True
    return rec


def record_bytes(rec: dict[str, Any]) -> bytes:
    """The exact bytes of an "in" or "out" record (of ``read_trace()``)."""
    return bytes.fromhex(rec["hex"])


def record_text(rec: dict[str, Any]) -> str:
    """The readable text of a record: "data" (computed from "hex" for a long chunk), or a
    note's "text"."""
    if rec.get("dir") == "note":
        return str(rec.get("text", ""))
    text = rec.get("data")
    if text is None and "hex" in rec:
        text = escape(record_bytes(rec))
    return str(text or "")


def glyphs(data: bytes) -> str:
    """Bytes for the -v view: CR and LF as the ␍ ␊ glyphs, other control bytes as \\xNN."""
    return data.decode("latin-1").translate(_VIEW_ESCAPES)


class Trace:
    """Records console traffic and transport events.

    path: the JSON-lines file (None: no file). verbose: also print each record on stderr with
    rich (console: a rich Console to print on instead, for tests).
    """

    STYLES = {"in": "bold cyan", "out": "green", "note": "dim"}
    ARROWS = {"in": "\u2192", "out": "\u2190", "note": "\u00b7"}  # → ← ·

    def __init__(self, path: Path | None, verbose: bool, console: Any = None) -> None:
        self.path = path
        self.verbose = verbose
        self._t0 = time.monotonic()
        self._wall0 = time.time() - self._t0  # wall = _wall0 + monotonic()
        self._second = -1  # the whole second _wall_prefix is for
        self._wall_prefix = b""
        # Binary, big buffer: records are bytes, flushed once per loop turn (_schedule).
        self._file: IO[bytes] | None = (
            open(path, "wb", buffering=1 << 20) if path is not None else None  # noqa: SIM115
        )
        # The bulk chunks' file: no Python buffer, the block is ours (_gather) and goes out
        # whole with os.pwrite at its own offset.
        self._bulk_fd = (
            os.open(bulk_path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            if path is not None
            else -1
        )
        self._bulk_at = 0  # where the next bulk chunk starts in that file
        self._pending: list[bytes] = []  # bulk chunks recorded, not in the block yet
        # The bulk bytes gathered for one write (none without a file: nothing to gather).
        self._block = memoryview(bytearray(BLOCK if path is not None else 0))
        self._base = 0  # where the block starts in the file (a multiple of BLOCK)
        self._filled = 0  # bytes in the block
        self._written = 0  # of them, already in the file (an idle tail's write)
        self._tail: asyncio.TimerHandle | None = None
        self._flush_pending = False
        self._lock = threading.Lock()
        self._console = console
        if verbose and console is None:
            from rich.console import Console  # lazy: only -v pays for rich

            self._console = Console(stderr=True, highlight=False)

    def record(self, direction: str, data: bytes) -> None:
        if direction != "in" and direction != "out":
            raise ValueError(f"trace direction must be 'in' or 'out', not {direction!r}")
        if not data:
            return
        now = time.monotonic()
        f = self._file
        if f is not None:
            head = self._head(now, direction)
            if len(data) <= TEXT_MAX:
                # JSON-safe by construction: the escape's output is printable ASCII, and
                # only its backslashes and quotes need JSON's escape.
                text = _escaped(data).replace(b"\\", b"\\\\").replace(b'"', b'\\"')
                f.write(b'%s,"data":"%s","hex":"%s"}\n' % (head, text, hexlify(data)))
            else:
                # Bulk data: the bytes as they are, in the bytes file, where the record says
                # (the lock: a note from a thread never lands between the two).
                n = len(data)
                with self._lock:
                    self._pending.append(data if type(data) is bytes else bytes(data))
                    f.write(b'%s,"len":%d,"at":%d}\n' % (head, n, self._bulk_at))
                    self._bulk_at += n
            if direction == "out":
                # Before the host can see these bytes, the trace has their record and all
                # that led to them: one flush per console write, which is one per burst.
                # Bulk bytes follow the write (``sent``), or the turn's end.
                f.flush()
            self._schedule()
        if self.verbose:
            self._show(now - self._t0, direction, glyphs(data))

    def note(self, text: str) -> None:
        now = time.monotonic()
        f = self._file
        if f is not None:
            body = json.dumps(text, ensure_ascii=False).encode("utf-8")
            f.write(b'%s,"text":%s}\n' % (self._head(now, "note"), body))
            self._schedule()
        if self.verbose:
            self._show(now - self._t0, "note", text)

    def _head(self, now: float, direction: str) -> bytes:
        """``{"t":..,"wall":"..","dir":".."`` for a record taken at monotonic ``now``."""
        wall = self._wall0 + now
        second = int(wall)
        if second != self._second:
            self._second = second
            self._wall_prefix = (
                datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S").encode()
            )
        return b'{"t":%.6f,"wall":"%s.%06dZ","dir":"%s"' % (
            now - self._t0,
            self._wall_prefix,
            min(int((wall - second) * 1_000_000), 999_999),
            _DIRS[direction],
        )

    def _schedule(self) -> None:
        """Flush once the current loop turn is over (at once without a running loop): the
        records are complete up to the last turn, even when atwifi is killed (their bulk
        bytes up to the last block written)."""
        if self._flush_pending:
            return
        loop = self._loop
        if loop is None or threading.get_ident() != self._loop_thread or not loop.is_running():
            # (the loop is asked for once per thread and loop: the question costs a
            # getpid() system call on Python 3.11, and records come in thousands a second)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._loop, self._loop_thread = loop, threading.get_ident()
        self._flush_pending = True
        loop.call_soon(self._turn_end)

    _loop: asyncio.AbstractEventLoop | None = None
    _loop_thread = 0

    def sent(self) -> None:
        """The console write of the last "out" record is done: gather its bulk chunk."""
        if self._pending:
            self._gather()

    def _gather(self) -> None:
        """The pending chunks into the block, writing each block that fills: one write per
        BLOCK bytes, at BLOCK-aligned offsets (the page cache takes those in larger pieces
        than a write per ~50 KiB chunk), from one buffer that stays (holding the chunks
        until a list of them made BLOCK was no cheaper: their memory was not reused)."""
        with self._lock:
            pending, self._pending = self._pending, []
            view = self._block
            for chunk in pending:
                at, n = 0, len(chunk)
                while at < n:
                    take = min(BLOCK - self._filled, n - at)
                    part = chunk if take == n else memoryview(chunk)[at : at + take]
                    view[self._filled : self._filled + take] = part
                    self._filled += take
                    at += take
                    if self._filled == BLOCK:
                        self._write_block()

    def _write_block(self) -> None:
        """What the file lacks of the block; a full block is done and the next begins."""
        rest = self._block[self._written : self._filled]
        at = self._base + self._written
        while rest:  # (a file takes all at once, but for a full disk)
            done = os.pwrite(self._bulk_fd, rest, at)
            rest, at = rest[done:], at + done
        self._written = self._filled
        if self._filled == BLOCK:
            self._base += BLOCK
            self._filled = self._written = 0

    def _tail_due(self) -> None:
        self._tail = None
        self._write_tail()

    def _write_tail(self) -> None:
        """The bulk bytes gathered so far into the file (the block stays open)."""
        if self._pending:
            self._gather()
        with self._lock:
            if self._filled > self._written:
                self._write_block()

    def _turn_end(self) -> None:
        """Records to the file; bulk bytes to the block, and a block begun is written within
        TAIL_S (one timer for the block's unwritten bytes, not one per turn)."""
        self._flush_pending = False
        if self._file is None:
            return
        if self._pending:
            self._gather()
        self._file.flush()
        if self._filled > self._written and self._tail is None and self._loop is not None:
            self._tail = self._loop.call_later(TAIL_S, self._tail_due)

    def flush(self) -> None:
        """Everything recorded into the files, bulk bytes first (a record's bytes are there
        when it is)."""
        self._flush_pending = False
        if self._file is not None:
            self._write_tail()
            self._file.flush()

    def _show(self, t: float, direction: str, text: str) -> None:
        from rich.text import Text

        line = Text(f"{t:10.3f} ", style="dim")
        line.append(f"{self.ARROWS[direction]} {text}", style=self.STYLES[direction])
        self._console.print(line, soft_wrap=True)

    def close(self) -> None:
        self._flush_pending = False
        if self._tail is not None:
            self._tail.cancel()
        if self._file is not None:
            self.flush()
            os.close(self._bulk_fd)
            self._file.close()
            self._file, self._bulk_fd = None, -1


def read_trace(path: Path) -> list[dict[str, Any]]:
    """The records of a trace file (for tests and tools), each chunk with its "hex"."""
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    side = bulk_path(path)
    if any("at" in r for r in records) and side.exists():
        with open(side, "rb") as bulk:
            for r in records:
                resolve(r, bulk)
    return records


class TracingTransport(Transport):
    """Wraps a transport and records both directions (and its notes) in a Trace."""

    def __init__(self, inner: Transport, trace: Trace) -> None:
        self.inner = inner
        self.trace = trace
        inner.on_note = self._inner_note

    def _inner_note(self, text: str) -> None:
        self.trace.note(text)
        if self.on_note is not None:
            self.on_note(text)

    def note(self, text: str) -> None:
        self._inner_note(text)

    async def start(self, feed: Callable[[bytes], None]) -> None:
        record = self.trace.record

        def traced_feed(data: bytes) -> None:
            record("in", data)
            feed(data)

        await self.inner.start(traced_feed)

    def write(self, data: bytes) -> None:
        trace = self.trace
        trace.record("out", data)
        self.inner.write(data)
        trace.sent()

    async def drain(self) -> None:
        await self.inner.drain()

    def endpoints(self) -> list[tuple[str, int]]:
        return self.inner.endpoints()

    def describe(self) -> str:
        return self.inner.describe()

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # .port, .baudrate, .path... of the wrapped transport
        return getattr(self.inner, name)
