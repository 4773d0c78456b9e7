"""The four kinds of storage behind the module's volumes.

* ``MemoryVolume``: files in a dict (the RAM disk; gone when the object goes).
* ``ImageVolume``: a MemoryVolume saved whole, atomically, to one image file after every
  change (the external volume without ``--ext-folder``; the application flash once updated).
* ``FolderVolume``: one host file per module file in a host folder (user flash in the state
  folder; the external volume with ``--ext-folder``).

Names reaching a volume are already checked by ``names.check_name``: one component, printable
ASCII, no separators, not ``.``/``..``. FolderVolume still refuses anything that is not a
regular file (links, folders, FIFOs, devices), so nothing a user puts in a folder can lead a
name outside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from atwifi.services.fs import image
from atwifi.services.fs.names import FLAGS, TEMP_PREFIX, valid_name
from atwifi.statedir import private_folder

# Above this many bytes, hashing and copying in memory move to a thread.
_BIG = 64 * 1024
_CHUNK = 64 * 1024


class Volume(ABC):
    """One volume. ``capacity`` in bytes (None: as much as the host disk has free); every
    file takes whole blocks of ``block`` bytes, at least one. ``writable``: the file commands
    may change it (the application flash is not; replace_all still works on it)."""

    def __init__(self, vid: int, *, capacity: int | None, block: int, writable: bool) -> None:
        self.id = vid
        self.flag = FLAGS[vid]
        self.capacity = capacity
        self.block = block
        self.writable = writable

    def blocks(self, size: int) -> int:
        return max(1, -(-size // self.block)) * self.block

    def used(self, sizes: Iterable[int]) -> int:
        return sum(self.blocks(s) for s in sizes)

    async def load(self) -> None:  # noqa: B027 (most volumes have nothing to load)
        """Get ready to mount (read an image, clear stale temporary files). Raises OSError or
        image.ImageError when the volume cannot be mounted."""

    def fits(self, sizes: Iterable[int]) -> bool:
        """Whether files of these sizes fit in the volume (sizes of every file after a change)."""
        sizes = list(sizes)
        if self.capacity is not None:
            return self.used(sizes) <= self.capacity
        return True

    @abstractmethod
    def size(self, name: str) -> int | None:
        """Length of file ``name``, None when there is none (cheap: no thread)."""

    @abstractmethod
    async def list(self) -> dict[str, int]:
        """name -> size of every file, sorted by name."""

    @abstractmethod
    async def read(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        """Bytes of ``name`` from ``offset``; FileNotFoundError when absent."""

    @abstractmethod
    async def snapshot(self, name: str) -> Snapshot:
        """The file for a long read (FSP); FileNotFoundError when absent."""

    @abstractmethod
    async def hash(self, name: str, algo: str) -> str: ...

    @abstractmethod
    async def write(self, name: str, data: bytes, append: bool) -> None:
        """Create/replace, or append to, ``name`` atomically."""

    @abstractmethod
    async def delete(self, name: str) -> None: ...

    @abstractmethod
    async def rename(self, old: str, new: str) -> None:
        """FileNotFoundError when ``old`` is absent, FileExistsError when ``new`` exists."""

    @abstractmethod
    async def replace_all(self, files: dict[str, bytes]) -> None:
        """Make the volume hold exactly ``files`` (FSWRITE, erase)."""

    async def write_from(self, name: str, source: Path) -> None:
        """Create/replace ``name`` with the bytes of host file ``source`` (a download spool).
        Volumes in memory hold it whole anyway (their capacity bounds it); folders copy it
        in pieces."""
        data = await asyncio.to_thread(source.read_bytes)
        await self.write(name, data, False)


def _digest(algo: str, data: bytes) -> str:
    return hashlib.new(algo, data).hexdigest()


class Snapshot:
    """One file as it was when opened: later writes (atomic renames) do not change what a
    long read returns, so a reply announced with a length is never a mix of two files."""

    def __init__(self, size: int) -> None:
        self.size = size

    async def read(self, offset: int, n: int) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass


class BytesSnapshot(Snapshot):
    def __init__(self, data: bytes) -> None:
        super().__init__(len(data))
        self.data = data

    async def read(self, offset: int, n: int) -> bytes:
        return self.data[offset : offset + n]


class FdSnapshot(Snapshot):
    def __init__(self, fd: int) -> None:
        super().__init__(os.fstat(fd).st_size)
        self.fd: int | None = fd

    async def read(self, offset: int, n: int) -> bytes:
        if self.fd is None:
            return b""
        return await asyncio.to_thread(os.pread, self.fd, n, offset)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class MemoryVolume(Volume):
    def __init__(
        self,
        vid: int,
        *,
        capacity: int | None,
        block: int = 1,
        writable: bool = True,
        files: dict[str, bytes] | None = None,
    ) -> None:
        super().__init__(vid, capacity=capacity, block=block, writable=writable)
        self.files: dict[str, bytes] = dict(files or {})
        # The module's heap (atwifi.runtime.heap), for a volume held in the module's RAM (the
        # RAM disk): its files' blocks are charged to ``account``, and a change that needs
        # more than the heap has free does not fit.
        self.heap: Any = None
        self.account = "RAM disk"

    def fits(self, sizes: Iterable[int]) -> bool:
        sizes = list(sizes)
        if not super().fits(sizes):
            return False
        heap = self.heap
        if heap is None:
            return True
        return heap.fits(self.used(sizes) - heap.account(self.account))

    def size(self, name: str) -> int | None:
        data = self.files.get(name)
        return None if data is None else len(data)

    async def list(self) -> dict[str, int]:
        return {n: len(self.files[n]) for n in sorted(self.files)}

    def _get(self, name: str) -> bytes:
        try:
            return self.files[name]
        except KeyError:
            raise FileNotFoundError(name) from None

    async def read(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        data = self._get(name)
        end = len(data) if length is None else offset + length
        return data[offset:end]

    async def snapshot(self, name: str) -> Snapshot:
        return BytesSnapshot(self._get(name))

    async def hash(self, name: str, algo: str) -> str:
        data = self._get(name)
        if len(data) > _BIG:
            return await asyncio.to_thread(_digest, algo, data)
        return _digest(algo, data)

    async def _commit(self, files: dict[str, bytes]) -> None:
        """Make ``files`` the content; subclasses persist it first."""
        self.files = files
        if self.heap is not None:
            self.heap.set(self.account, self.used(len(d) for d in files.values()))

    async def write(self, name: str, data: bytes, append: bool) -> None:
        files = dict(self.files)
        old = files.get(name, b"") if append else b""
        files[name] = old + bytes(data)
        await self._commit(files)

    async def delete(self, name: str) -> None:
        self._get(name)
        files = dict(self.files)
        del files[name]
        await self._commit(files)

    async def rename(self, old: str, new: str) -> None:
        data = self._get(old)
        if new in self.files:
            raise FileExistsError(new)
        files = {(new if n == old else n): d for n, d in self.files.items()}
        files[new] = data
        await self._commit(files)

    async def replace_all(self, files: dict[str, bytes]) -> None:
        await self._commit(dict(files))


class ImageVolume(MemoryVolume):
    """A MemoryVolume kept in ``path`` (image.py format). ``factory``: the content when the
    file does not exist (the application flash as shipped); None: an empty volume."""

    def __init__(
        self,
        vid: int,
        path: Path,
        *,
        capacity: int | None,
        block: int = 1,
        writable: bool = True,
        factory: dict[str, bytes] | None = None,
    ) -> None:
        super().__init__(vid, capacity=capacity, block=block, writable=writable)
        self.path = path
        self.factory = factory

    async def load(self) -> None:
        def read() -> dict[str, bytes] | None:
            try:
                return image.unpack(self.path.read_bytes())
            except FileNotFoundError:
                return None

        files = await asyncio.to_thread(read)
        self.files = dict(self.factory or {}) if files is None else files

    async def _commit(self, files: dict[str, bytes]) -> None:
        def save() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # our own state folder
            atomic_write(self.path.parent, self.path.name, [image.pack(files)])

        await asyncio.to_thread(save)  # megabytes to pack, checksum and fsync
        self.files = files


def fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder itself is on disk.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(folder: Path, name: str, chunks: Iterable[bytes]) -> None:
    """Write ``folder/name`` so that a crash at any point leaves the old file or the new one:
    a temporary file in the same folder, fsync, rename over the old name, fsync the folder."""
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


class FolderVolume(Volume):
    """Files in a host folder, one host file per module file."""

    def __init__(
        self,
        vid: int,
        root: Path,
        *,
        capacity: int | None,
        block: int = 1,
        writable: bool = True,
        create: bool = True,
    ) -> None:
        super().__init__(vid, capacity=capacity, block=block, writable=writable)
        self.root = Path(root)
        self.create = create

    def _path(self, name: str) -> str:
        # Belt and braces: names are checked before they get here, but a path that is not
        # directly inside the root must never be built.
        if not valid_name(name):
            raise FileNotFoundError(name)
        return os.path.join(self.root, name)

    async def load(self) -> None:
        def prepare() -> None:
            if self.create:  # only the module's own folders (never a user's --ext-folder)
                private_folder(self.root)
            if not self.root.is_dir():
                raise NotADirectoryError(str(self.root))
            self.root = self.root.resolve()
            # Temporary files of writes a crash interrupted: the old files are intact.
            with os.scandir(self.root) as it:
                for e in it:
                    if e.name.startswith(TEMP_PREFIX) and e.is_file(follow_symlinks=False):
                        with contextlib.suppress(OSError):
                            os.unlink(e.path)

        await asyncio.to_thread(prepare)

    def size(self, name: str) -> int | None:
        try:
            st = os.lstat(self._path(name))
        except (OSError, ValueError):
            return None
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    def _list(self) -> dict[str, int]:
        out: dict[str, int] = {}
        with os.scandir(self.root) as it:
            for e in it:
                if valid_name(e.name) and e.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        out[e.name] = e.stat(follow_symlinks=False).st_size
        return dict(sorted(out.items()))

    async def list(self) -> dict[str, int]:
        return await asyncio.to_thread(self._list)

    def _open(self, name: str) -> int:
        """A read descriptor of the regular file ``name``; never follows a link, never blocks
        on a FIFO, never opens a device."""
        path = self._path(name)
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise FileNotFoundError(name)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        fst = os.fstat(fd)
        if not stat.S_ISREG(fst.st_mode) or fst.st_ino != st.st_ino:
            os.close(fd)
            raise FileNotFoundError(name)
        return fd

    def _read(self, name: str, offset: int, length: int | None) -> bytes:
        fd = self._open(name)
        with os.fdopen(fd, "rb") as f:
            f.seek(offset)
            return f.read() if length is None else f.read(length)

    async def read(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        return await asyncio.to_thread(self._read, name, offset, length)

    async def snapshot(self, name: str) -> Snapshot:
        return FdSnapshot(await asyncio.to_thread(self._open, name))

    def _hash(self, name: str, algo: str) -> str:
        h = hashlib.new(algo)
        with os.fdopen(self._open(name), "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        return h.hexdigest()

    async def hash(self, name: str, algo: str) -> str:
        return await asyncio.to_thread(self._hash, name, algo)

    def _write(self, name: str, data: bytes, append: bool) -> None:
        path = self._path(name)
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISREG(os.lstat(path).st_mode):
                # A link or folder the user left here: never write through it or over it.
                raise IsADirectoryError(errno.EISDIR, "not a regular file", name)
        if self.capacity is None:
            need = len(data) + ((self.size(name) or 0) if append else 0)
            if shutil.disk_usage(self.root).free < need:
                raise OSError(28, "No space left on device")
        if append and self.size(name) is not None:
            with os.fdopen(self._open(name), "rb") as old:

                def chunks() -> Iterable[bytes]:
                    while chunk := old.read(_CHUNK):
                        yield chunk
                    yield data

                atomic_write(self.root, name, chunks())
        else:
            atomic_write(self.root, name, [data])

    async def write(self, name: str, data: bytes, append: bool) -> None:
        await asyncio.to_thread(self._write, name, bytes(data), append)

    def _write_from(self, name: str, source: Path) -> None:
        path = self._path(name)
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISREG(os.lstat(path).st_mode):
                raise IsADirectoryError(errno.EISDIR, "not a regular file", name)
        if self.capacity is None and shutil.disk_usage(self.root).free < source.stat().st_size:
            raise OSError(28, "No space left on device")
        with open(source, "rb") as f:

            def chunks() -> Iterable[bytes]:
                while chunk := f.read(_CHUNK):
                    yield chunk

            atomic_write(self.root, name, chunks())

    async def write_from(self, name: str, source: Path) -> None:
        await asyncio.to_thread(self._write_from, name, source)

    def _delete(self, name: str) -> None:
        path = self._path(name)
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise FileNotFoundError(name)
        os.unlink(path)
        fsync_dir(self.root)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._delete, name)

    def _rename(self, old: str, new: str) -> None:
        src, dst = self._path(old), self._path(new)
        if not stat.S_ISREG(os.lstat(src).st_mode):
            raise FileNotFoundError(old)
        if os.path.lexists(dst):
            raise FileExistsError(new)
        os.rename(src, dst)
        fsync_dir(self.root)

    async def rename(self, old: str, new: str) -> None:
        await asyncio.to_thread(self._rename, old, new)

    def _replace_all(self, files: dict[str, bytes]) -> None:
        # A folder cannot be swapped atomically as a whole; each file is (new files first,
        # then the old ones that are not in the image go).
        for name, data in files.items():
            self._write(name, data, append=False)
        for name in self._list():
            if name not in files:
                self._delete(name)

    async def replace_all(self, files: dict[str, bytes]) -> None:
        await asyncio.to_thread(self._replace_all, files)
