"""The output gate: WINDs are held while a reply (or the data block of its command) is in
progress, so a WIND never lands inside one; they follow the reply, in order.

Held WINDs are memory, and a module has little: they are bounded two ways.

* **Coalescing** (the dialect's rule): ``key(wind)`` names WINDs that may merge (None: never);
  a WIND whose key is already held is merged into that one, in its place, by
  ``merge(old, new)`` (the SPWF04: a socket's pending-data WINDs collapse to the latest
  totals). A flood from one source then holds one WIND.
* **A cap**: past ``limit`` bytes the oldest held WINDs that merge with none are dropped
  (one that merges carries the latest totals, and there is one per key at most), counted by
  number in ``dropped``; the runtime traces what was dropped when the reply ends.

What is held is charged to the module's heap (account ``"winds"``) when a heap is attached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from atwifi.runtime.items import Wind

if TYPE_CHECKING:
    from atwifi.runtime.heap import Heap

# Bytes of held WINDs at most (about: see _size). Above the most a paced source holds: MQTT
# stops reading at 64 KiB of held WINDs, after the packet it is in, which may be 1 MiB of
# WIND:86 pieces; nothing it holds is ever dropped. Unpaced floods (a socket's 55/63 merge
# anyway; WIND:80 broadcasts, 61 connections) stop here.
HELD_LIMIT = 1152 * 1024


class OutputGate:
    __slots__ = (
        "busy",
        "held",
        "held_bytes",
        "key",
        "merge",
        "limit",
        "heap",
        "dropped",
        "merged",
        "_index",
        "_base",
        "_peak",
    )

    def __init__(self, limit: int = HELD_LIMIT) -> None:
        # Public: the runtime's hot path reads and sets them without a call.
        self.busy = False
        self.held: list[Wind] = []
        # About how many bytes the held WINDs will take on the console: a service that
        # feeds WINDs (MQTT, sockets) pauses its reading above a limit, so memory stays bounded.
        self.held_bytes = 0
        self.key: Callable[[Wind], Hashable | None] | None = None
        self.merge: Callable[[Wind, Wind], Wind] | None = None
        self.limit = limit
        self.heap: Heap | None = None
        self.dropped: Counter[int] = Counter()  # WIND numbers dropped over the cap, since end()
        self.merged = 0  # WINDs merged into a held one, since end()
        self._index: dict[Hashable, int] = {}  # key -> where its WIND is in held
        self._peak = 0

    def begin(self) -> None:
        self.busy = True

    def end(self) -> list[Wind]:
        """The reply is complete: the WINDs held meanwhile, oldest first."""
        self.busy = False
        held, self.held = self.held, []
        self._forget()
        return held

    def hold(self, wind: Wind) -> bool:
        """True when ``wind`` was held (a reply is in progress); False: send it now."""
        if not self.busy:
            return False
        self.keep(wind)
        return True

    def keep(self, wind: Wind) -> None:
        """Hold ``wind`` whatever the state (the runtime: the host takes no output now)."""
        key = self.key(wind) if self.key is not None else None
        if key is not None:
            i = self._index.get(key)
            if i is not None and self.merge is not None:
                old = self.held[i]
                new = self.merge(old, wind)
                self.held[i] = new
                self.held_bytes += _size(new) - _size(old)
                self.merged += 1
                self._charge()
                return
            self._index[key] = len(self.held)
        self.held.append(wind)
        self.held_bytes += _size(wind)
        if self.held_bytes > self.limit:
            self._drop_oldest()
        self._charge()

    def clear(self) -> None:
        self.busy = False
        self._forget()
        self.dropped.clear()
        self.merged = 0

    def _forget(self) -> None:
        self.held.clear()
        self._index.clear()
        self.held_bytes = 0
        if self.heap is not None and self._peak:
            self.heap.set("winds", 0, transient=True)
        self._peak = 0

    def _charge(self) -> None:
        if self.heap is not None and self.held_bytes > self._peak:
            # Charged as the held WINDs grow past their peak: one call per new peak.
            self._peak = self.held_bytes
            self.heap.set("winds", self.held_bytes)

    def _drop_oldest(self) -> None:
        held, index = self.held, self._index
        keyed = set(index.values())
        i = 0
        while self.held_bytes > self.limit and i < len(held) - 1:
            if i in keyed:
                i += 1  # merges: it holds the latest totals of its kind
                continue
            wind = held.pop(i)
            self.held_bytes -= _size(wind)
            self.dropped[wind.number] += 1
            if index:
                for k, j in index.items():
                    if j > i:
                        index[k] = j - 1
                keyed = set(index.values())


def _size(wind: Wind) -> int:
    """Bytes a WIND takes, about (its longest form: number, text, fields, separators)."""
    n = 12 + len(wind.text)
    for f in wind.fields:
        n += 1 + (len(f) if isinstance(f, str | bytes | bytearray) else 8)
    return n
