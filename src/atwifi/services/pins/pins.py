"""GPIOs, ADC, DAC and PWM of a module, and the world outside it that drives and reads them.

Two sides, as on a board:

* the module side (what its firmware commands): a pin's direction, interrupt edge, the level
  it drives, the DAC and PWM settings. All of it is RAM state: ``reset()`` forgets it.
* the outside side (what a test rig does): the level driven onto a pin, the voltage on an ADC
  input, straps held while the module boots. It outlives resets, as a wire does.

Edges on inputs with an interrupt are reported as ``PinEv.INTERRUPT`` events; every change is
a ``PinEv.CHANGE`` event (for the trace) and a line in ``history``. No dialect text here: the
faults are ``PinFault`` kinds, worded by the dialect.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from atwifi.services.errors import ServiceError
from atwifi.services.pins.board import SPWF04_BOARD, Board

HISTORY = 512  # changes kept for observers (pins.history)
EDGES = {"R": "rising", "F": "falling", "B": "both"}


class PinFault(Enum):
    BAD_NUMBER = "bad_number"  # not a GPIO of the board
    BAD_DIRECTION = "bad_direction"  # neither in nor out
    WAKEUP_RESERVED = "wakeup_reserved"  # the wake-up pin, while sleep is enabled
    WPS_RESERVED = "wps_reserved"  # an interrupt on the WPS button's pin
    LED_RESERVED = "led_reserved"  # the LED pin, while the module drives the LED
    IRQ_ALREADY_SET = "irq_already_set"  # an interrupt on a pin that has one
    NOT_OUTPUT = "not_output"  # GPIOW on a pin that is not an output
    NOT_ADC = "not_adc"  # no converter on that pin
    ADC_BUSY = "adc_busy"  # the pin is driven by the module (output, PWM, DAC)
    VOLTAGE = "voltage"  # DAC value out of range
    NOT_PWM = "not_pwm"  # no PWM on that pin
    FREQUENCY = "frequency"  # PWM frequency out of range
    DUTY = "duty"  # PWM duty cycle out of range
    PWM_NOT_RUNNING = "pwm_not_running"  # stopping a PWM that is not running


class PinEv(Enum):
    INTERRUPT = "interrupt"  # (pin, level) a configured edge
    CHANGE = "change"  # (text,) something changed, for the trace


# Plain slotted classes, not dataclasses: building a dataclass costs a millisecond of boot.
class PinEvent:
    __slots__ = ("kind", "args")

    def __init__(self, kind: PinEv, args: tuple[object, ...] = ()) -> None:
        self.kind = kind
        self.args = args

    def __repr__(self) -> str:
        return f"PinEvent({self.kind.name}, {self.args!r})"


class Change:
    """One change on the pins: when (event loop time), which pin, what, the new value."""

    __slots__ = ("t", "pin", "what", "value")

    def __init__(self, t: float, pin: int | None, what: str, value: Any) -> None:
        self.t = t
        self.pin = pin
        self.what = what  # "output", "input", "config", "dac", "pwm", "voltage", "strap"
        self.value = value

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 6), "pin": self.pin, "what": self.what, "value": self.value}


class _Pin:
    __slots__ = ("direction", "configured", "edge", "out_level")

    def __init__(self) -> None:
        self.direction = "in"  # "in" or "out"
        self.configured = False
        self.edge: str | None = None  # "R", "F", "B"
        self.out_level = 0


class _Outside:
    """What the world does to the pins (survives resets)."""

    __slots__ = ("levels", "volts", "straps")

    def __init__(self) -> None:
        self.levels: dict[int, int] = {}  # driven levels; absent: pulled low
        self.volts: dict[int, int] = {}  # mV on ADC inputs
        self.straps: dict[int, int] = {}  # held during the next boot only


def _now() -> float:
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


class Pins:
    def __init__(
        self,
        board: Board = SPWF04_BOARD,
        *,
        led_enabled: Callable[[], bool] = lambda: False,
        wakeup_reserved: Callable[[], bool] = lambda: False,
        on_event: Callable[[PinEvent], None] | None = None,
    ) -> None:
        self.board = board
        self._led_enabled = led_enabled
        self._wakeup_reserved = wakeup_reserved
        self._on_event = on_event or (lambda ev: None)
        self._pins: dict[int, _Pin] = {}
        self._dac_mv = 0
        self._pwm: dict[int, tuple[int, int]] = {}  # pin -> (Hz, duty %)
        self.outside = _Outside()
        self.history: deque[Change] = deque(maxlen=HISTORY)
        # Called on every level change on a pin from outside, before any interrupt is
        # reported: (pin, level). The power service wakes the module from here.
        self.edge_listeners: list[Callable[[int, int], None]] = []
        self.awake = True  # the module's clocks run (the LED blinks); set by power
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event() if _has_loop() else None

    # -- the module side ------------------------------------------------------------------
    def _gpio(self, num: int) -> _Pin:
        if num not in self.board.gpios:
            raise ServiceError(PinFault.BAD_NUMBER, f"GPIO{num} is not a GPIO")
        return self._pins.setdefault(num, _Pin())

    def _check_reserved(self, num: int) -> None:
        if num == self.board.wakeup and self._wakeup_reserved():
            raise ServiceError(PinFault.WAKEUP_RESERVED, f"GPIO{num} wakes the module up")
        if num == self.board.led and self._led_enabled():
            raise ServiceError(PinFault.LED_RESERVED, f"GPIO{num} drives the LED (blink_led)")

    def configure(self, num: int, direction: str, edge: str | None = None) -> None:
        """GPIOC: ``direction`` "in" or "out" (any case); ``edge`` R, F, B or None (inputs)."""
        if num not in self.board.gpios:
            raise ServiceError(PinFault.BAD_NUMBER, f"GPIO{num} is not a GPIO")
        d = direction.strip().lower()
        if d not in ("in", "out"):
            raise ServiceError(PinFault.BAD_DIRECTION, f"direction {direction!r}")
        self._check_reserved(num)
        pin = self._gpio(num)
        if d == "out":
            edge = None
        elif edge is not None:
            edge = edge.upper()
            if num == self.board.wps:
                raise ServiceError(PinFault.WPS_RESERVED, f"GPIO{num} interrupt is the WPS key")
            if pin.edge is not None:
                raise ServiceError(
                    PinFault.IRQ_ALREADY_SET,
                    f"GPIO{num} already interrupts on {EDGES[pin.edge]} edges",
                )
        self._stop_function(num)
        pin.direction, pin.configured, pin.edge = d, True, edge
        if d == "in":
            pin.out_level = 0
        self._changed_to(num, "config", {"direction": d, "edge": edge})

    def read(self, num: int) -> tuple[int, int]:
        """GPIOR: (level, 1 for an input / 0 for an output)."""
        pin = self._gpio(num)
        return self.level(num), 1 if pin.direction == "in" else 0

    def write(self, num: int, level: int) -> None:
        """GPIOW on an output."""
        pin = self._gpio(num)
        self._check_reserved(num)
        if pin.direction != "out":
            raise ServiceError(PinFault.NOT_OUTPUT, f"GPIO{num} is an input")
        if pin.out_level != level:
            pin.out_level = level
            self._changed_to(num, "output", level)

    def adc(self, num: int) -> int:
        """The voltage on an ADC input, mV."""
        if num not in self.board.adc:
            raise ServiceError(PinFault.NOT_ADC, f"no ADC on GPIO{num}")
        pin = self._pins.get(num)
        if (pin is not None and pin.direction == "out") or num in self._pwm:
            raise ServiceError(PinFault.ADC_BUSY, f"GPIO{num} is driven by the module")
        return self._volts(num)

    def dac(self, mv: int) -> None:
        if not 0 <= mv <= self.board.dac_max_mv:
            raise ServiceError(PinFault.VOLTAGE, f"{mv} mV")
        if mv != self._dac_mv:
            self._dac_mv = mv
            self._changed_to(self.board.dac, "dac", mv)

    def pwm(self, num: int, hz: int, duty: int = 50) -> None:
        if num not in self.board.pwm:
            raise ServiceError(PinFault.NOT_PWM, f"no PWM on GPIO{num}")
        if not 0 <= hz <= self.board.pwm_max_hz:
            raise ServiceError(PinFault.FREQUENCY, f"{hz} Hz")
        if not 0 <= duty <= 100:
            raise ServiceError(PinFault.DUTY, f"duty {duty}%")
        if hz == 0:
            if num not in self._pwm:
                raise ServiceError(PinFault.PWM_NOT_RUNNING, f"GPIO{num}")
            del self._pwm[num]
            self._changed_to(num, "pwm", None)
            return
        self._pwm[num] = (hz, duty)
        self._changed_to(num, "pwm", {"hz": hz, "duty": duty})

    def _stop_function(self, num: int) -> None:
        """A pin configured as a GPIO stops being a PWM or DAC output."""
        if num in self._pwm:
            del self._pwm[num]
            self._changed_to(num, "pwm", None)
        if num == self.board.dac and self._dac_mv:
            self._dac_mv = 0
            self._changed_to(num, "dac", 0)

    def interrupt_mask(self) -> int:
        """Interrupt-enabled GPIOs, one bit each (gpio_enable)."""
        mask = 0
        for num, pin in self._pins.items():
            if pin.edge is not None:
                mask |= 1 << num
        return mask

    def reset(self) -> None:
        """The module reset: every pin an unconfigured input again, DAC and PWM off."""
        outputs = [n for n, p in self._pins.items() if p.direction == "out" and p.out_level]
        self._pins.clear()
        for num in outputs:
            self._changed_to(num, "output", None)
        for num in list(self._pwm):
            del self._pwm[num]
            self._changed_to(num, "pwm", None)
        if self._dac_mv:
            self._dac_mv = 0
            self._changed_to(self.board.dac, "dac", 0)

    # -- levels -----------------------------------------------------------------------------
    def level(self, num: int) -> int:
        """The level on a pin: what the module drives on an output, else what the world does."""
        pin = self._pins.get(num)
        if pin is not None and pin.direction == "out":
            return pin.out_level
        if num in self.outside.straps:
            return self.outside.straps[num]
        return self.outside.levels.get(num, 0)

    def _volts(self, num: int) -> int:
        if num in self.outside.volts:
            return self.outside.volts[num]
        return self.board.adc_max_mv if self.level(num) else 0

    # -- the outside side (stimuli) ---------------------------------------------------------
    def drive(self, num: int, level: int) -> None:
        """Drive ``level`` (0/1) onto a pin from outside; a configured edge interrupts."""
        self._known(num)
        level = 1 if level else 0
        before = self.level(num)
        self.outside.levels[num] = level
        after = self.level(num)
        self._changed_to(num, "input", level)
        if before != after:
            self._edge(num, after)

    def set_voltage(self, num: int, mv: int) -> None:
        """Put ``mv`` millivolts on a pin (what the ADC reads)."""
        self._known(num)
        if not 0 <= mv <= self.board.adc_max_mv:
            raise ValueError(f"voltage {mv} mV: 0..{self.board.adc_max_mv}")
        self.outside.volts[num] = mv
        self._changed_to(num, "voltage", mv)

    def strap(self, num: int, level: int | None) -> None:
        """Hold a level on a pin during the next boot only (None: no strap)."""
        self._known(num)
        if level is None:
            self.outside.straps.pop(num, None)
        else:
            self.outside.straps[num] = 1 if level else 0
        self._changed_to(num, "strap", level)

    def sample_straps(self) -> dict[int, int]:
        """At boot: the levels of the strap pins; held straps are released after."""
        board = self.board
        out = {n: self.level(n) for n in (board.factory_strap, board.script_strap)}
        if self.outside.straps:
            self.outside.straps.clear()
            self._changed_to(None, "strap", "released")
        return out

    async def pulse(self, num: int, level: int, width: float) -> None:
        """Drive ``level`` for ``width`` seconds, then the level before it."""
        self._known(num)
        before = self.outside.levels.get(num, 0)
        self.drive(num, level)
        if width > 0:
            await asyncio.sleep(width)
        self.drive(num, before)

    def sequence(self, num: int, steps: Iterable[tuple[float, int]]) -> asyncio.Task[None]:
        """Drive levels over time: each step waits ``delay`` seconds, then drives ``level``."""
        self._known(num)
        plan = [(float(d), 1 if lvl else 0) for d, lvl in steps]
        if any(d < 0 for d, _ in plan):
            raise ValueError("a delay is never negative")

        async def run() -> None:
            for delay, lvl in plan:
                if delay:
                    await asyncio.sleep(delay)
                self.drive(num, lvl)

        return self.spawn(run())

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """A stimulus task: outside the module, so resets do not stop it."""
        task = asyncio.get_running_loop().create_task(coro, name="pin stimulus")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    def _known(self, num: int) -> None:
        if num not in self.board.gpios and num not in self.board.adc:
            raise ValueError(f"no pin {num} on this module")

    def interrupts_on(self, num: int, level: int) -> bool:
        """Whether a change to ``level`` on pin ``num`` is one of its configured edges."""
        pin = self._pins.get(num)
        if pin is None or pin.direction != "in" or pin.edge is None:
            return False
        return pin.edge == "B" or (pin.edge == "R") == (level == 1)

    def _edge(self, num: int, level: int) -> None:
        for fn in list(self.edge_listeners):
            fn(num, level)
        if self.interrupts_on(num, level):
            self._on_event(PinEvent(PinEv.INTERRUPT, (num, level)))

    # -- observation -------------------------------------------------------------------------
    def led(self) -> str:
        """The LED on the LED pin: "blinking" while blink_led drives it and the module is
        awake, else the level of the pin as a GPIO ("on"/"off")."""
        if self._led_enabled():
            return "blinking" if self.awake else "off"
        return "on" if self.level(self.board.led) else "off"

    def snapshot(self) -> dict[str, Any]:
        pins = {}
        for num in self.board.gpios:
            pin = self._pins.get(num)
            pins[str(num)] = {
                "direction": pin.direction if pin else "in",
                "configured": bool(pin and pin.configured),
                "edge": pin.edge if pin else None,
                "level": self.level(num),
                "driven_by": "module" if pin and pin.direction == "out" else "outside",
            }
        return {
            "pins": pins,
            "adc_mv": {str(n): self._volts(n) for n in self.board.adc},
            "dac_mv": self._dac_mv,
            "pwm": {str(n): {"hz": hz, "duty": d} for n, (hz, d) in self._pwm.items()},
            "led": self.led(),
            "straps": {str(n): v for n, v in self.outside.straps.items()},
        }

    def _changed_to(self, num: int | None, what: str, value: Any) -> None:
        self.history.append(Change(_now(), num, what, value))
        where = f"GPIO{num} " if num is not None else ""
        self._on_event(PinEvent(PinEv.CHANGE, (f"pins: {where}{what} {value}",)))
        if self._changed is not None:
            self._changed.set()

    async def wait_change(self) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        self._changed.clear()
        await self._changed.wait()


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
