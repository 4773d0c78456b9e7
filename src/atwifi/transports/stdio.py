"""The console on this terminal, for trying commands by hand."""

from __future__ import annotations

import asyncio
import os
import termios
import threading
from collections import deque
from collections.abc import Callable

from atwifi.transports.base import HIGH_WATER, Transport

READ_SIZE = 4096


class StdioTransport(Transport):
    """stdin -> module, module -> stdout.

    On a terminal the line discipline is turned off for input (no echo, no line editing, no CR to
    LF), so Enter sends CR as a host MCU would and the user sees what they type only through the
    module's own echo (console_echo). Ctrl-C still interrupts `atwifi serve`. Output processing
    is left alone so log lines on stderr keep their layout (the terminal shows the module's CR LF
    the same either way). The terminal settings are restored on close.

    Output goes through a small writer thread: stdout usually shares its open file with stderr,
    so making it non-blocking would make the process's other prints fail on a busy terminal.
    """

    def __init__(self, stdin_fd: int = 0, stdout_fd: int = 1) -> None:
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        self._saved: list | None = None
        self._feed: Callable[[bytes], None] | None = None
        self._reading = False
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._progress = asyncio.Event()

    async def start(self, feed: Callable[[bytes], None]) -> None:
        self._feed = feed
        self._loop = asyncio.get_running_loop()
        if os.isatty(self.stdin_fd):
            self._saved = termios.tcgetattr(self.stdin_fd)
            mode = termios.tcgetattr(self.stdin_fd)
            mode[0] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR | termios.IXON)
            mode[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN)
            mode[6][termios.VMIN] = 1
            mode[6][termios.VTIME] = 0
            termios.tcsetattr(self.stdin_fd, termios.TCSANOW, mode)
        self._loop.add_reader(self.stdin_fd, self._on_readable)
        self._reading = True
        self._thread = threading.Thread(target=self._writer, name="atwifi-stdout", daemon=True)
        self._thread.start()

    def _on_readable(self) -> None:
        try:
            data = os.read(self.stdin_fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._stop_reading()
            self.note("stdin closed: no more input")
            return
        if self._feed is not None:
            self._feed(data)

    def _stop_reading(self) -> None:
        if self._reading and self._loop is not None:
            self._reading = False
            self._loop.remove_reader(self.stdin_fd)

    def write(self, data: bytes) -> None:
        if not data or self._closing:
            return
        with self._lock:
            self._queue.append(bytes(data))
            self._queued += len(data)
            self._wake.notify()

    def _writer(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue:
                    return
                chunk = self._queue.popleft()
            try:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(self.stdout_fd, view) :]
            except OSError:
                pass  # stdout gone (closed pipe): output is lost, the module keeps running
            with self._lock:
                self._queued -= len(chunk)
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._progress.set)

    async def drain(self) -> None:
        while self._queued > HIGH_WATER and not self._closing:
            self._progress.clear()
            await self._progress.wait()

    def describe(self) -> str:
        return "console on this terminal (type AT commands; Enter sends CR; Ctrl-C quits)"

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._stop_reading()
        with self._lock:
            self._wake.notify()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        if self._saved is not None:
            termios.tcsetattr(self.stdin_fd, termios.TCSADRAIN, self._saved)
            self._saved = None
