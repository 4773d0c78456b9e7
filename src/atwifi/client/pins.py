"""Pin and power helpers of the client: GPIOs, ADC, DAC, PWM, power modes.

Built only on ``self.command(line)`` (see client/aio.py), so they
work against a real module as well as the virtual one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

POWER_MODES = {"active": 0, "powersave": 1, "sleep": 2, "standby": 3}


def _values(reply: Any) -> list[str]:
    """The fields of the reply's ``AT-S.Value:`` line."""
    for text in reply.values("AT-S.Value:"):
        return str(text).split(":")
    raise ValueError(f"no AT-S.Value line in {reply!r}")


class PinsMixin:
    if TYPE_CHECKING:  # provided by the client core (client/aio.py); never defined here

        async def command(self, line: str, data: bytes | None = None, **kw: Any) -> Any: ...

    async def gpio_config(self, pin: int, direction: str, edge: str | None = None) -> None:
        """``AT+S.GPIOC``: ``direction`` "in" or "out"; ``edge`` "R", "F", "B" (inputs)."""
        line = f"AT+S.GPIOC={pin},{direction}"
        if edge:
            line += f",{edge}"
        await self.command(line)

    async def gpio_read(self, pin: int) -> tuple[int, str]:
        """``AT+S.GPIOR``: (level, "in" or "out")."""
        fields = _values(await self.command(f"AT+S.GPIOR={pin}"))
        return int(fields[1]), "in" if fields[2] == "1" else "out"

    async def gpio_write(self, pin: int, level: int) -> None:
        await self.command(f"AT+S.GPIOW={pin},{1 if level else 0}")

    async def adc(self, pin: int) -> int:
        """``AT+S.ADC``: millivolts on GPIO 0, 1 or 16."""
        return int(_values(await self.command(f"AT+S.ADC={pin}"))[0])

    async def dac(self, millivolts: int) -> None:
        """``AT+S.DAC`` on GPIO15 (0 turns it off)."""
        await self.command(f"AT+S.DAC={millivolts}")

    async def pwm(self, pin: int, hz: int, duty: int | None = None) -> None:
        """``AT+S.PWM`` on GPIO 2 or 4 (hz 0 stops it)."""
        await self.command(f"AT+S.PWM={pin},{hz}" + (f",{duty}" if duty is not None else ""))

    async def power_mode(self, mode: int | str) -> None:
        """``AT+S.PMS``: 0/"active", 1/"powersave", 2/"sleep", 3/"standby". The variables of
        the manual's Table 4 must be set first (sleep_enabled, standby_enabled...)."""
        number = POWER_MODES[mode] if isinstance(mode, str) else int(mode)
        await self.command(f"AT+S.PMS={number}")
