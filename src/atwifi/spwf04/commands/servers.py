"""Handlers: socket servers (manual 6.44-6.49)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from atwifi.spwf04.commands import burst, handler
from atwifi.spwf04.commands.sockets import sockets_of
from atwifi.spwf04.context import Context


@handler("SOCKDON")
async def sockdon(ctx: Context, port: int, kind: str) -> None:
    sid = await sockets_of(ctx).open_server(port, kind)
    ctx.info(f"On:{sid}")


@handler("SOCKDQ")
def sockdq(ctx: Context, sid: int, cid: int) -> None:
    ctx.info(f"Query:{sockets_of(ctx).server(sid).client(cid).unread()}")


@handler("SOCKDC")
async def sockdc(ctx: Context, sid: int, cid: int | None = None) -> None:
    sockets_of(ctx).close_server(sid, cid)


# The table names the length parameter "len" (manual 6.47/6.48): taken from **kw so the
# builtin stays usable.
@handler("SOCKDW")
def sockdw(
    ctx: Context, sid: int, cid: int, data: bytes | None = None, **kw: int
) -> Coroutine[Any, Any, None] | None:
    # A plain function, as SOCKW: no coroutine unless the send buffer is full.
    return sockets_of(ctx).server(sid).client(cid).write_now(data or b"")


@burst("SOCKDW")
def sockdw_burst(
    ctx: Context, blocks: list[bytes], sid: int, cid: int, **kw: int
) -> tuple[int, Coroutine[Any, Any, None] | None]:
    socks = ctx.device.sockets
    server = socks.servers.get(sid) if socks is not None else None
    conn = server.clients.get(cid) if server is not None else None
    if conn is None:
        return 0, None  # the handler answers the error
    return conn.write_each(blocks)


@handler("SOCKDR")
def sockdr(ctx: Context, sid: int, cid: int, **kw: int | None) -> None:
    data, unread = sockets_of(ctx).server(sid).read(cid, kw.get("len") or 0)
    ctx.info(f"Reading:{len(data)}:{unread}")
    ctx.raw(data)


@handler("SOCKDL")
async def sockdl(ctx: Context, sid: int | None = None) -> None:
    socks = sockets_of(ctx)
    if sid is not None:
        servers = [socks.server(sid)]
    else:
        servers = [socks.servers[i] for i in sorted(socks.servers)]
    for srv in servers:
        if not srv.clients:
            # A server with no client yet: one line with an empty client id, so the host
            # sees it listening (module port, not the host port it may be mapped to).
            ctx.info(f"List:{srv.sid}::0:{srv.kind}:0::{srv.port}")
        for cid in sorted(srv.clients):
            c = srv.clients[cid]
            ctx.info(
                f"List:{srv.sid}:{cid}:{int(c.connected)}:{srv.kind}:{c.unread()}:{c.ip}:{c.port}"
            )
