"""Verbs on the module's pins: drive inputs, put voltages on the ADC, set straps, read outputs."""

from __future__ import annotations

from typing import Any

from atwifi.control.protocol import ControlError
from atwifi.control.verbs import verb
from atwifi.services.pins import Pins


def _pins(device: Any) -> Pins:
    if getattr(device, "pins", None) is None:
        raise ControlError("the module has no pins service")
    return device.pins


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name}: not an integer: {value!r}") from None


def _level(value: Any) -> int:
    if isinstance(value, str) and value.lower() in ("high", "low", "h", "l"):
        return 1 if value.lower().startswith("h") else 0
    level = _int(value, "level")
    if level not in (0, 1):
        raise ControlError(f"level: 0 or 1 (or high/low), not {value!r}")
    return level


def _seconds(value: Any, name: str) -> float:
    try:
        s = float(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name}: not a number of seconds: {value!r}") from None
    if s < 0:
        raise ControlError(f"{name}: never negative")
    return s


@verb("pins.show", "every pin: direction, edge, level; ADC inputs, DAC, PWM, LED, straps")
def pins_show(device: Any) -> dict[str, Any]:
    return _pins(device).snapshot()


@verb("pins.read", "one pin: its level, direction and who drives it")
def pins_read(device: Any, pin: Any) -> dict[str, Any]:
    snap = _pins(device).snapshot()
    entry = snap["pins"].get(str(_int(pin, "pin")))
    if entry is None:
        raise ControlError(f"no GPIO {pin}")
    return entry


@verb("pins.set", "drive an input from outside: pin=N level=0|1 (an edge may raise WIND 52)")
def pins_set(device: Any, pin: Any, level: Any) -> dict[str, Any]:
    p = _pins(device)
    num = _int(pin, "pin")
    try:
        p.drive(num, _level(level))
    except ValueError as e:
        raise ControlError(str(e)) from None
    return {"pin": num, "level": p.level(num)}


@verb("pins.pulse", "pin=N level=1 width=SECONDS: drive level, then back (width 0: both edges now)")
async def pins_pulse(device: Any, pin: Any, level: Any = 1, width: Any = 0) -> dict[str, Any]:
    p = _pins(device)
    num = _int(pin, "pin")
    secs = _seconds(width, "width")
    try:
        if secs == 0:
            await p.pulse(num, _level(level), 0)
        else:
            p.spawn(p.pulse(num, _level(level), secs))
    except ValueError as e:
        raise ControlError(str(e)) from None
    return {"pin": num, "width": secs}


@verb("pins.sequence", "pin=N steps=[[delay_s, level], ...]: levels over time, from now")
def pins_sequence(device: Any, pin: Any, steps: Any) -> dict[str, Any]:
    p = _pins(device)
    num = _int(pin, "pin")
    if not isinstance(steps, list) or not all(
        isinstance(s, (list, tuple)) and len(s) == 2 for s in steps
    ):
        raise ControlError("steps: a list of [delay_seconds, level], e.g. [[0,1],[0.5,0]]")
    plan = [(_seconds(d, "delay"), _level(lvl)) for d, lvl in steps]
    try:
        p.sequence(num, plan)
    except ValueError as e:
        raise ControlError(str(e)) from None
    return {"pin": num, "steps": len(plan), "seconds": sum(d for d, _ in plan)}


@verb("pins.adc", "pin=N mv=MILLIVOLTS: the voltage an ADC input (GPIO 0, 1, 16) reads")
def pins_adc(device: Any, pin: Any, mv: Any) -> dict[str, Any]:
    p = _pins(device)
    num = _int(pin, "pin")
    try:
        p.set_voltage(num, _int(mv, "mv"))
    except ValueError as e:
        raise ControlError(str(e)) from None
    return {"pin": num, "mv": _int(mv, "mv")}


@verb("pins.strap", "pin=N level=0|1|null: held during the next boot (GPIO0 factory, GPIO8 script)")
def pins_strap(device: Any, pin: Any, level: Any = 1) -> dict[str, Any]:
    p = _pins(device)
    num = _int(pin, "pin")
    try:
        p.strap(num, None if level is None else _level(level))
    except ValueError as e:
        raise ControlError(str(e)) from None
    return {"straps": {str(k): v for k, v in p.outside.straps.items()}}


@verb("pins.history", "the last changes on the pins (event loop seconds); since=T for newer ones")
def pins_history(device: Any, since: Any = None) -> list[dict[str, Any]]:
    p = _pins(device)
    t0 = None if since is None else _seconds(since, "since")
    return [c.to_dict() for c in p.history if t0 is None or c.t > t0]
