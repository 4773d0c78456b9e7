"""Handlers: certificates (manual 6.31 WPAECERT, 6.32 TLSCERT)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.errors import AtError, AtResultLine
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

if TYPE_CHECKING:
    from atwifi.services.tls import CertStore


async def _manage(ctx: Context, store: CertStore, kind: str, size: int, data: bytes | None) -> None:
    from atwifi.services.tls import CertError

    if kind.lower() == "content":
        if size == 1:
            for line in store.listing():
                ctx.info(line)
        elif size == 2:
            await store.clear()
        else:
            raise AtError(8, f"content option {size}: 1 lists, 2 removes")
        return
    try:
        name = await store.add(kind, data or b"")
    except CertError as e:
        raise AtResultLine(e.line, str(e)) from None
    ctx.device.trace_note(f"certificate stored as {name}")


def _tls(ctx: Context):
    tls = ctx.device.tls
    if tls is None:
        raise AtError(100, "certificate store not started")
    return tls


@handler("TLSCERT")
async def tlscert(ctx: Context, kind: str, size: int, data: bytes | None = None) -> None:
    await _manage(ctx, _tls(ctx).store, kind, size, data)


@handler("WPAECERT")
async def wpaecert(ctx: Context, kind: str, size: int, data: bytes | None = None) -> None:
    await _manage(ctx, _tls(ctx).wpae, kind, size, data)
