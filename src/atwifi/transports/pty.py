"""The console on a pseudo-terminal: hosts open /dev/pts/N as if it were the module's UART."""

from __future__ import annotations

import asyncio
import contextlib
import os
import termios
import tty
from collections.abc import Callable
from pathlib import Path

from atwifi.transports._fdout import FdOutput
from atwifi.transports.base import Transport, miniterm

READ_SIZE = 65536


# termios speed constants -> baud, for the rates a host may set on the pty.
_SPEEDS = {
    getattr(termios, f"B{rate}"): rate
    for rate in (
        1200,
        2400,
        4800,
        9600,
        19200,
        38400,
        57600,
        115200,
        230400,
        460800,
        500000,
        576000,
        921600,
        1000000,
        1152000,
        1500000,
        2000000,
    )
    if hasattr(termios, f"B{rate}")
}
_CONSTANTS = {rate: const for const, rate in _SPEEDS.items()}
_IN_OPEN = 0x20  # inotify: the file was opened


class PtyTransport(Transport):
    def __init__(self, link: str | None = None, baudrate: int = 115200) -> None:
        self.link = Path(link) if link else None
        self.baudrate = baudrate
        self.path: str = ""
        self._controller = -1
        self._follower = -1
        self._out: FdOutput | None = None
        self._feed: Callable[[bytes], None] | None = None
        self._inotify = -1
        self._opened: asyncio.Future[None] | None = None

    async def start(self, feed: Callable[[bytes], None]) -> None:
        self._feed = feed
        self._controller, self._follower = os.openpty()
        self.path = os.ttyname(self._follower)
        # Raw on the follower: no CR/LF translation and no line-discipline echo, so hosts see
        # exactly the module's bytes. The settings live in the tty and persist because...
        tty.setraw(self._follower)
        # The speed a host finds before it sets its own: the module's rate at start. A pty
        # carries bytes at any speed; with --pace a host at another rate sees garbage.
        const = _CONSTANTS.get(self.baudrate)
        if const is not None:
            mode = termios.tcgetattr(self._follower)
            mode[4] = mode[5] = const
            termios.tcsetattr(self._follower, termios.TCSANOW, mode)
        # ...we keep the follower open for the life of the transport: when the last host closes
        # it, the controller sees no hangup (no EIO, no POLLHUP spinning) and the next opener
        # finds the same terminal, still raw.
        os.set_blocking(self._controller, False)
        loop = asyncio.get_running_loop()
        loop.add_reader(self._controller, self._on_readable)
        self._out = FdOutput(self._controller, self.note)
        self._watch_opens()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                if self.link.is_symlink():
                    self.link.unlink()
            self.link.symlink_to(self.path)

    def _on_readable(self) -> None:
        try:
            data = os.read(self._controller, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            # EIO would mean no follower is open; ours always is, so this is not expected.
            # Stay quiet and keep the module running.
            return
        if data and self._feed is not None:
            self._feed(data)

    def _watch_opens(self) -> None:
        """Watch the pty node for a host's open (inotify IN_OPEN), from before anyone is
        told where it is: an open can never be missed."""
        import ctypes  # lazy: only the pty console watches for its host

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        except (OSError, AttributeError):
            return
        if fd < 0:
            return
        if libc.inotify_add_watch(fd, os.fsencode(self.path), _IN_OPEN) < 0:
            os.close(fd)
            return
        loop = asyncio.get_running_loop()
        self._opened = loop.create_future()
        self._inotify = fd

        def readable() -> None:
            with contextlib.suppress(OSError):
                os.read(fd, 4096)
            self._stop_watching()
            if self._opened is not None and not self._opened.done():
                self._opened.set_result(None)

        loop.add_reader(fd, readable)

    def _stop_watching(self) -> None:
        if self._inotify >= 0:
            asyncio.get_running_loop().remove_reader(self._inotify)
            os.close(self._inotify)
            self._inotify = -1

    async def wait_opened(self) -> bool:
        """Return once a host has opened the pty (at any time since start). False if that
        cannot be watched here (no inotify): the caller should not wait then."""
        if self._opened is None:
            return False
        await asyncio.shield(self._opened)
        return True

    def host_rate(self, direction: str) -> int | None:
        """The rate the host set on its end of the pty (termios), or None if not a known one."""
        if self._follower < 0:
            return None
        try:
            mode = termios.tcgetattr(self._follower)
        except termios.error:
            return None
        ispeed, ospeed = mode[4], mode[5]
        speed = (ispeed or ospeed) if direction == "out" else (ospeed or ispeed)
        return _SPEEDS.get(speed)

    def pause_input(self) -> None:
        if self._controller >= 0:
            asyncio.get_running_loop().remove_reader(self._controller)

    def resume_input(self) -> None:
        if self._controller >= 0:
            asyncio.get_running_loop().add_reader(self._controller, self._on_readable)

    def write(self, data: bytes) -> None:
        if self._out is not None:
            self._out.write(data)

    async def drain(self) -> None:
        if self._out is not None:
            await self._out.drain()

    def describe(self) -> str:
        where = self.path + (f" (also {self.link})" if self.link else "")
        name = str(self.link) if self.link else self.path
        return (
            f"console on pseudo-terminal {where}\n"
            f"  connect: picocom -b 115200 {name}   (Enter sends CR; no --omap)\n"
            f"       or: {miniterm(name)}"
        )

    async def close(self) -> None:
        if self._controller < 0:
            return
        if self._out is not None:
            self._out.close()
        self._stop_watching()
        asyncio.get_running_loop().remove_reader(self._controller)
        if self.link is not None:
            with contextlib.suppress(OSError):
                if self.link.is_symlink() and os.readlink(self.link) == self.path:
                    self.link.unlink()
        os.close(self._controller)
        os.close(self._follower)
        self._controller = self._follower = -1
