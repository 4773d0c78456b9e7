"""The console line's settings: console_speed and console_hwfc take effect at a boot.

SCFG changes the variables at once, but the UART is set up from the configuration loaded at
boot (so a new rate needs AT+S.WCFG and a reset, as on the module). The line (if the console
has one: ``device.line``, see transports/line.py) is told before +WIND:1 is printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device


class LinePart:
    attr = "line"  # the console line itself is set by whoever owns the transport (cli)

    def __init__(self, device: Device) -> None:
        self.device = device
        device.boot_hooks.append(self._booting)

    def _booting(self, reason: int) -> None:
        line = self.device.line
        if line is None:
            return
        line.rx_waiting = self._waiting
        cfg = self.device.config
        line.configure(int(cfg.get("console_speed")), cfg.get("console_hwfc") == 1)

    def _waiting(self) -> int:
        """The module's receive buffer fill: bytes no command is taking yet."""
        decoder = self.device.decoder
        return 0 if decoder is None else int(decoder.waiting)

    async def start(self) -> None:
        pass

    async def after_boot(self) -> None:
        pass

    async def stop(self) -> None:
        pass
