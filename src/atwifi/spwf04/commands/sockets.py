"""Handlers: socket clients (manual 6.38-6.43)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from atwifi.errors import AtError
from atwifi.services.sockets.errors import SockFault
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import burst, handler
from atwifi.spwf04.context import Context

if TYPE_CHECKING:
    from atwifi.services.sockets import Sockets

# The socket table's faults in Table 10's words (servers.py shares them).
wording.register(
    {
        SockFault.UNRESOLVED: 65,  # DNS address failure
        SockFault.KIND_MISSING: 2,  # Missing argument(s)
        SockFault.BAD_KIND: 7,  # Invalid argument(s)
        SockFault.TOO_MANY: 75,  # Too many sockets
        SockFault.OPEN_FAILED: 74,  # Failed to open socket
        SockFault.LISTEN_FAILED: 74,
        SockFault.PORT_IN_USE: 73,  # Port already opened
        SockFault.BAD_ID: 76,  # Illegal Socket ID
        SockFault.CLOSED: 72,  # Closed socket
        SockFault.PENDING_DATA: 77,  # Pending data
        SockFault.NOT_CONNECTED: 78,  # Socket not connected
        SockFault.WRITE_FAILED: 79,  # Write failed
        SockFault.NO_MEMORY: 91,  # Low Memory
    }
)


def sockets_of(ctx: Context) -> Sockets:
    socks = ctx.device.sockets
    if socks is None:
        raise AtError(74, "sockets not started")
    return socks


@handler("SOCKON")
async def sockon(ctx: Context, hostname: str, port: int, kind: str, null: None = None) -> None:
    radio = ctx.device.radio
    if radio is not None and not radio.ip_ready:
        raise AtError(60, "not joined: no IP address")
    ip, cid = await sockets_of(ctx).open(hostname, port, kind)
    ctx.info(f"On:{ip}:{cid}")


# SOCKQ, SOCKR and SOCKW are plain functions: they run without a coroutine (bulk data's hot
# path); SOCKW returns the wait for room when the send buffer is full.
@handler("SOCKQ")
def sockq(ctx: Context, id: int) -> None:
    ctx.info(f"Query:{sockets_of(ctx).unread(id)}")


@handler("SOCKR")
def sockr(ctx: Context, id: int, length: int = 0) -> None:
    data, unread = sockets_of(ctx).read(id, length or 0)
    # AT-S.Reading:<returned>:<unread before the read>, the bytes, then AT-S.OK right after
    # the last byte (wire-notes: "AT-S.Reading:31:31" for a full read of 31).
    ctx.info(f"Reading:{len(data)}:{unread}")
    ctx.raw(data)


@handler("SOCKW")
def sockw(
    ctx: Context, id: int, length: int, data: bytes | None = None
) -> Coroutine[Any, Any, None] | None:
    socks = ctx.device.sockets
    if socks is None:
        raise AtError(74, "sockets not started")  # sockets_of(), inline: the hot path
    return socks.client(id).write_now(data or b"")


@burst("SOCKW")
def sockw_burst(
    ctx: Context, blocks: list[bytes], id: int, length: int
) -> tuple[int, Coroutine[Any, Any, None] | None]:
    socks = ctx.device.sockets
    conn = socks.clients.get(id) if socks is not None else None
    if conn is None:
        return 0, None  # the handler answers the error
    return conn.write_each(blocks)


@handler("SOCKC")
async def sockc(ctx: Context, id: int) -> None:
    sockets_of(ctx).close(id)


@handler("SOCKL")
async def sockl(ctx: Context) -> None:
    socks = sockets_of(ctx)
    for cid in sorted(socks.clients):
        c = socks.clients[cid]
        ctx.info(f"List::{cid}:{int(c.connected)}:{c.kind}:{c.unread()}:{c.ip}:{c.port}")
