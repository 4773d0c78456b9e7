"""Console faults: what a bad serial line does to the bytes between host and module.

* fragments: the module's output leaves in pieces of ``size`` bytes, ``delay_ms`` apart (as
  esp-protocols' modem simulator splits its replies), order kept;
* drop / corrupt: each byte is lost, or replaced by another value, with a probability, from a
  seeded RNG (the same seed and the same bytes give the same damage).

``direction`` says which way drop/corrupt apply: "out" (module -> host, the default), "in"
(host -> module) or "both". Fragments are output only. Used by a transport-level wrapper
(atwifi.transports.faulty.FaultyTransport) or ``wrap_write`` around any write function.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable
from typing import Any

DIRECTIONS = ("out", "in", "both")


class ConsoleFaults:
    def __init__(self, note: Callable[[str], None] = lambda text: None) -> None:
        self.note = note
        self.fragment_size = 0
        self.fragment_delay = 0.0  # seconds
        self.drop_rate = 0.0
        self.corrupt_rate = 0.0
        self.direction = "out"
        self.seed: int | None = None
        self._rng = random.Random()
        self._queue: deque[bytes] = deque()
        self.queued = 0  # bytes waiting in fragments
        self._room: asyncio.Event | None = None  # set when the queue has drained
        self._timer: asyncio.TimerHandle | None = None
        self._write: Callable[[bytes], None] | None = None

    @property
    def active(self) -> bool:
        return bool(self.fragment_size or self.drop_rate or self.corrupt_rate)

    def set(
        self,
        *,
        fragment_size: int | None = None,
        fragment_delay_ms: float | None = None,
        drop_rate: float | None = None,
        corrupt_rate: float | None = None,
        direction: str | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        if fragment_size is not None:
            if not 0 <= int(fragment_size) <= 65536:
                raise ValueError("fragment_size: 0 (off) .. 65536")
            self.fragment_size = int(fragment_size)
        if fragment_delay_ms is not None:
            if not 0 <= float(fragment_delay_ms) <= 10000:
                raise ValueError("fragment_delay_ms: 0 .. 10000")
            self.fragment_delay = float(fragment_delay_ms) / 1000
        for name, value in (("drop_rate", drop_rate), ("corrupt_rate", corrupt_rate)):
            if value is not None:
                if not 0 <= float(value) <= 1:
                    raise ValueError(f"{name}: 0 .. 1")
                setattr(self, name, float(value))
        if direction is not None:
            if direction not in DIRECTIONS:
                raise ValueError(f"direction: one of {DIRECTIONS}")
            self.direction = direction
        if seed is not None:
            self.seed = int(seed)
        # Every change restarts the RNG from the seed: a run is reproducible from here.
        self._rng = random.Random(self.seed)
        self.note(f"fault console: {self.describe()}")
        return self.to_dict()

    def clear(self) -> None:
        if self.active:
            self.fragment_size, self.drop_rate, self.corrupt_rate = 0, 0.0, 0.0
            self.note("fault console: cleared")

    def to_dict(self) -> dict[str, Any]:
        return {
            "fragment_size": self.fragment_size,
            "fragment_delay_ms": self.fragment_delay * 1000,
            "drop_rate": self.drop_rate,
            "corrupt_rate": self.corrupt_rate,
            "direction": self.direction,
            "seed": self.seed,
        }

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.to_dict().items())

    # -- damage ----------------------------------------------------------------------------
    def damage(self, data: bytes, direction: str) -> bytes:
        """Drop and corrupt bytes going ``direction`` ("in"/"out") per the rates."""
        if not (self.drop_rate or self.corrupt_rate) or self.direction not in (direction, "both"):
            return data
        rng = self._rng
        out = bytearray()
        dropped = corrupted = 0
        for b in data:
            if self.drop_rate and rng.random() < self.drop_rate:
                dropped += 1
                continue
            if self.corrupt_rate and rng.random() < self.corrupt_rate:
                b ^= rng.randrange(1, 256)  # never the same value
                corrupted += 1
            out.append(b)
        if dropped or corrupted:
            self.note(
                f"fault console {direction}: {dropped} bytes dropped, {corrupted} corrupted"
                f" of {len(data)}"
            )
        return bytes(out)

    # -- output ----------------------------------------------------------------------------
    def output(self, data: bytes, write: Callable[[bytes], None]) -> None:
        """Module -> host bytes through the faults, then to ``write`` (now or in pieces)."""
        data = self.damage(data, "out")
        if not data:
            return
        size = self.fragment_size
        if not size and not self._queue:
            write(data)
            return
        size = size or len(data)
        self._write = write
        for i in range(0, len(data), size):
            self._queue.append(data[i : i + size])
        self.queued += len(data)
        if self._timer is None:
            self._send_one()

    def _send_one(self) -> None:
        self._timer = None
        if not self._queue or self._write is None:
            return
        piece = self._queue.popleft()
        self.queued -= len(piece)
        self._write(piece)
        if not self._queue and self._room is not None:
            self._room.set()
        if self._queue:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.fragment_delay, self._send_one)

    async def drained(self, limit: int) -> None:
        """Wait while more than ``limit`` bytes wait in fragments: the console's output
        stays bounded however slow the fragments go (the device drains its writes)."""
        while self.queued > limit and self._queue:
            if self._room is None or self._room.is_set():
                self._room = asyncio.Event()
            await self._room.wait()

    def wrap_write(self, write: Callable[[bytes], None]) -> Callable[[bytes], None]:
        def faulty(data: bytes) -> None:
            if not self.active and not self._queue:
                write(data)
            else:
                self.output(data, write)

        return faulty

    def wrap_feed(self, feed: Callable[[bytes], None]) -> Callable[[bytes], None]:
        def faulty(data: bytes) -> None:
            if self.drop_rate or self.corrupt_rate:
                data = self.damage(data, "in")
            if data:
                feed(data)

        return faulty

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
        self.queued = 0
        if self._room is not None:
            self._room.set()
