"""A tiny module stand-in for transport tests: what the host sends comes back uppercased."""

from __future__ import annotations

import asyncio
import os
import select
import time

from atwifi.transports.base import Transport

SAFETY = 10.0  # seconds; only a safety net so a broken test fails instead of hanging


class Echo:
    """Collects host->module bytes and answers each chunk with its uppercase version."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.got = bytearray()
        self._changed = asyncio.Event()

    def feed(self, data: bytes) -> None:
        self.got += data
        self.transport.write(data.upper())
        self._changed.set()

    async def wait_for(self, n: int) -> bytes:
        async with asyncio.timeout(SAFETY):
            while len(self.got) < n:
                self._changed.clear()
                await self._changed.wait()
        return bytes(self.got)


def read_fd_exactly(fd: int, n: int, timeout: float = SAFETY) -> bytes:
    """Blocking read of exactly n bytes from fd (call it in a thread)."""
    out = bytearray()
    end = time.monotonic() + timeout
    while len(out) < n:
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"got {len(out)} of {n} bytes: {bytes(out)!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, n - len(out))
            if not chunk:
                raise EOFError(f"EOF after {len(out)} of {n} bytes")
            out += chunk
    return bytes(out)


def read_serial_exactly(port, n: int) -> bytes:  # noqa: ANN001 - a pyserial port
    """Blocking read of exactly n bytes from a pyserial port opened with a timeout."""
    out = bytearray()
    end = time.monotonic() + SAFETY
    while len(out) < n and time.monotonic() < end:
        out += port.read(n - len(out))
    if len(out) < n:
        raise TimeoutError(f"got {len(out)} of {n} bytes: {bytes(out)!r}")
    return bytes(out)


class Notes:
    """Collects a transport's notes so tests can await events instead of sleeping."""

    def __init__(self, transport: Transport) -> None:
        self.items: list[str] = []
        self._changed = asyncio.Event()
        transport.on_note = self.add

    def add(self, text: str) -> None:
        self.items.append(text)
        self._changed.set()

    async def wait_for(self, fragment: str, count: int = 1) -> str:
        try:
            async with asyncio.timeout(SAFETY):
                while True:
                    hits = [n for n in self.items if fragment in n]
                    if len(hits) >= count:
                        return hits[count - 1]
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"no note {fragment!r} (x{count}) in {self.items}") from None
