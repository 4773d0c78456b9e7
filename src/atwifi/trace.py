"""A JSON-lines trace of every console byte, and the coloured `-v` view of the same records.

One JSON object per chunk:
    {"t": 1.234567, "wall": "2026-01-01T00:00:00.000000Z", "dir": "in"|"out",
     "data": "AT\\r", "hex": "41540d"}
    {"t": ..., "wall": ..., "dir": "note", "text": "host connected from 127.0.0.1:40000"}
"in" is host -> module, "out" is module -> host. "data" is for reading (printable ASCII kept,
backslash doubled, \\r \\n \\t and \\xNN for the rest); "hex" is the exact bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from atwifi.transports.base import Transport


def _table(special: dict[int, str]) -> dict[int, str]:
    table = {i: f"\\x{i:02x}" for i in range(256) if not 0x20 <= i < 0x7F}
    table.update(special)
    return table


# str.translate over a latin-1 decoding escapes a whole chunk in C, no Python loop per byte.
_JSON_ESCAPES = _table({0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t", 0x5C: "\\\\"})
_VIEW_ESCAPES = _table({0x0D: "\u240d", 0x0A: "\u240a"})


def escape(data: bytes) -> str:
    """Bytes as readable text: printable ASCII kept, \\r \\n \\t \\\\ and \\xNN otherwise."""
    return data.decode("latin-1").translate(_JSON_ESCAPES)


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
        # One short line per record, flushed at once: small enough to write from the loop.
        self._file: IO[str] | None = (
            open(path, "w", encoding="utf-8", buffering=1 << 16) if path is not None else None  # noqa: SIM115
        )
        self._console = console
        if verbose and console is None:
            from rich.console import Console  # lazy: only -v pays for rich

            self._console = Console(stderr=True, highlight=False)

    def record(self, direction: str, data: bytes) -> None:
        if direction not in ("in", "out"):
            raise ValueError(f"trace direction must be 'in' or 'out', not {direction!r}")
        if not data:
            return
        t = time.monotonic() - self._t0
        self._write({"dir": direction, "data": escape(data), "hex": data.hex()}, t)
        if self.verbose:
            self._show(t, direction, glyphs(data))

    def note(self, text: str) -> None:
        t = time.monotonic() - self._t0
        self._write({"dir": "note", "text": text}, t)
        if self.verbose:
            self._show(t, "note", text)

    def _write(self, fields: dict[str, str], t: float) -> None:
        if self._file is None:
            return
        wall = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        obj = {"t": round(t, 6), "wall": wall, **fields}
        self._file.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self._file.flush()

    def _show(self, t: float, direction: str, text: str) -> None:
        from rich.text import Text

        line = Text(f"{t:10.3f} ", style="dim")
        line.append(f"{self.ARROWS[direction]} {text}", style=self.STYLES[direction])
        self._console.print(line, soft_wrap=True)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_trace(path: Path) -> list[dict[str, Any]]:
    """The records of a trace file (for tests and tools)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


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
        self.trace.record("out", data)
        self.inner.write(data)

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
