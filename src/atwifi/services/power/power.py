"""Power states of a Wi-Fi module with an STM32 host MCU (SPWF04Sx manual 6.6, Table 4).

The service keeps the state, its history over (event loop) time and the time spent asleep; it
decides which requests the settings allow and when the module wakes. It does not know the
console: the dialect's part turns its events into indications, drops console input while
``console_awake`` is False, and performs the reset that ends a standby.

    ACTIVE          MCU runs, radio active
    POWERSAVE       MCU runs, radio in PS (1) or fast PS (2)
    SLEEP           MCU stopped (RAM kept), radio in PS: wakes on the wake-up pin or an edge
    STANDBY         MCU off (RAM lost), radio off: wakes on the wake-up pin or its timer,
                    through a reset
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import Enum
from typing import Any, NamedTuple

from atwifi.services.errors import ServiceError

HISTORY = 256


class PowerState(Enum):
    ACTIVE = "active"
    POWERSAVE = "powersave"
    FAST_POWERSAVE = "fast_powersave"
    SLEEP = "sleep"
    STANDBY = "standby"


ASLEEP = frozenset({PowerState.SLEEP, PowerState.STANDBY})


class PowerFault(Enum):
    NOT_ENABLED = "not_enabled"  # the settings do not allow the requested state


class PowerEv(Enum):
    LOW_POWER = "low_power"  # (1 standard | 2 fast,) radio powersave entered
    ACTIVE = "active"  # (from_state,) back to active by request
    SLEEPING = "sleeping"  # MCU stopped
    STANDBY = "standby"  # (seconds,) MCU off for that long (0: until the wake-up pin)
    WAKEUP = "wakeup"  # (reason,) the MCU woke ("pin", "edge", "timer")
    RESUMED_SLEEP = "resumed_sleep"
    RESUME_STANDBY = "resume_standby"  # (reason,) the part must reset the module now
    STATE = "state"  # (PowerState, reason) every change, for the trace


class PowerEvent(NamedTuple):
    kind: PowerEv
    args: tuple[object, ...] = ()


class PowerSettings(NamedTuple):
    """What the configuration says, read when a state is requested."""

    sleep_enabled: bool
    standby_enabled: bool
    powersave: int  # 0 active, 1 PS, 2 fast PS
    standby_time: int  # seconds; 0: until the wake-up pin


MODES = {0: "active", 1: "powersave", 2: "sleep", 3: "standby"}


class Power:
    def __init__(
        self,
        *,
        wakeup_pin: int,
        on_event: Callable[[PowerEvent], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.wakeup_pin = wakeup_pin
        self._on_event = on_event or (lambda ev: None)
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self.state = PowerState.ACTIVE
        self.since = self._now()
        self._slept = 0.0  # seconds asleep before the current sleep
        self.history: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._changed: asyncio.Event | None = None
        # Edges that wake a sleeping MCU besides the wake-up pin: (pin, level) -> bool.
        self.edge_wakes: Callable[[int, int], bool] = lambda pin, level: False
        self._record(self.state, "power-on")

    def _now(self) -> float:
        try:
            return self._clock()
        except RuntimeError:
            return 0.0

    # -- requests ---------------------------------------------------------------------------
    def request(self, mode: int, settings: PowerSettings) -> None:
        """AT+S.PMS: 0 active, 1 powersave, 2 sleep (stop), 3 standby."""
        if mode == 0:
            previous = self.state
            if previous is not PowerState.ACTIVE:
                self._set(PowerState.ACTIVE, "requested")
                self._on_event(PowerEvent(PowerEv.ACTIVE, (previous,)))
            return
        if mode == 1:
            if settings.sleep_enabled or settings.standby_enabled:
                raise ServiceError(
                    PowerFault.NOT_ENABLED, "powersave needs sleep_enabled=0, standby_enabled=0"
                )
            if settings.powersave not in (1, 2):
                raise ServiceError(PowerFault.NOT_ENABLED, "powersave needs wifi_powersave 1 or 2")
            fast = settings.powersave == 2
            self._set(PowerState.FAST_POWERSAVE if fast else PowerState.POWERSAVE, "requested")
            self._on_event(PowerEvent(PowerEv.LOW_POWER, (settings.powersave,)))
            return
        if mode == 2:
            if not settings.sleep_enabled or settings.standby_enabled:
                raise ServiceError(
                    PowerFault.NOT_ENABLED, "sleep needs sleep_enabled=1, standby_enabled=0"
                )
            self._set(PowerState.SLEEP, "requested")
            self._on_event(PowerEvent(PowerEv.SLEEPING))
            return
        if mode == 3:
            if not settings.standby_enabled or settings.sleep_enabled:
                raise ServiceError(
                    PowerFault.NOT_ENABLED, "standby needs standby_enabled=1, sleep_enabled=0"
                )
            seconds = max(0, int(settings.standby_time))
            self._set(PowerState.STANDBY, f"requested for {seconds} s" if seconds else "requested")
            self._on_event(PowerEvent(PowerEv.STANDBY, (seconds,)))
            if seconds:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(seconds, self._standby_over, "timer")
            return
        raise ValueError(f"power mode {mode}: 0..3")

    # -- waking -------------------------------------------------------------------------------
    def edge(self, pin: int, level: int) -> None:
        """A level change on a pin (from outside)."""
        if self.state is PowerState.SLEEP:
            if (pin == self.wakeup_pin and level) or self.edge_wakes(pin, level):
                self._wake_from_sleep("pin" if pin == self.wakeup_pin else "edge")
        elif self.state is PowerState.STANDBY and pin == self.wakeup_pin and level:
            self._standby_over("pin")

    def _wake_from_sleep(self, reason: str) -> None:
        self._set(PowerState.ACTIVE, f"woken by {reason}")
        self._on_event(PowerEvent(PowerEv.WAKEUP, (reason,)))
        self._on_event(PowerEvent(PowerEv.RESUMED_SLEEP))

    def _standby_over(self, reason: str) -> None:
        if self.state is not PowerState.STANDBY:
            return
        self._cancel_timer()
        self._set(PowerState.ACTIVE, f"woken by {reason}")
        self._on_event(PowerEvent(PowerEv.RESUME_STANDBY, (reason,)))

    def reset(self) -> None:
        """The module was reset (AT+S.RESET, power cycle): active again."""
        self._cancel_timer()
        if self.state is not PowerState.ACTIVE:
            self._set(PowerState.ACTIVE, "reset")

    def close(self) -> None:
        self._cancel_timer()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- observation -------------------------------------------------------------------------
    @property
    def console_awake(self) -> bool:
        return self.state not in ASLEEP

    def sleeptime(self) -> float:
        """Seconds spent asleep (sleep and standby) since power-on."""
        extra = self._now() - self.since if self.state in ASLEEP else 0.0
        return self._slept + extra

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "since": round(self.since, 6),
            "console_awake": self.console_awake,
            "sleeptime": round(self.sleeptime(), 6),
            "history": list(self.history),
        }

    async def wait_state(self, state: PowerState) -> None:
        while self.state is not state:
            if self._changed is None:
                self._changed = asyncio.Event()
            self._changed.clear()
            await self._changed.wait()

    def _set(self, state: PowerState, reason: str) -> None:
        now = self._now()
        if self.state in ASLEEP:
            self._slept += now - self.since
        self.state = state
        self.since = now
        self._record(state, reason)
        self._on_event(PowerEvent(PowerEv.STATE, (state, reason)))
        if self._changed is not None:
            self._changed.set()

    def _record(self, state: PowerState, reason: str) -> None:
        self.history.append({"t": round(self.since, 6), "state": state.value, "reason": reason})
        del self.history[:-HISTORY]
