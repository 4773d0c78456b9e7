"""A trace that also feeds the live view: the newest records kept, each one pushed to the
pages that watch. Without watchers it costs one deque append per record."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from pathlib import Path
from typing import Any

from atwifi.trace import TEXT_MAX, Trace, escape

KEEP = 500  # records a page that opens late still sees
QUEUE = 1000  # records a slow page may lag behind before it is dropped (it reconnects)


def classify(direction: str, text: str) -> list[str]:
    """Marks for a record: "wind" for +WIND lines, "error" for error replies."""
    marks = []
    if direction == "out":
        if "+WIND:" in text:
            marks.append("wind")
        if "ERROR" in text or " Error:" in text:
            marks.append("error")
    elif direction == "note" and ("error" in text.lower() or "failed" in text.lower()):
        marks.append("error")
    return marks


def classify_bytes(direction: str, data: bytes) -> list[str]:
    """``classify`` on the bytes themselves (the same answer as on their escape)."""
    marks = []
    if direction == "out":
        if b"+WIND:" in data:
            marks.append("wind")
        if b"ERROR" in data or b" Error:" in data:
            marks.append("error")
    return marks


class LiveTrace(Trace):
    def __init__(self, path: Path | None = None, verbose: bool = False, console: Any = None):
        super().__init__(path, verbose, console)
        self.recent: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self.watchers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.on_record: list[Any] = []  # called after each record (the state push)
        self._seq = 0
        self._t0_live = time.monotonic()

    def _push(self, rec: dict[str, Any]) -> None:
        self._seq += 1
        rec["seq"] = self._seq
        rec["t"] = round(time.monotonic() - self._t0_live, 3)
        self.recent.append(rec)
        for q in list(self.watchers):
            try:
                q.put_nowait(rec)
            except asyncio.QueueFull:
                self.watchers.discard(q)  # too slow: its stream ends, the page reconnects
        for fn in self.on_record:
            fn()

    def record(self, direction: str, data: bytes) -> None:
        super().record(direction, data)
        if data:
            if len(data) <= TEXT_MAX:
                text = escape(data)
                marks = classify(direction, text)
            else:
                # Bulk data: the page shows the first TEXT_MAX bytes (memory: KEEP records
                # of a 64 KB SOCKR reply would be 30 MB of text); the marks are found in all
                # of it (the markers are printable ASCII, which the escape keeps as it is).
                text = f"{escape(data[:TEXT_MAX])}... (+{len(data) - TEXT_MAX} bytes)"
                marks = classify_bytes(direction, data)
            self._push({"dir": direction, "text": text, "marks": marks})

    def note(self, text: str) -> None:
        super().note(text)
        self._push({"dir": "note", "text": text, "marks": classify("note", text)})

    def watch(self) -> asyncio.Queue[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE)
        self.watchers.add(q)
        return q

    def unwatch(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        self.watchers.discard(q)
