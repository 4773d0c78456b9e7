"""Handlers: files (manual 6.12, 6.23-6.30). The work is in services/fs; this is the wire."""

from __future__ import annotations

import builtins

from atwifi.errors import AtError
from atwifi.services.fs import ALGOS, EXT, FileSystem, FsFault
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

# The file system's faults in Table 10's words (50-59).
wording.register(
    {
        FsFault.ACCESS: 50,  # Unable to access filesystem
        FsFault.OPEN: 51,  # Unable to open file
        FsFault.SEEK: 52,  # Unable to seek file
        FsFault.READ: 53,  # Unable to read file
        FsFault.CLOSE: 54,  # Unable to close file
        FsFault.RENAME: 55,  # Unable to rename file
        FsFault.DELETE: 56,  # Unable to delete file
        FsFault.OPENDIR: 57,  # Unable to open directory
        FsFault.READDIR: 58,  # Unable to read directory
        FsFault.MOUNT: 59,  # Unable to (un)mount volume
    }
)

_CHUNK = 256 * 1024  # FSP sends big files in pieces, flushing between them
_DIGEST_LABEL = {"sha1": "SHA1", "sha224": "SHA224", "sha256": "SHA256", "md5": "MD5"}


def _fs(ctx: Context) -> FileSystem:
    fs = ctx.device.fs
    if fs is None:
        raise AtError(50, "file system not started")
    return fs


@handler("FSC")
async def fsc(ctx: Context, filename: str, datalen: int, data: bytes) -> None:
    # Manual 6.23: create, or append when the file exists.
    await _fs(ctx).write(filename, data, append=True)


@handler("FSD")
async def fsd(ctx: Context, filename: str) -> None:
    await _fs(ctx).delete(filename)


@handler("FSR")
async def fsr(ctx: Context, old_filename: str, new_filename: str) -> None:
    await _fs(ctx).rename(old_filename, new_filename)


@handler("FSL")
async def fsl(ctx: Context, output_filename: str | None = None) -> None:
    fs = _fs(ctx)
    lines = [f"File:{e.flag}\t{e.size}\t{e.name}" for e in await fs.list(console=True)]
    if output_filename:
        # The file holds exactly the lines the console would show (docs/behaviour.md).
        text = "".join(f"AT-S.{line}\r\n" for line in lines)
        await fs.write(output_filename, text.encode("latin-1"))
        return
    for line in lines:
        ctx.info(line)


@handler("FSP")
async def fsp(ctx: Context, filename: str, offset: int = 0, len: int | None = None) -> None:
    snap = await _fs(ctx).open(filename, console=True)
    try:
        size = snap.size
        if offset > size:
            raise AtError(52, f"offset {offset} beyond {size}")
        count = size - offset if len is None else min(len, size - offset)
        ctx.info(f"Reading:{count}:{size}")
        done = 0
        while done < count:
            try:
                piece = await snap.read(offset + done, min(count - done, _CHUNK))
            except OSError as e:
                ctx.device.trace_note(f"FSP {filename}: read failed after {done} bytes: {e}")
                piece = b""
            if not piece:
                # The host disk failed under us: the announced length is kept all the same,
                # or the host would read the final line as file bytes.
                ctx.raw(bytes(count - done))
                break
            ctx.raw(piece)
            done += builtins.len(piece)
            if done < count:
                await ctx.flush()
    finally:
        snap.close()


@handler("FSM")
async def fsm(ctx: Context, volume: int = 0) -> None:
    await _fs(ctx).mount(volume)


@handler("FSU")
async def fsu(ctx: Context, volume: int = 0, erase: int = 0) -> None:
    await _fs(ctx).unmount(volume, erase=bool(erase))


@handler("HASH")
async def hash_(ctx: Context, filename: str, function: int = 0) -> None:
    algo = ALGOS[function]
    digest = await _fs(ctx).hash(filename, algo)
    ctx.info(f"{_DIGEST_LABEL[algo]}:{digest}")


@handler("FSWRITE")
async def fswrite(ctx: Context, length: int, data: bytes) -> None:
    # Manual 6.12: the external volume, replaced by the image (services/fs/image.py format).
    await _fs(ctx).write_image(EXT, data)
