"""Binds the pins service to the SPWF04: straps at boot, +WIND:52 on edges, gpio_enable.

Straps (docs/behaviour.md, "Pins"): at every boot the module samples GPIO0 and GPIO8. GPIO0
high restores the factory configuration (``+WIND:65:Factory Reset:0``, after WIND:13, before
WIND:0); GPIO8 high runs ``python_script`` once the console is up: through the runners
registered with ``register_script_runner`` (the MicroPython part), else a trace note.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atwifi.services.pins import PinEv, PinEvent, Pins

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

FACTORY_RESET_GPIO0 = 0  # +WIND:65 reason: GPIO0 high at start-up

# fn(device, script_name): run the default script (GPIO8 high at boot). May be async.
ScriptRunner = Callable[["Device", str], Any]
_RUNNERS: list[ScriptRunner] = []


def register_script_runner(fn: ScriptRunner) -> ScriptRunner:
    """Called when GPIO8 is high at boot, after +WIND:32, with the python_script name."""
    if fn not in _RUNNERS:
        _RUNNERS.append(fn)
    return fn


class PinsPart:
    attr = "pins"

    def __init__(self, device: Device) -> None:
        self.device = device
        cfg = device.config
        self.pins = Pins(
            led_enabled=lambda: cfg.get("blink_led") == 1,
            wakeup_reserved=lambda: cfg.get("sleep_enabled") == 1,
            on_event=self._event,
        )
        device.pins = self.pins
        straps = getattr(device.options, "straps", None) or {}
        for num, level in straps.items():
            self.pins.strap(int(num), int(level))
        device.status.provide("gpio_enable", lambda: f"0x{self.pins.interrupt_mask():04X}")
        self._run_script = False

    def _event(self, ev: PinEvent) -> None:
        if ev.kind is PinEv.INTERRUPT:
            self.device.wind(52, *ev.args)
        elif ev.kind is PinEv.CHANGE:
            self.device.trace_note(str(ev.args[0]))

    async def start(self) -> None:
        dev = self.device
        dev.pins = self.pins
        levels = self.pins.sample_straps()
        board = self.pins.board
        if levels.get(board.factory_strap):
            await asyncio.to_thread(dev.config.factory)
            dev.wind(65, FACTORY_RESET_GPIO0)
            dev.trace_note("GPIO0 high at boot: factory configuration restored")
        self._run_script = bool(levels.get(board.script_strap))

    async def after_boot(self) -> None:
        if not self._run_script:
            return
        self._run_script = False
        dev = self.device
        script = str(dev.config.get("python_script"))
        if not _RUNNERS:
            dev.trace_note(f"GPIO8 high at boot: would run {script} (no MicroPython in atwifi yet)")
            return
        dev.trace_note(f"GPIO8 high at boot: running {script}")
        for fn in list(_RUNNERS):
            result = fn(dev, script)
            if inspect.isawaitable(result):
                dev.spawn(_await(result), name="python_script")

    async def stop(self) -> None:
        self.pins.reset()


async def _await(aw: Any) -> None:
    await aw
