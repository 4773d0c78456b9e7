"""The console on a pseudo-terminal: hosts open /dev/pts/N as if it were the module's UART."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import Callable
from pathlib import Path

from atwifi.transports._fdout import FdOutput
from atwifi.transports.base import Transport, miniterm

READ_SIZE = 65536


class PtyTransport(Transport):
    def __init__(self, link: str | None = None) -> None:
        self.link = Path(link) if link else None
        self.path: str = ""
        self._controller = -1
        self._follower = -1
        self._out: FdOutput | None = None
        self._feed: Callable[[bytes], None] | None = None

    async def start(self, feed: Callable[[bytes], None]) -> None:
        self._feed = feed
        self._controller, self._follower = os.openpty()
        self.path = os.ttyname(self._follower)
        # Raw on the follower: no CR/LF translation and no line-discipline echo, so hosts see
        # exactly the module's bytes. The settings live in the tty and persist because...
        tty.setraw(self._follower)
        # ...we keep the follower open for the life of the transport: when the last host closes
        # it, the controller sees no hangup (no EIO, no POLLHUP spinning) and the next opener
        # finds the same terminal, still raw.
        os.set_blocking(self._controller, False)
        loop = asyncio.get_running_loop()
        loop.add_reader(self._controller, self._on_readable)
        self._out = FdOutput(self._controller, self.note)
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
        asyncio.get_running_loop().remove_reader(self._controller)
        if self.link is not None:
            with contextlib.suppress(OSError):
                if self.link.is_symlink() and os.readlink(self.link) == self.path:
                    self.link.unlink()
        os.close(self._controller)
        os.close(self._follower)
        self._controller = self._follower = -1
