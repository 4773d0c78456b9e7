"""A transport wrapper that puts the console faults (services/faults/console.py) on the line.

Wraps the (traced) transport: the trace records what really crossed the line, fragments as
separate chunks, corrupted bytes as they arrived; each fault is also named in a note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atwifi.transports.base import HIGH_WATER, Transport

if TYPE_CHECKING:
    from atwifi.services.faults.console import ConsoleFaults


class FaultyTransport(Transport):
    def __init__(self, inner: Transport, faults: ConsoleFaults) -> None:
        self.inner = inner
        self.faults = faults
        self._write = faults.wrap_write(inner.write)

    async def start(self, feed: Callable[[bytes], None]) -> None:
        await self.inner.start(self.faults.wrap_feed(feed))

    def write(self, data: bytes) -> None:
        self._write(data)

    async def drain(self) -> None:
        await self.faults.drained(HIGH_WATER)
        await self.inner.drain()

    def endpoints(self) -> list[tuple[str, int]]:
        return self.inner.endpoints()

    def describe(self) -> str:
        return self.inner.describe()

    async def close(self) -> None:
        self.faults.close()
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
