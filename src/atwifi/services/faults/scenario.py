"""Running a scenario: control verbs at given times, from one task owned by the fault set.

The runner is given ``call(verb, args)`` (the control channel's dispatcher), so the steps act
through the same surface as ``atwifi ctl``. It runs outside the module's life cycle: a reset
of the module does not stop it (a scenario describes the world, not the module's RAM).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


async def run(steps: list[dict[str, Any]], call: Call, note: Callable[[str], None]) -> int:
    """Run every step at its time; returns how many succeeded. A failing step is noted and
    the scenario goes on."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    ok = 0
    note(f"scenario: {len(steps)} steps")
    for s in steps:
        delay = t0 + s["at"] - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # the scenario's own schedule
        try:
            await call(s["verb"], dict(s["args"]))
        except Exception as e:  # a step the module refuses: say so, go on
            note(f"scenario: at {s['at']:g} s {s['verb']} {s['args']} failed: {e}")
            continue
        ok += 1
        note(f"scenario: at {s['at']:g} s {s['verb']} {s['args']}")
    note(f"scenario: done, {ok}/{len(steps)} steps applied")
    return ok
