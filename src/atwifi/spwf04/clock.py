"""The module's real-time clock: UTC seconds that start at 0 (1970) at power-on.

TLS checks certificate dates against this clock, not the host's: a module whose time was
never set by AT+S.TIME or NTP lives in 1970, as a real one does.
"""

from __future__ import annotations

import time


class ModuleClock:
    def __init__(self) -> None:
        self.power_on()

    def power_on(self) -> None:
        self._base = 0.0
        self._mono = time.monotonic()
        self.is_set = False
        self.booted = self._mono

    def now(self) -> float:
        return self._base + (time.monotonic() - self._mono)

    def set(self, seconds: float) -> None:
        self._base = float(seconds)
        self._mono = time.monotonic()
        self.is_set = True

    def uptime(self) -> float:
        return time.monotonic() - self.booted

    def reboot(self) -> None:
        """A soft reset keeps the RTC running but restarts the uptime."""
        self.booted = time.monotonic()
