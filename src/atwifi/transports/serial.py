"""The console on a real serial port (a USB-UART adapter wired to a host board)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from atwifi.transports._fdout import FdOutput
from atwifi.transports.base import Transport

READ_SIZE = 65536


class SerialTransport(Transport):
    def __init__(self, device: str, baudrate: int = 115200) -> None:
        self.device = device
        self.baudrate = baudrate
        self._port: Any = None
        self._fd = -1
        self._out: FdOutput | None = None
        self._feed: Callable[[bytes], None] | None = None
        self._reading = False

    async def start(self, feed: Callable[[bytes], None]) -> None:
        import serial  # pyserial; lazy so other plugs boot without it

        self._feed = feed
        # Opening a tty can wait on the driver (modem lines, a slow USB adapter): not on the loop.
        self._port = await asyncio.to_thread(
            serial.Serial, self.device, self.baudrate, timeout=0, write_timeout=0
        )
        self._fd = self._port.fileno()
        os.set_blocking(self._fd, False)
        loop = asyncio.get_running_loop()
        loop.add_reader(self._fd, self._on_readable)
        self._reading = True
        self._out = FdOutput(self._fd, self.note)

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            data = b""
            self.note(f"serial port {self.device} failed: {e.strerror}")
        if not data:
            # The adapter was unplugged (or the other end of a pty pair went away). The module
            # keeps running, deaf; its output is dropped by FdOutput.
            self._stop_reading()
            self.note(f"serial port {self.device} gone: no more input")
            return
        if self._feed is not None:
            self._feed(data)

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            asyncio.get_running_loop().remove_reader(self._fd)

    def set_line(self, rate: int, hwfc: bool) -> None:
        """The module's console_speed / console_hwfc (at a boot): the real UART follows."""
        port = self._port
        if port is None:
            return
        if port.baudrate != rate or bool(port.rtscts) != hwfc:
            try:
                port.baudrate = rate
                port.rtscts = hwfc
            except (OSError, ValueError) as e:
                self.note(f"serial port {self.device}: cannot set {rate} baud: {e}")
                return
            self.baudrate = rate
            self.note(f"serial port {self.device}: {rate} baud, RTS/CTS {'on' if hwfc else 'off'}")

    def pause_input(self) -> None:
        self._stop_reading()

    def resume_input(self) -> None:
        if not self._reading and self._port is not None:
            asyncio.get_running_loop().add_reader(self._fd, self._on_readable)
            self._reading = True

    def write(self, data: bytes) -> None:
        if self._out is not None:
            self._out.write(data)

    async def drain(self) -> None:
        if self._out is not None:
            await self._out.drain()

    def describe(self) -> str:
        return f"console on serial port {self.device} at {self.baudrate} baud, 8N1"

    async def close(self) -> None:
        if self._port is None:
            return
        self._stop_reading()
        if self._out is not None:
            self._out.close()
        self._port.close()
        self._port = None
