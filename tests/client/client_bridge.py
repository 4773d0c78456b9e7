"""The in-process virtual module behind a TCP port on 127.0.0.1 or a pty, for fast end-to-end
client tests in one process (a client connected before power-on sees every boot line): the
device, its codec and its handlers are the real ones; only the byte plumbing is this small
bridge. test_client_served.py goes through a real `atwifi serve` process instead."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from pathlib import Path

from atwifi.spwf04.device import Device, Options


class Bridge:
    def __init__(self, state_dir: Path) -> None:
        self.device = Device(Options(state_dir=state_dir))
        self.device.attach(self.write)

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    async def power_on(self) -> None:
        await self.device.power_on()

    async def close(self) -> None:
        await self.device.shutdown()


class TcpBridge(Bridge):
    """One console connection at a time; bytes written while nobody is connected are lost,
    as on a serial line with nothing plugged in."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir)
        self.writer: asyncio.StreamWriter | None = None
        self.server: asyncio.Server | None = None
        self.connected = asyncio.Event()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"socket://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.connected.set()
        try:
            while data := await reader.read(65536):
                self.device.feed(data)
        except ConnectionError:
            pass
        finally:
            if self.writer is writer:
                self.writer = None
            writer.close()

    def write(self, data: bytes) -> None:
        if self.writer is not None:
            self.writer.write(data)

    async def drop(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def close(self) -> None:
        await self.drop()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        await super().close()


class PtyBridge(Bridge):
    """The device on the master side of a pty; a client opens ``path`` like a serial port."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        os.set_blocking(self.master, False)
        self._out = bytearray()
        self._writing = False
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:  # BlockingIOError included
            return
        self.device.feed(data)

    def write(self, data: bytes) -> None:
        # Never block the loop: the client may be reading the pty on this very loop.
        if self.master < 0:
            return
        self._out += data
        self._flush()

    def _flush(self) -> None:
        try:
            n = os.write(self.master, self._out) if self._out else 0
        except BlockingIOError:
            n = 0
        except OSError:
            self._out.clear()
            n = 0
        del self._out[:n]
        if self._out and not self._writing:
            self._loop.add_writer(self.master, self._flush)
            self._writing = True
        elif not self._out and self._writing:
            self._loop.remove_writer(self.master)
            self._writing = False

    async def drop(self) -> None:
        """The module goes away: close the master side (the slave then reads EIO)."""
        if self.master >= 0:
            self._loop.remove_reader(self.master)
            self._loop.remove_writer(self.master)
            os.close(self.master)
            self.master = -1

    async def close(self) -> None:
        await self.drop()
        with contextlib.suppress(OSError):
            os.close(self.slave)
        await super().close()
