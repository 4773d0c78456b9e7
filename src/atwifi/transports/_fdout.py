"""Buffered, non-blocking output to a file descriptor (pty controller, serial port)."""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable

from atwifi.transports.base import BACKLOG_LIMIT, HIGH_WATER, Backlog

# A device that takes no byte for this long is treated like a UART line nobody listens on:
# drain() stops waiting and the bounded backlog keeps the newest bytes.
STALL_SECONDS = 1.0
CHUNK = 64 * 1024


class FdOutput:
    """Writes to a non-blocking fd from the event loop, never blocking the module.

    A pty or serial port cannot tell whether a host is there; a device that stops taking bytes
    is the only sign. After STALL_SECONDS without progress the output counts as stalled: drain()
    returns at once and the backlog drops its oldest bytes, as a UART ring buffer would.
    """

    def __init__(self, fd: int, note: Callable[[str], None]) -> None:
        self.fd = fd
        self._note = note
        self._loop = asyncio.get_running_loop()
        self._buf = Backlog(BACKLOG_LIMIT)
        self._writing = False
        self._stall_timer: asyncio.TimerHandle | None = None
        self._progress = asyncio.Event()
        self.stalled = False
        self.closed = False
        self._failed = False
        self._dropping = False

    def __len__(self) -> int:
        return len(self._buf)

    def write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        if not self._buf:
            n = self._try_write(data)
            if n == len(data):
                return
            data = data[n:]
        if self._buf.append(data) and not self._dropping:
            self._dropping = True
            self._note(f"output backlog full ({BACKLOG_LIMIT} bytes): dropping the oldest bytes")
        self._start_writer()

    def _try_write(self, data: bytes) -> int:
        try:
            n = os.write(self.fd, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as e:
            # EIO: nobody at the other end of a pty, or a serial adapter unplugged. The module
            # keeps running; its output is lost as on a line with nothing attached.
            if not self._failed:
                self._failed = True
                self._note(
                    f"output write failed ({errno.errorcode.get(e.errno, e.errno)}): dropping"
                )
            return len(data)
        if n:
            self._made_progress()
        return n

    def _made_progress(self) -> None:
        if self._failed:
            self._failed = False
        if self.stalled:
            self.stalled = False
            self._note("host reads again")
        if self._dropping:
            self._dropping = False
            self._note(f"dropped {self._buf.take_dropped()} bytes: host not reading")
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        self._progress.set()

    def _start_writer(self) -> None:
        if not self._writing:
            self._writing = True
            self._loop.add_writer(self.fd, self._on_writable)
        if self._stall_timer is None and not self.stalled:
            self._stall_timer = self._loop.call_later(STALL_SECONDS, self._on_stall)

    def _stop_writer(self) -> None:
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self.fd)
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def _on_writable(self) -> None:
        n = self._try_write(self._buf.head(CHUNK))
        self._buf.consume(n)
        if not self._buf:
            self._stop_writer()
        elif n and self._stall_timer is None:
            self._stall_timer = self._loop.call_later(STALL_SECONDS, self._on_stall)

    def _on_stall(self) -> None:
        self._stall_timer = None
        if self._buf and not self.stalled:
            self.stalled = True
            self._note(f"host not reading: keeping the newest {BACKLOG_LIMIT} bytes of output")
            self._progress.set()

    def discard(self) -> int:
        """Drop what is queued (a purge)."""
        n = self._buf.clear()
        self._stop_writer()
        self._progress.set()
        return n

    async def drain(self) -> None:
        while len(self._buf) > HIGH_WATER and not self.stalled and not self.closed:
            self._progress.clear()
            await self._progress.wait()

    def close(self) -> None:
        self._stop_writer()
        self.closed = True
        self._progress.set()
