"""One in-process module with both consoles wired as `atwifi serve --tcp ... --spi ...`
does: the UART on raw TCP, the SPI bus on a Unix socket, through the console switch."""

from __future__ import annotations

import asyncio
from pathlib import Path

from atwifi.cli import _wire_consoles
from atwifi.spwf04.device import Device, Options
from atwifi.transports.spi import SpiBusTransport
from atwifi.transports.tcp import TcpTransport

TIMEOUT = 20.0


class TwoConsoles:
    def __init__(self, folder: Path, **options: object) -> None:
        self.folder = folder
        self.options = Options(state_dir=folder / "state", **options)  # type: ignore[arg-type]
        self.device = Device(self.options)
        self.uart = TcpTransport("127.0.0.1", 0)
        self.bus = SpiBusTransport(str(folder / "bus.sock"))
        self.switch = _wire_consoles(self.device, self.uart, self.bus, self.bus)

    def save_console(self, value: int) -> None:
        """console_enabled in flash, as SCFG + WCFG would leave it (before a boot)."""
        self.device.config.set_value("console_enabled", value)
        self.device.config.save()

    async def start(self) -> None:
        await self.uart.start(self.switch.feeder("uart", self.device.feed))
        await self.bus.start(self.switch.feeder("spi", self.device.feed))
        await self.device.power_on()
        await self.settled()

    async def settled(self) -> None:
        await asyncio.wait_for(self.device.booted.wait(), TIMEOUT)
        radio = self.device.radio
        if radio is not None:
            await asyncio.wait_for(radio.wait_settled(), TIMEOUT)

    @property
    def uart_url(self) -> str:
        return f"socket://127.0.0.1:{self.uart.port}"

    @property
    def spi_url(self) -> str:
        return self.bus.url()

    def url(self, console: str) -> str:
        return self.spi_url if console == "spi" else self.uart_url

    async def stop(self) -> None:
        await self.device.shutdown()
        await self.uart.close()
        await self.bus.close()
