"""FaultsPart: publishes ``device.faults`` (services/faults), the fault rules the sockets,
the resolver and the console consult. The rules outlive resets (they are the world's, not the
module's RAM); the world file's ``[faults]`` table is applied once, at the first boot."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from atwifi.services.faults import Faults

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device


class FaultsPart:
    attr = "faults"

    def __init__(self, device: Device) -> None:
        self.device = device
        # Published at once: the sockets and net parts read it when they start.
        self.faults = Faults(note=device.trace_note)
        device.faults = self.faults  # type: ignore[attr-defined]
        self._world_applied = False
        self.scenarios: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        if self._world_applied:
            return
        self._world_applied = True
        table = getattr(self.device.world, "faults", None) or {}
        if table:
            from atwifi.services.faults.load import parse_table

            rules, console = parse_table(table)  # checked when the world loaded
            for r in rules:
                self.faults.add(r)
                self.device.trace_note(f"fault #{r.id} {r.kind} from the world file: {r.match}")
            if console:
                self.faults.console.set(**console)

    async def after_boot(self) -> None:
        return None

    async def stop(self) -> None:
        return None
