"""The file system's part: volumes mounted at every boot, the RAM disk empty each time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.services.fs import RAM, FileSystem

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device


class FilesPart:
    attr = "fs"

    def __init__(self, device: Device) -> None:
        self.device = device
        self.fs: FileSystem | None = None

    async def start(self) -> None:
        dev = self.device
        cfg = dev.config
        # A new FileSystem per boot: a new, empty RAM disk of ramdisk_memsize KB, and the mount
        # state back to "everything that can be mounted is".
        fs = FileSystem.standard(
            dev.state_dir,
            ramdisk_bytes=int(cfg.get("ramdisk_memsize")) * 1024,
            ext_enabled=int(cfg.get("ext_volume")) != 0,
            ext_folder=getattr(dev.options, "ext_folder", None),
        )
        fs.on_change = self._publish
        ram = fs.volumes.get(RAM)
        if ram is not None:
            ram.heap = dev.heap  # type: ignore[attr-defined]  # RAM disk files are heap
        self.fs = fs
        dev.fs = fs
        await fs.mount_all()
        self._publish()

    def _publish(self) -> None:
        if self.fs is None:
            return
        for name, value in self.fs.status().items():
            self.device.status.set(name, value)

    async def after_boot(self) -> None:
        pass

    async def stop(self) -> None:
        fs, self.fs = self.fs, None
        if fs is not None:
            ram = fs.volumes.get(RAM)
            if ram is not None:
                await ram.replace_all({})  # RAM does not survive a reset
        self.device.fs = None
