"""Shared helpers for socket service tests: an event recorder and real loopback peers."""

from __future__ import annotations

import asyncio
from typing import Any

from peers import echo_server  # noqa: F401 - re-exported to the service tests


class Recorder:
    """Records what the sockets service reports; tests await the event they expect."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self._changed = asyncio.Event()

    def _add(self, *ev: Any) -> None:
        self.events.append(ev)
        self._changed.set()

    def pending(self, sid, cid, received, unread):
        self._add("pending", sid, cid, received, unread)

    def closed(self, cid, reason):
        self._add("closed", cid, reason)

    def incoming(self, ip, port, sid, cid):
        self._add("incoming", ip, port, sid, cid)

    def gone(self, ip, port, sid, cid, reason):
        self._add("gone", ip, port, sid, cid, reason)

    def dropping(self, sid, cid, dropped):
        self._add("dropping", sid, cid, dropped)

    def refused(self, reason):
        self._add("refused", reason)

    def broadcast(self, sid, ip, port, data):
        self._add("broadcast", sid, ip, port, data)

    def note(self, text):
        self._add("note", text)

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [e for e in self.events if e[0] == kind]

    async def wait(self, kind: str, count: int = 1, timeout: float = 5.0) -> tuple[Any, ...]:
        async with asyncio.timeout(timeout):
            while len(self.of(kind)) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.of(kind)[count - 1]
