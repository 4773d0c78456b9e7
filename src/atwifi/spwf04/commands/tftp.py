"""Handlers: the TFTP client (manual 6.50 AT+S.TFTPGET, 6.51 AT+S.TFTPPUT).

The transfer is the dialect-free service (services/tftp); here: names, volumes, the network
policy and the SPWF04's words for the failures (choices in docs/behaviour.md, "TFTP").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.errors import AtError
from atwifi.services import tftp as tftp_service
from atwifi.services.errors import ServiceError
from atwifi.services.fs.names import split
from atwifi.services.tftp import TftpFault, Timing
from atwifi.services.tftp.packet import MAX_SIZE
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.commands.net import _link_up
from atwifi.spwf04.context import Context

if TYPE_CHECKING:
    from atwifi.services.net.dial import Dialer

# Table 10 has no TFTP rows: the nearest texts. Local failures keep the file system's own
# numbers (51 for a missing or unwritable local file, a full or read-only volume).
wording.register(
    {
        TftpFault.NOT_FOUND: 51,  # "Unable to open file": the server has no such file
        TftpFault.ACCESS: 50,  # "Unable to access filesystem": the server refused access
        TftpFault.DISK_FULL: 79,  # "Write failed": the server's disk is full
        TftpFault.REMOTE: 111,  # "Request failed": any other TFTP error from the server
        TftpFault.TIMEOUT: 111,  # no answer after every retransmission (or nobody there)
        TftpFault.PROTOCOL: 111,
        TftpFault.TOO_BIG: 111,  # more than 65535 blocks of 512 bytes
        TftpFault.CONNECT: 74,  # "Failed to open socket": the policy forbids it, or refused
    }
)


def _timing(ctx: Context) -> Timing:
    t = getattr(ctx.device, "tftp", None)
    return t.timing if t is not None else Timing()


def default_local_name(filename: str) -> str:
    """``2:<filename>`` (6.50) as a module name: the RAM disk, the remote path's last part
    (module names are flat)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return f"2:/{base}"


async def _server(ctx: Context, hostname: str) -> str:
    net = ctx.device.net
    if net is None:
        raise AtError(1, "IP services not available")
    if not _link_up(ctx):
        raise AtError(60, "no link")
    return str(await net.resolve(hostname))  # 65 "DNS address failure"


def _dialer(ctx: Context) -> Dialer:
    """The connection path: the network policy (74 "Failed to open socket" when it forbids
    the server), the fault rules (services/net/dial.py)."""
    from atwifi.spwf04.parts.net import dialer_for

    return dialer_for(ctx.device)


def _fs(ctx: Context):  # noqa: ANN202
    fs = ctx.device.fs
    if fs is None:
        raise AtError(50, "no file system")
    return fs


@handler("TFTPGET")
async def tftpget(
    ctx: Context,
    hostname: str,
    port: int = 69,
    filename: str = "",
    local_filename: str | None = None,
) -> None:
    local = local_filename or default_local_name(filename)
    fs = _fs(ctx)
    split(local)  # a bad local name is refused before any packet leaves (51, 50)
    if not fs.writable(local):
        raise AtError(51, f"{local}: no writable volume")
    ip = await _server(ctx, hostname)

    async def room(size: int) -> None:
        if not await fs.fits(local, size):
            raise AtError(51, f"{local}: {size} bytes do not fit")

    content = await tftp_service.get(
        ip, port, filename, room=room, timing=_timing(ctx), dialer=_dialer(ctx), host=hostname
    )
    await fs.write(local, content)  # whole or nothing (51 if it no longer fits)
    ctx.device.trace_note(f"TFTP: {filename} from {ip}:{port} -> {local} ({len(content)} bytes)")


@handler("TFTPPUT")
async def tftpput(ctx: Context, hostname: str, port: int = 69, local_filename: str = "") -> None:
    fs = _fs(ctx)
    _, remote = split(local_filename)
    if fs.size(local_filename, console=True) > MAX_SIZE:  # 51: missing or protected
        raise ServiceError(TftpFault.TOO_BIG, f"{local_filename}: more than 65535 blocks")
    content = await fs.read(local_filename, console=True)
    ip = await _server(ctx, hostname)
    await tftp_service.put(
        ip, port, remote, content, timing=_timing(ctx), dialer=_dialer(ctx), host=hostname
    )
    ctx.device.trace_note(
        f"TFTP: {local_filename} -> {remote} on {ip}:{port} ({len(content)} bytes)"
    )
