"""Handlers: certificates (manual 6.31 WPAECERT, 6.32 TLSCERT)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.errors import AtError, AtResultLine
from atwifi.services.errors import ServiceError
from atwifi.services.tls.verify import CertReason, TlsFault
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

if TYPE_CHECKING:
    from atwifi.services.tls import CertStore

# Certificate failure reasons -> Table 13 (AT-S.Certificate Error:<n>).
TABLE13: dict[CertReason, int] = {
    CertReason.NULL_CERT: 2,
    CertReason.PARSE: 3,
    CertReason.NAME_WILDCARD: 4,
    CertReason.NAME: 5,
    CertReason.KEY_USAGE: 6,
    CertReason.AKI_PARSE: 7,
    CertReason.BAD_SIGNATURE: 10,
    CertReason.SIG_PARSE: 11,
    CertReason.NO_SKI: 13,
    CertReason.SKI_MISMATCH: 15,
    CertReason.CA_KEY_USAGE: 16,
    CertReason.BASIC_CONSTRAINTS: 17,
    CertReason.UNSUPPORTED: 19,
    CertReason.EXPIRED: 21,
    CertReason.NOT_YET_VALID: 21,  # Table 13 has no "not yet valid": the module says 21
    CertReason.UNSPECIFIED: 22,
    CertReason.UNKNOWN_CA: 23,
}


def certificate_line(exc: ServiceError) -> AtResultLine:
    """``AT-S.Certificate Error:<n>`` for a certificate failure (any service's CertError)."""
    reason = exc.info.get("reason")
    number = TABLE13.get(reason, 22) if isinstance(reason, CertReason) else 22
    return AtResultLine(f"AT-S.Certificate Error:{number}", exc.detail)


wording.register(
    {
        TlsFault.CERTIFICATE: certificate_line,
        TlsFault.BAD_KIND: 7,  # Invalid argument(s)
        TlsFault.ALREADY_LOADED: 101,  # Failed to write flash: what the module answers
        TlsFault.STORE_FULL: 101,
        TlsFault.FLASH_WRITE: 101,
    }
)


async def _manage(ctx: Context, store: CertStore, kind: str, size: int, data: bytes | None) -> None:
    if kind.lower() == "content":
        if size == 1:
            for line in store.listing():
                ctx.info(line)
        elif size == 2:
            await store.clear()
        else:
            raise AtError(8, f"content option {size}: 1 lists, 2 removes")
        return
    name = await store.add(kind, data or b"")  # a CertError is worded as Table 13's line
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
