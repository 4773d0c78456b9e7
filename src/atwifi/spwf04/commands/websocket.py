"""Handlers: WebSocket clients (manual 6.61-6.66), on services/websocket.

WSOCKW's flags, as this module reads them (docs/behaviour.md, "WebSocket clients"):
``last_frame=1`` ends the message (FIN); ``last_frag=1`` with ``last_frame=0`` sends a
fragment with more to follow (no FIN); ``0,0`` (what drivers send) is a whole message, or,
while a fragmented message is open, one more fragment of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from atwifi.errors import AtError, AtResultLine
from atwifi.services.errors import ServiceError
from atwifi.services.websocket import WsFault, close_code, split_extensions, split_list
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

if TYPE_CHECKING:
    from atwifi.services.websocket import WebSockets

RESULT = "AT-S.WebSocket Client Error:{}"  # Table 11


def _table11(n: int) -> Callable[[ServiceError], AtResultLine]:
    def word(exc: ServiceError) -> AtResultLine:
        return AtResultLine(RESULT.format(n), exc.detail)

    word.__name__ = f"websocket_client_error_{n}"
    return word


_REFUSED, _TCP, _TLS, _RESOLVE, _HTTP, _HTTP_TIMEOUT = (_table11(n) for n in range(6))

wording.register(
    {
        WsFault.REFUSED: _REFUSED,
        WsFault.BLOCKED: _REFUSED,
        WsFault.TCP: _TCP,
        WsFault.TLS: _TLS,
        WsFault.RESOLVE: _RESOLVE,
        WsFault.HANDSHAKE: _HTTP,
        WsFault.HANDSHAKE_TIMEOUT: _HTTP_TIMEOUT,
        WsFault.CLOSED: 72,  # "Closed socket"
        WsFault.SAME_SERVER: 73,  # "Port already opened"
        WsFault.TOO_MANY: 75,  # "Too many sockets"
        WsFault.BAD_ID: 76,  # "Illegal Socket ID"
        WsFault.PENDING: 77,  # "Pending data"
        WsFault.NOT_CONNECTED: 78,  # "Socket not connected"
        WsFault.WRITE_FAILED: 79,  # "Write failed"
        WsFault.BAD_CODE: 8,  # "Invalid value"
        WsFault.BAD_TEXT: 8,
    }
)


def websockets_of(ctx: Context) -> WebSockets:
    ws = getattr(ctx.device, "websockets", None)
    if ws is None:
        raise AtError(74, "web sockets not started")
    return ws


@handler("WSOCKON")
async def wsockon(
    ctx: Context,
    hostname: str,
    port: int | None = None,
    path: str | None = "/",
    tls: int = 0,
    username: str | None = None,
    passwd: str | None = None,
    origin: str | None = None,
    protocols: str | None = None,
    extensions: str | None = None,
) -> None:
    radio = ctx.device.radio
    if radio is not None and not radio.ip_ready:
        raise AtError(60, "not joined: no IP address")
    # A CertError (the TLS service's verdict on the server's certificate) goes up as it is:
    # the dialect words it as Table 13's line (commands/tls.py).
    client = await websockets_of(ctx).open(
        hostname,
        port,
        path or "/",
        tls or 0,
        username,
        passwd,
        origin,
        split_list(protocols),
        split_extensions(extensions),
    )
    ctx.info(f"On:{client.id}")


@handler("WSOCKQ")
async def wsockq(ctx: Context, id: int) -> None:
    ctx.info(f"Query:{websockets_of(ctx).client(id).unread()}")


@handler("WSOCKR")
async def wsockr(ctx: Context, id: int, **kw: int | None) -> None:
    data, unread = websockets_of(ctx).read(id, kw.get("len") or 0)
    # As SOCKR: AT-S.Reading:<returned>:<unread before the read>, the bytes, AT-S.OK.
    ctx.info(f"Reading:{len(data)}:{unread}")
    ctx.raw(data)


@handler("WSOCKW")
async def wsockw(
    ctx: Context,
    id: int,
    last_frame: int = 0,
    last_frag: int = 0,
    binary: int = 0,
    data: bytes | None = None,
    **kw: int,
) -> None:
    client = websockets_of(ctx).client(id)
    if last_frame:
        fin = True
    elif last_frag:
        fin = False
    else:
        fin = not client.sending_fragments
    await client.send(data or b"", binary=bool(binary), fin=fin)


@handler("WSOCKC")
async def wsockc(ctx: Context, id: int, status: int = 0) -> None:
    ws = websockets_of(ctx)
    ws.client(id)
    await ws.close(id, close_code(status or 0))


@handler("WSOCKL")
async def wsockl(ctx: Context) -> None:
    ws = websockets_of(ctx)
    for cid in sorted(ws.clients):
        c = ws.clients[cid]
        ctx.info(f"List:{cid}:{int(c.connected)}:{c.unread()}:{c.local_port}")
