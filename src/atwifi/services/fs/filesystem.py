"""The module's file system: four volumes behind one name space.

``<vol>:/name`` names one volume. A bare ``name`` is looked up in the search order RAM disk,
external volume, user flash, application flash (the first mounted volume holding it wins);
a bare name that exists nowhere writable is created on the RAM disk. Failures raise
``ServiceError(FsFault.<step>)`` (services/fs/errors.py), so every caller (file commands,
TLS, HTTP, TFTP, scan output) reports them the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from atwifi.services.errors import ServiceError
from atwifi.services.fs import image
from atwifi.services.fs.errors import FsFault
from atwifi.services.fs.names import APP, EXT, FLAGS, RAM, USER, split, valid_name
from atwifi.services.fs.volumes import (
    FolderVolume,
    ImageVolume,
    MemoryVolume,
    Snapshot,
    Volume,
)

SEARCH = (RAM, EXT, USER, APP)
LOCK_FILE = "__LOCKED__"

# Sizes (docs/behaviour.md). The STM32F439 maps the application flash at 0x08100000 and
# the user flash at 0x08110000: 64 KB apart, and 0x08110000 starts a 64 KB sector.
USER_CAPACITY = 64 * 1024
USER_BLOCK = 256
APP_CAPACITY = 64 * 1024
APP_BLOCK = 256
EXT_IMAGE_CAPACITY = 2 * 1024 * 1024  # an SPI flash chip's worth
EXT_IMAGE_BLOCK = 512
RAM_BLOCK = 1024  # manual 6.23: 2 KB of RAM disk hold at most 2 files

ALGOS = {0: "sha1", 1: "sha224", 2: "sha256", 3: "md5"}


class FileEntry(NamedTuple):
    volume: int
    flag: str  # X, E, D, I as FSL prints it
    name: str
    size: int


def factory_app_files() -> dict[str, bytes]:
    """The application flash of a factory module (package data in ``appflash/``)."""
    return dict(_factory_app_files())


@functools.cache
def _factory_app_files() -> dict[str, bytes]:
    # Read once per process: every boot would otherwise read the package files again.
    # The package's own folder (importlib.resources costs milliseconds to import at boot).
    root = Path(__file__).parent / "appflash"
    return {
        p.name: p.read_bytes()
        for p in sorted(root.iterdir(), key=lambda p: p.name)
        if p.is_file() and valid_name(p.name)
    }


class FileSystem:
    def __init__(self, volumes: dict[int, Volume] | None = None) -> None:
        self.volumes: dict[int, Volume] = dict(volumes or {})
        self.mounted: set[int] = set()
        self.on_change: Callable[[], None] | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def standard(
        cls,
        state_dir: Path,
        *,
        ramdisk_bytes: int,
        ext_enabled: bool = True,
        ext_folder: Path | None = None,
    ) -> FileSystem:
        """The volumes of the virtual module, kept in ``state_dir``."""
        state_dir = Path(state_dir)
        vols: dict[int, Volume] = {
            USER: FolderVolume(
                USER, state_dir / "userflash", capacity=USER_CAPACITY, block=USER_BLOCK
            ),
            RAM: MemoryVolume(RAM, capacity=ramdisk_bytes, block=RAM_BLOCK),
            APP: ImageVolume(
                APP,
                state_dir / "appflash.img",
                capacity=APP_CAPACITY,
                block=APP_BLOCK,
                writable=False,
                factory=factory_app_files(),
            ),
        }
        if ext_enabled:
            if ext_folder is not None:
                vols[EXT] = FolderVolume(EXT, Path(ext_folder), capacity=None, create=False)
            else:
                vols[EXT] = ImageVolume(
                    EXT,
                    state_dir / "extvol.img",
                    capacity=EXT_IMAGE_CAPACITY,
                    block=EXT_IMAGE_BLOCK,
                )
        return cls(vols)

    # --- mount state -------------------------------------------------------------------

    async def mount_all(self, fresh: bool = False) -> None:
        """Mount every volume that can be; one that cannot stays unmounted (status 0).
        ``fresh``: the caller knows the state folder does not exist yet, so the volumes kept
        in it mount empty (or as shipped) with no I/O; the others load as usual."""
        for vid in sorted(self.volumes):
            vol = self.volumes[vid]
            if fresh and vid not in self.mounted and vol.load_fresh():
                self.mounted.add(vid)
                continue
            with contextlib.suppress(ServiceError):
                await self.mount(vid)
        if fresh:
            self._changed()

    def mount_all_blocking(self) -> None:
        """mount_all() for a caller in a thread (no event loop, no lock: nothing else can
        reach this file system yet). Call before it is published."""
        for vid in sorted(self.volumes):
            with contextlib.suppress(OSError, image.ImageError):
                self.volumes[vid].load_blocking()
                self.mounted.add(vid)

    async def mount(self, vid: int) -> None:
        async with self._lock:
            vol = self.volumes.get(vid)
            if vol is None:
                raise ServiceError(FsFault.MOUNT, f"no volume {vid}")
            if vid in self.mounted:
                return
            try:
                await vol.load()
            except (OSError, image.ImageError) as e:
                raise ServiceError(FsFault.MOUNT, f"volume {vid}: {e}") from None
            self.mounted.add(vid)
        self._changed()

    async def unmount(self, vid: int, erase: bool = False) -> None:
        async with self._lock:
            vol = self.volumes.get(vid)
            if vol is None:
                raise ServiceError(FsFault.MOUNT, f"no volume {vid}")
            if erase:
                if not vol.writable:
                    raise ServiceError(FsFault.MOUNT, f"volume {vid} is read-only")
                try:
                    await vol.replace_all({})
                except OSError as e:
                    raise ServiceError(FsFault.MOUNT, f"erase volume {vid}: {e}") from None
            elif vid not in self.mounted:
                raise ServiceError(FsFault.MOUNT, f"volume {vid} is not mounted")
            self.mounted.discard(vid)
        self._changed()

    @property
    def locked(self) -> bool:
        """The application flash holds __LOCKED__: FSL hides it and FSP refuses its files."""
        app = self.volumes.get(APP)
        return APP in self.mounted and app is not None and app.size(LOCK_FILE) is not None

    def status(self) -> dict[str, int]:
        """The Table 8 variables app_fs, user_fs, extvol_fs."""
        app = (2 if self.locked else 1) if APP in self.mounted else 0
        return {
            "app_fs": app,
            "user_fs": int(USER in self.mounted),
            "extvol_fs": int(EXT in self.mounted),
        }

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # --- name resolution ---------------------------------------------------------------

    def _volume(self, vid: int) -> Volume:
        if vid not in self.mounted:
            raise ServiceError(FsFault.ACCESS, f"volume {vid} is not mounted")
        return self.volumes[vid]

    def _find(self, text: str, error: FsFault) -> tuple[Volume, str]:
        """The volume holding the existing file ``text``."""
        vid, name = split(text, error)
        if vid is not None:
            vol = self._volume(vid)
            if vol.size(name) is None:
                raise ServiceError(error, f"no file {text!r}")
            return vol, name
        for vid in SEARCH:
            vol = self.volumes.get(vid)
            if vid in self.mounted and vol is not None and vol.size(name) is not None:
                return vol, name
        raise ServiceError(error, f"no file {text!r}")

    def _target(self, text: str) -> tuple[Volume, str]:
        """Where a write of ``text`` goes."""
        vid, name = split(text, FsFault.OPEN)
        if vid is not None:
            return self._volume(vid), name
        for vid in SEARCH:
            vol = self.volumes.get(vid)
            if (
                vid in self.mounted
                and vol is not None
                and vol.writable
                and vol.size(name) is not None
            ):
                return vol, name
        return self._volume(RAM), name

    # --- the file API ------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        try:
            self._find(name, FsFault.OPEN)
        except ServiceError:
            return False
        return True

    def size(self, name: str, *, console: bool = False) -> int:
        vol, bare = self._find(name, FsFault.OPEN)
        self._check_console(vol, console)
        size = vol.size(bare)
        if size is None:
            raise ServiceError(FsFault.OPEN, f"no file {name!r}")
        return size

    def _check_console(self, vol: Volume, console: bool) -> None:
        if console and vol.id == APP and self.locked:
            raise ServiceError(FsFault.OPEN, "application flash is protected")

    async def read(
        self, name: str, offset: int = 0, length: int | None = None, *, console: bool = False
    ) -> bytes:
        """Bytes of ``name`` from ``offset`` (at most ``length``). ``console``: the host asks
        (FSP), so a protected application flash refuses; services (web server) may read it."""
        vol, bare = self._find(name, FsFault.OPEN)
        self._check_console(vol, console)
        size = vol.size(bare) or 0
        if offset < 0 or offset > size:
            raise ServiceError(FsFault.SEEK, f"offset {offset} beyond {size}")
        if length is not None:
            if length < 0:
                raise ServiceError(FsFault.READ, "negative length")
            length = min(length, size - offset)
        try:
            return await vol.read(bare, offset, length)
        except FileNotFoundError:
            raise ServiceError(FsFault.OPEN, f"no file {name!r}") from None
        except OSError as e:
            raise ServiceError(FsFault.READ, str(e)) from None

    async def open(self, name: str, *, console: bool = False) -> Snapshot:
        """The file as it is now, for a long read in pieces; ``close()`` it when done."""
        vol, bare = self._find(name, FsFault.OPEN)
        self._check_console(vol, console)
        try:
            return await vol.snapshot(bare)
        except FileNotFoundError:
            raise ServiceError(FsFault.OPEN, f"no file {name!r}") from None
        except OSError as e:
            raise ServiceError(FsFault.OPEN, str(e)) from None

    async def write(self, name: str, data: bytes, append: bool = False) -> None:
        """Create or replace (or append to) ``name``, atomically; a write that does not fit
        fails whole (FsFault.OPEN) and leaves the volume as it was."""
        async with self._lock:
            vol, bare = self._target(name)
            if not vol.writable:
                raise ServiceError(FsFault.OPEN, f"volume {vol.id} is read-only")
            if vol.capacity is not None:  # a host folder checks the disk as it writes
                sizes = await self._sizes(vol)
                sizes[bare] = (sizes.get(bare, 0) if append else 0) + len(data)
                if not vol.fits(sizes.values()):
                    raise ServiceError(FsFault.OPEN, f"volume {vol.id} is full")
            try:
                await vol.write(bare, data, append)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EISDIR):
                    raise ServiceError(FsFault.OPEN, str(e)) from None
                raise ServiceError(FsFault.CLOSE, str(e)) from None

    async def write_from(self, name: str, source: Path) -> None:
        """As ``write`` (replace), the bytes coming from host file ``source`` (a download
        spool, HTTPGET's out_filename): checked against the volume before anything is
        written, copied in pieces to a host folder."""
        async with self._lock:
            vol, bare = self._target(name)
            if not vol.writable:
                raise ServiceError(FsFault.OPEN, f"volume {vol.id} is read-only")
            if vol.capacity is not None:
                sizes = await self._sizes(vol)
                sizes[bare] = (await asyncio.to_thread(source.stat)).st_size
                if not vol.fits(sizes.values()):
                    raise ServiceError(FsFault.OPEN, f"volume {vol.id} is full")
            try:
                await vol.write_from(bare, source)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EISDIR):
                    raise ServiceError(FsFault.OPEN, str(e)) from None
                raise ServiceError(FsFault.CLOSE, str(e)) from None

    async def room(self, name: str) -> int | None:
        """Bytes ``name`` may take on the volume a write of it goes to (None: a host folder,
        bounded by the disk only): a download stops before it overflows the volume."""
        vol, bare = self._target(name)
        if not vol.writable:
            raise ServiceError(FsFault.OPEN, f"volume {vol.id} is read-only")
        if vol.capacity is None:
            return None
        sizes = await self._sizes(vol)
        sizes.pop(bare, None)
        free = vol.capacity - vol.used(sizes.values())
        return max(0, free // vol.block * vol.block)

    def writable(self, name: str) -> bool:
        """Whether a write of ``name`` would go to a mounted, writable volume (False for a
        name that is not valid). For services that must tell "read-only" from "full"."""
        try:
            vol, _ = self._target(name)
        except ServiceError:
            return False
        return vol.writable

    async def fits(self, name: str, size: int) -> bool:
        """Whether ``name`` with ``size`` bytes (replacing the file) would fit its volume now;
        nothing is written. A host folder answers True: its disk is checked as it writes."""
        vol, bare = self._target(name)
        if vol.capacity is None:
            return True
        sizes = await self._sizes(vol)
        sizes[bare] = size
        return vol.fits(sizes.values())

    async def _sizes(self, vol: Volume, listing: bool = False) -> dict[str, int]:
        try:
            return await vol.list()
        except OSError as e:
            # FSL reports a folder that went away (or turned unreadable) under a mounted
            # volume as the directory faults; a write that needs the sizes, as ACCESS.
            if not listing:
                raise ServiceError(FsFault.ACCESS, str(e)) from None
            opened = isinstance(e, FileNotFoundError | NotADirectoryError | PermissionError)
            raise ServiceError(FsFault.OPENDIR if opened else FsFault.READDIR, str(e)) from None

    async def delete(self, name: str) -> None:
        async with self._lock:
            vol, bare = self._find(name, FsFault.DELETE)
            if not vol.writable:
                raise ServiceError(FsFault.DELETE, f"volume {vol.id} is read-only")
            try:
                await vol.delete(bare)
            except OSError as e:
                raise ServiceError(FsFault.DELETE, str(e)) from None

    async def rename(self, old: str, new: str) -> None:
        """Rename within one volume; ``new`` may repeat the volume prefix, not change it."""
        async with self._lock:
            vol, bare = self._find(old, FsFault.RENAME)
            nvid, nbare = split(new, FsFault.RENAME)
            if nvid is not None and nvid != vol.id:
                raise ServiceError(FsFault.RENAME, "rename across volumes")
            if not vol.writable:
                raise ServiceError(FsFault.RENAME, f"volume {vol.id} is read-only")
            if nbare == bare:
                return
            try:
                await vol.rename(bare, nbare)
            except OSError as e:
                raise ServiceError(FsFault.RENAME, str(e)) from None

    async def hash(self, name: str, algo: str = "sha1") -> str:
        """Lower-case hex digest; ``algo`` one of sha1, sha224, sha256, md5."""
        if algo not in ALGOS.values():
            raise ValueError(algo)
        vol, bare = self._find(name, FsFault.OPEN)
        try:
            return await vol.hash(bare, algo)
        except FileNotFoundError:
            raise ServiceError(FsFault.OPEN, f"no file {name!r}") from None
        except OSError as e:
            raise ServiceError(FsFault.READ, str(e)) from None

    async def list(self, *, console: bool = False) -> list[FileEntry]:
        """Every file of every mounted volume, volume by volume (0, 1, 2, 3). ``console``:
        for FSL, which shows nothing of a protected application flash."""
        out: list[FileEntry] = []
        for vid in sorted(self.mounted):
            if console and vid == APP and self.locked:
                continue
            vol = self.volumes[vid]
            sizes = await self._sizes(vol, listing=True)
            out += [FileEntry(vid, FLAGS[vid], n, s) for n, s in sizes.items()]
        return out

    async def write_image(self, vid: int, blob: bytes) -> None:
        """FSWRITE: replace volume ``vid`` with an image (image.py format); FsFault.ACCESS for an
        image that is not whole and valid or does not fit."""
        try:
            files = image.unpack(blob)
        except image.ImageError as e:
            raise ServiceError(FsFault.ACCESS, f"bad image: {e}") from None
        await self.replace_volume(vid, files)

    async def replace_volume(self, vid: int, files: dict[str, bytes]) -> None:
        """Make volume ``vid`` hold exactly ``files`` and mount it (FSWRITE, FSUPDATE)."""
        for name in files:
            if not valid_name(name):
                raise ServiceError(FsFault.ACCESS, f"bad file name {name!r}")
        async with self._lock:
            vol = self.volumes.get(vid)
            if vol is None:
                raise ServiceError(FsFault.ACCESS, f"no volume {vid}")
            if not vol.fits(len(d) for d in files.values()):
                raise ServiceError(FsFault.ACCESS, f"image does not fit volume {vid}")
            try:
                if vid not in self.mounted:
                    # An image that no longer reads is what an update is there to replace.
                    with contextlib.suppress(image.ImageError):
                        await vol.load()
                await vol.replace_all(files)
            except (OSError, image.ImageError) as e:
                raise ServiceError(FsFault.ACCESS, str(e)) from None
            self.mounted.add(vid)
        self._changed()
