"""Long-lived background loops that must not die silently (issue 14: a 400-digit timer value
killed the radio's and NTP's tasks with OverflowError and the module never rejoined)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger("atwifi")


async def restarting(
    factory: Callable[[], Coroutine[Any, Any, None]],
    name: str,
    note: Callable[[str], None],
    pause: float = 1.0,
    longest: float = 60.0,
    on_failure: Callable[[], None] | None = None,
) -> None:
    """Run ``factory()`` until it returns; when it fails, say so through ``note`` (the
    trace), call ``on_failure`` and run it again after ``pause`` seconds, doubling to
    ``longest`` (a loop that fails at once cannot spin)."""
    failures = 0
    while True:
        try:
            await factory()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            delay = min(pause * 2 ** (failures - 1), longest)
            log.exception("background task %s failed", name)
            note(f"background task {name} failed: {exc!r}; restarted in {delay:g} s")
            if on_failure is not None:
                on_failure()
            await asyncio.sleep(delay)
