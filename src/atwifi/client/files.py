"""File helpers of the client: upload, download, list, delete, rename, hash, mount.

Built only on ``self.command(line, data=None)`` (see client/aio.py), so they work against a
real module as well as the virtual one. FSP's answer is ``AT-S.Reading:<n>:<size>`` followed
by n raw bytes, which the protocol parser collects into ``Reply.raw``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

FILE = "AT-S.File:"
VOLUMES = {"X": 0, "E": 1, "D": 2, "I": 3}
HASHES = {"sha1": 0, "sha224": 1, "sha256": 2, "md5": 3}
# One FSC per this many bytes: a real module's console buffer is small, and every FSC is
# atomic on its own.
UPLOAD_CHUNK = 4096
_PREFIX = re.compile(r"([0-9]):/")


@dataclass(frozen=True)
class FileInfo:
    flag: str  # X external, E user flash, D RAM, I application flash
    volume: int
    size: int
    name: str

    @property
    def path(self) -> str:
        """The name with its volume prefix, as the file commands take it."""
        return f"{self.volume}:/{self.name}"


def _name(name: str) -> str:
    if not name or any(c in name for c in ",\r\n"):
        raise ValueError(f"file name the console cannot carry: {name!r}")
    return name


class FilesMixin:
    if TYPE_CHECKING:  # provided by the client core (client/aio.py); never defined here

        async def command(self, line: str, data: bytes | None = None, **kw: Any) -> Any: ...

    async def upload(self, name: str, data: bytes, *, chunk: int = UPLOAD_CHUNK) -> None:
        """Make ``name`` hold ``data``, replacing it where it is. FSC appends, so an existing
        file is deleted first; if a chunk fails (volume full), the partial file is deleted."""
        name = await self._writable_path(_name(name))
        view = memoryview(bytes(data))
        try:
            if not view:
                await self.command(f"AT+S.FSC={name},0", b"")
            for start in range(0, len(view), chunk):
                piece = bytes(view[start : start + chunk])
                await self.command(f"AT+S.FSC={name},{len(piece)}", piece)
        except Exception:
            if view:
                with contextlib.suppress(Exception):
                    await self.delete(name)
            raise

    async def _writable_path(self, name: str) -> str:
        """``name`` with the volume a bare write would reach (the file's own volume when it
        exists on RAM, external or user flash, in the module's search order), emptied."""
        files = await self.list_files()
        if _PREFIX.match(name) is None:
            bare = name[1:] if name.startswith("/") else name
            for vol in (2, 0, 1):
                if any(f.volume == vol and f.name == bare for f in files):
                    name = f"{vol}:/{bare}"
                    break
        m = _PREFIX.match(name)
        if m is not None and any(
            f.volume == int(m.group(1)) and f.name == name[m.end() :] for f in files
        ):
            await self.delete(name)
        return name

    async def append_file(self, name: str, data: bytes) -> None:
        await self.command(f"AT+S.FSC={_name(name)},{len(data)}", bytes(data))

    async def download(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        """Contents of ``name`` (from ``offset``, at most ``length`` bytes) via FSP."""
        line = f"AT+S.FSP={_name(name)},{offset}" + ("" if length is None else f",{length}")
        reply = await self.command(line)
        return reply.raw

    async def list_files(self) -> list[FileInfo]:
        reply = await self.command("AT+S.FSL")
        out = []
        for text in reply.values(FILE):
            flag, _, rest = text.partition("\t")
            size, _, name = rest.partition("\t")
            out.append(FileInfo(flag, VOLUMES.get(flag, -1), int(size), name))
        return out

    async def file_exists(self, name: str) -> bool:
        """Whether FSL shows ``name`` (``<vol>:/name``, or a bare name on any volume)."""
        vol = None
        m = _PREFIX.match(name)
        if m is not None:
            vol, name = int(m.group(1)), name[m.end() :]
        return any(f.name == name and vol in (None, f.volume) for f in await self.list_files())

    async def delete(self, name: str) -> None:
        await self.command(f"AT+S.FSD={_name(name)}")

    async def rename(self, old: str, new: str) -> None:
        await self.command(f"AT+S.FSR={_name(old)},{_name(new)}")

    async def hash(self, name: str, algo: str = "sha256") -> str:
        """Hex digest of ``name``: sha1, sha224, sha256 or md5."""
        reply = await self.command(f"AT+S.HASH={HASHES[algo.lower()]},{_name(name)}")
        return reply.value(f"AT-S.{algo.upper()}:")

    async def mount_volume(self, volume: int = 0) -> None:
        await self.command(f"AT+S.FSM={volume}")

    async def unmount_volume(self, volume: int = 0, erase: bool = False) -> None:
        await self.command(f"AT+S.FSU={volume},{int(erase)}")

    async def write_volume(self, files: dict[str, bytes]) -> None:
        """Replace the external volume (FSWRITE) with ``files``, in atwifi's image format
        (docs/behaviour.md): for the virtual module."""
        from atwifi.services.fs.image import pack

        blob = pack(files)
        await self.command(f"AT+S.FSWRITE={len(blob)}", blob)
