"""The control channel as a part: its socket is up while the module runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.control.server import ControlServer

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device


class ControlPart:
    attr = "control"

    def __init__(self, device: Device) -> None:
        self.device = device
        self.server = ControlServer(device)

    async def start(self) -> None:
        await self.server.start()

    async def after_boot(self) -> None:
        pass

    async def stop(self) -> None:
        # Closed at every reset too: clients retry for a moment (ControlClient.CONNECT_RETRY).
        await self.server.close()
