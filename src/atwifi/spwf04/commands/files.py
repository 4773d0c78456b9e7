"""Handlers: files (manual 6.12, 6.23-6.30). The work is in services/fs; this is the wire."""

from __future__ import annotations

import builtins

from atwifi.errors import AtError
from atwifi.services.fs import ALGOS, EXT, FileSystem
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

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
        # The file holds exactly the lines the console would show (docs/behaviour/fs.md).
        text = "".join(f"AT-S.{line}\r\n" for line in lines)
        await fs.write(output_filename, text.encode("latin-1"))
        return
    for line in lines:
        ctx.info(line)


@handler("FSP")
async def fsp(ctx: Context, filename: str, offset: int = 0, len: int | None = None) -> None:
    fs = _fs(ctx)
    size = fs.size(filename, console=True)
    if offset > size:
        raise AtError(52, f"offset {offset} beyond {size}")
    count = size - offset if len is None else min(len, size - offset)
    # Read everything before the header goes out: an error must not follow half a reply.
    first = await fs.read(filename, offset, min(count, _CHUNK), console=True)
    ctx.info(f"Reading:{count}:{size}")
    ctx.raw(first)
    done = builtins.len(first)
    while done < count:
        await ctx.flush()
        piece = await fs.read(filename, offset + done, min(count - done, _CHUNK), console=True)
        if not piece:
            break
        ctx.raw(piece)
        done += builtins.len(piece)
    if done < count:
        # The file shrank under us (another service rewrote it): keep the announced length.
        ctx.raw(bytes(count - done))


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
