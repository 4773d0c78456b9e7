"""Binds the power service to the SPWF04: PMS states as WINDs, a console that sleeps, and the
reset that ends a standby (reset_reason 3). Choices in docs/behaviour.md, "Power"."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from atwifi.services.pins import SPWF04_BOARD
from atwifi.services.power import Power, PowerEv, PowerEvent, PowerState

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

LOW_POWER = 3  # reset_reason after a standby


class PowerPart:
    attr = "power"

    def __init__(self, device: Device) -> None:
        self.device = device
        pins = device.pins
        self.power = Power(
            wakeup_pin=pins.board.wakeup if pins is not None else SPWF04_BOARD.wakeup,
            on_event=self._event,
        )
        device.power = self.power
        device.input_gate = self._input
        device.boot_hooks.append(self._booting)
        if pins is not None:
            pins.edge_listeners.append(self.power.edge)
            self.power.edge_wakes = pins.interrupts_on
        device.status.provide("system_sleeptime", lambda: int(self.power.sleeptime()))
        self._dropped = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._standby_stop: asyncio.Task[Any] | None = None

    # -- console input while asleep --------------------------------------------------------
    def _input(self, data: bytes) -> bytes:
        if self.power.console_awake:
            return data
        if not self._dropped:
            self.device.trace_note("console asleep: input dropped until the module wakes")
        self._dropped += len(data)
        return b""

    def _booting(self, reason: int) -> None:
        if reason != LOW_POWER:
            self.power.reset()
        if self.device.pins is not None:
            self.device.pins.awake = True

    async def start(self) -> None:
        pass

    async def after_boot(self) -> None:
        pass

    async def stop(self) -> None:
        # A reset or power-off ends any power state (and its standby timer). Not called when
        # the module enters standby (see _enter_standby) nor while it resumes (already active).
        self.power.reset()

    # -- events ------------------------------------------------------------------------------
    def _event(self, ev: PowerEvent) -> None:
        dev = self.device
        k = ev.kind
        if k is PowerEv.STATE:
            state, reason = ev.args
            dev.trace_note(f"power: {state.value} ({reason})")  # type: ignore[union-attr]
        elif k is PowerEv.LOW_POWER:
            dev.wind(66, ev.args[0])
        elif k is PowerEv.ACTIVE:
            if ev.args[0] in (PowerState.POWERSAVE, PowerState.FAST_POWERSAVE):
                dev.wind(32)  # the radio leaves powersave: drivers wait for this (behaviour.md)
        elif k is PowerEv.SLEEPING:
            dev.wind(69)
            self._fall_asleep()
            self._spawn(self._runtime("sleep"))
        elif k is PowerEv.STANDBY:
            dev.wind(67, ev.args[0])
            self._fall_asleep()
            self._standby_stop = self._spawn(self._enter_standby())
        elif k is PowerEv.WAKEUP:
            self._wake_console()
            dev.wind(53)
            self._spawn(self._runtime("wake"))
        elif k is PowerEv.RESUMED_SLEEP:
            dev.wind(70)
        elif k is PowerEv.RESUME_STANDBY:
            self._wake_console()
            self._spawn(self._resume_from_standby())

    def _fall_asleep(self) -> None:
        # Bytes the host sent after the PMS command are not read: the UART stops with the MCU.
        self.device.decoder.reset()
        self._dropped = 0
        if self.device.pins is not None:
            self.device.pins.awake = False

    def _wake_console(self) -> None:
        if self._dropped:
            self.device.trace_note(f"console woke: {self._dropped} bytes were dropped asleep")
            self._dropped = 0
        if self.device.pins is not None:
            self.device.pins.awake = True

    async def _runtime(self, step: str) -> None:
        """The runtime's power life cycle (its state for tools; sleep keeps everything)."""
        runtime = getattr(self.device, "runtime", None)
        if runtime is not None:
            await getattr(runtime, step)()

    async def _enter_standby(self) -> None:
        # After the PMS reply (this task runs once the console step is over): RAM is lost,
        # sockets and the RAM disk with it; the control channel stays for the test rig.
        await asyncio.sleep(0)
        keep = ("control", "power")
        runtime = getattr(self.device, "runtime", None)
        if runtime is not None:
            await runtime.standby(keep)
        else:
            await self.device._stop_parts(keep=keep)
        self.device.status.set("wifi_state", 0)

    async def _resume_from_standby(self) -> None:
        stopping = self._standby_stop
        if stopping is not None:
            with contextlib.suppress(BaseException):
                await stopping
        self.device.wind(68)
        runtime = getattr(self.device, "runtime", None)
        if runtime is not None:
            await runtime.wake()  # a boot with reason WAKE: reset_reason 3
        else:
            await self.device.reboot(LOW_POWER)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        # Not device.spawn(): these tasks carry the module through its own reset.
        task = asyncio.get_running_loop().create_task(coro, name="power")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
