"""Verbs on the module's power state: what it is, and how it changed over time."""

from __future__ import annotations

from typing import Any

from atwifi.control.protocol import ControlError
from atwifi.control.verbs import verb


def _power(device: Any) -> Any:
    if getattr(device, "power", None) is None:
        raise ControlError("the module has no power service")
    return device.power


@verb("power.state", "the power state now (active, powersave, sleep, standby...), time asleep")
def power_state(device: Any) -> dict[str, Any]:
    snap = _power(device).snapshot()
    snap.pop("history")
    return snap


@verb("power.history", "every power state change since power-on (event loop seconds, reason)")
def power_history(device: Any) -> list[dict[str, Any]]:
    return list(_power(device).history)
