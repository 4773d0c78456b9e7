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
        self._loaded: tuple[tuple[int, bool], FileSystem] | None = None  # by preload()

    def _key(self) -> tuple[int, bool]:
        cfg = self.device.config
        return int(cfg.get("ramdisk_memsize")) * 1024, int(cfg.get("ext_volume")) != 0

    def _make(self) -> tuple[tuple[int, bool], FileSystem]:
        # A new FileSystem per boot: a new, empty RAM disk of ramdisk_memsize KB, and the mount
        # state back to "everything that can be mounted is".
        dev = self.device
        key = self._key()
        fs = FileSystem.standard(
            dev.state_dir,
            ramdisk_bytes=key[0],
            ext_enabled=key[1],
            ext_folder=getattr(dev.options, "ext_folder", None),
        )
        return key, fs

    def preload(self) -> None:
        """Blocking, in the boot's one thread hop: the volumes read before start()."""
        key, fs = self._make()
        fs.mount_all_blocking()
        self._loaded = key, fs

    async def start(self) -> None:
        dev = self.device
        loaded, self._loaded = self._loaded, None
        key, fs = self._make() if loaded is None else loaded
        if loaded is not None and key != self._key():
            key, fs = self._make()  # the configuration changed since (a GPIO0 strap)
            loaded = None
        fs.on_change = self._publish
        ram = fs.volumes.get(RAM)
        if ram is not None:
            ram.heap = dev.heap  # type: ignore[attr-defined]  # RAM disk files are heap
        self.fs = fs
        dev.fs = fs
        if loaded is None:
            # No state folder: the volumes kept in it are factory-new, nothing to read.
            await fs.mount_all(fresh=dev.fresh)
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
