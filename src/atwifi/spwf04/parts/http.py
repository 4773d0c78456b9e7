"""The HTTP client's part: publishes ``device.http`` (services/http) over the device's own
network path: its resolver, its network policy and its TLS service (module clock)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atwifi.services.http import HttpClient
from atwifi.services.sockets import literal_resolve

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

SPOOL = "spool"  # <state>/spool: downloads on their way to a volume


class DeviceNetwork:
    """``services.http.Network`` on the device: looked up at each use (parts restart)."""

    def __init__(self, device: Device) -> None:
        self.device = device

    async def resolve(self, host: str) -> str:
        net = self.device.net
        if net is None:
            return await literal_resolve(host)
        return str(await net.resolve(host))

    def check(self, ip: str, port: int) -> None:
        net = self.device.net
        if net is not None:
            net.check(ip, port)

    @property
    def tls(self) -> Any:
        return self.device.tls


def spool_dir(device: Device) -> Path:
    return Path(device.state_dir) / SPOOL


def _clean(folder: Path) -> None:
    # Downloads cut by a reset or a kill: nothing refers to them any more.
    for p in (folder, folder.parent / "firmware"):
        if p.is_dir():
            for tmp in p.glob(".dl-*"):
                with contextlib.suppress(OSError):
                    tmp.unlink()


class HttpPart:
    attr = "http"

    def __init__(self, device: Device) -> None:
        self.device = device
        self._preloaded = False

    def preload(self) -> None:
        """Blocking, in the boot's one thread hop: downloads a reset or a kill cut."""
        _clean(spool_dir(self.device))
        self._preloaded = True

    async def start(self) -> None:
        d = self.device
        if self._preloaded:
            self._preloaded = False  # cleaned in the boot's one thread hop
        elif not d.fresh:  # no state folder: no spool to clean
            await asyncio.to_thread(_clean, spool_dir(d))
        from atwifi.spwf04.parts.net import dialer_for

        d.http = HttpClient(DeviceNetwork(d), note=d.trace_note, dialer=dialer_for(d))

    async def after_boot(self) -> None:
        return None

    async def stop(self) -> None:
        self.device.http = None
