"""The module's flash: named blobs written atomically, each with a checksum.

A write goes to a temporary file in the same folder, is fsynced, then renamed over the old
one (rename is atomic on POSIX), and the folder is fsynced: a kill at any moment leaves the
old blob or the new one. A blob whose magic, length or CRC does not match reads as corrupt.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

from atwifi.statedir import private_folder

_MAGIC = b"ATWF"
_HEADER = struct.Struct(">4sII")  # magic, payload length, crc32


class CorruptBlob(Exception):
    pass


class Flash:
    def __init__(self, folder: Path, *, lazy: bool = False) -> None:
        self.folder = folder
        # The owner knows the folder does not exist (nothing to read, no system call made).
        self.absent = False
        self._deferred: dict[str, bytes] = {}  # blobs waiting for the folder to exist
        self._made = False  # folder made (or found) and its stale temporary files dropped
        if not lazy:
            self._make()

    def _make(self) -> None:
        if self._made:
            return
        private_folder(self.folder)
        self._drop_stale_temps()
        self._made = True
        self.absent = False

    def probe(self) -> bool:
        """Whether the folder exists now (blocking: a stat, and the first time a look for
        stale temporary files). Sets ``absent``."""
        if self._made:
            return True
        if not self.folder.is_dir():
            self.absent = True
            return False
        self._make()
        return True

    def _drop_stale_temps(self) -> None:
        """A process killed inside write() leaves its temporary file behind (the blob itself
        is intact). Remove those of processes that are gone, so kills do not pile them up."""
        for tmp in self.folder.glob(".*.tmp"):
            try:
                pid = int(tmp.name.rsplit(".", 2)[-2])
            except ValueError:
                continue
            if pid == os.getpid() or _alive(pid):
                continue
            tmp.unlink(missing_ok=True)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.bin"

    def read(self, name: str) -> bytes | None:
        """The blob, None if it was never written; raises CorruptBlob if it is damaged."""
        if name in self._deferred:
            return self._deferred[name]
        if self.absent:
            return None
        try:
            raw = self.path(name).read_bytes()
        except FileNotFoundError:
            return None
        if len(raw) < _HEADER.size:
            raise CorruptBlob(name)
        magic, length, crc = _HEADER.unpack_from(raw)
        payload = raw[_HEADER.size :]
        if magic != _MAGIC or length != len(payload) or zlib.crc32(payload) != crc:
            raise CorruptBlob(name)
        return payload

    def write(self, name: str, payload: bytes, *, sync: bool = True) -> None:
        """Write ``name`` atomically. ``sync=False``: no fsync (a kill still leaves the old
        blob or the new one, the kernel has it); the caller makes it durable with one
        ``syncfs`` for many blobs (a fleet's boot)."""
        self._make()
        self._deferred.pop(name, None)
        if self._deferred:
            self.flush_deferred()
        self._write(name, payload, sync)

    def defer(self, name: str, payload: bytes) -> None:
        """Write ``name`` now if the folder exists; else keep it (reads see it) until the
        folder is made by a write, or ``flush_deferred()`` finds it. Blocking when it writes."""
        if self.absent and not self._made:
            self._deferred[name] = payload
        else:
            self.write(name, payload)

    @property
    def deferred(self) -> bool:
        return bool(self._deferred)

    def flush_deferred(self) -> None:
        """Write the deferred blobs (blocking), making the folder."""
        if not self._deferred:
            return
        self._make()
        pending, self._deferred = self._deferred, {}
        for name, payload in pending.items():
            self._write(name, payload)

    def _write(self, name: str, payload: bytes, sync: bool = True) -> None:
        final = self.path(name)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        blob = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, blob)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        if not sync:
            return
        dfd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def erase(self, name: str) -> None:
        self._deferred.pop(name, None)
        if self.absent:
            return
        self.path(name).unlink(missing_ok=True)


def syncfs(folder: Path) -> None:
    """Make every write to the file system holding ``folder`` durable (Linux syncfs(2); else
    sync(2)). One call in place of two fsyncs per blob, for a batch of blobs."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(folder, os.O_RDONLY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
