"""The heap ledger and the output gate's bounds, dialect-free (atwifi.runtime)."""

from __future__ import annotations

from atwifi.runtime.gate import OutputGate
from atwifi.runtime.heap import Heap
from atwifi.runtime.items import Wind


def test_reserve_release_and_the_low_water_mark() -> None:
    h = Heap(1000, boot_low=900)
    lows: list[int] = []
    h.on_low = lambda: lows.append(h.free)
    assert (h.free, h.low) == (1000, 900)
    assert h.reserve("a", 300) and h.reserve("b", 500)
    assert (h.free, h.low, h.held) == (200, 200, {"a": 300, "b": 500})
    assert not h.reserve("c", 201) and not h.fits(250)  # one episode: on_low once
    assert lows == [200] and h.free == 200
    h.release("a", 1000)  # never more than it holds
    assert h.free == 500 and "a" not in h.held
    assert not h.reserve("c", 600)  # memory was given back: a new episode
    assert lows == [200, 500]
    h.set("w", 100, transient=True)
    h.set("w", 0, transient=True)  # transient memory going away ends no episode
    assert not h.reserve("c", 600) and lows == [200, 500]
    h.boot()
    assert (h.free, h.low, h.held) == (1000, 900, {})


def _key(w: Wind) -> object:
    return ("k", w.fields[0]) if w.number == 1 else None


def _merge(old: Wind, new: Wind) -> Wind:
    return Wind(1, "", (new.fields[0], int(old.fields[1]) + int(new.fields[1])))  # type: ignore[call-overload]


def test_gate_merges_and_caps() -> None:
    g = OutputGate(limit=400)
    g.key, g.merge = _key, _merge
    h = Heap(10_000)
    g.heap = h
    assert not g.hold(Wind(1, "", ("a", 1)))  # not busy: send it now
    g.begin()
    for _ in range(100):
        g.hold(Wind(1, "", ("a", 1)))
    for i in range(50):
        g.hold(Wind(2, "x" * 20, (i,)))  # merge with none: the oldest go past the cap
    g.hold(Wind(1, "", ("a", 1)))
    assert g.held_bytes <= 400 and h.account("winds") >= g.held_bytes
    assert g.merged == 100 and sum(g.dropped.values()) > 0
    held = g.end()
    assert held[0] == Wind(1, "", ("a", 101))  # the merged one kept its place and the totals
    assert [w.fields[0] for w in held[1:]] == list(range(50 - len(held) + 1, 50))  # newest kept
    assert h.account("winds") == 0 and not g.busy
