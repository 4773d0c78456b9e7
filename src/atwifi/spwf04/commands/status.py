"""Handlers: AT+S.STS, AT+S.PEERS."""

from __future__ import annotations

from atwifi.errors import AtError
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context
from atwifi.spwf04.table.peer_vars import PEER_VARS
from atwifi.spwf04.table.status_vars import STATUS_BY_NAME


@handler("STS")
async def sts(ctx: Context, variable: str | None) -> None:
    status = ctx.device.status
    if variable is None:
        for name, value in status.items():
            ctx.info(f"Var:{name}={value}")
        return
    value = status.text(variable)
    name = variable if variable in STATUS_BY_NAME else _ci(variable)
    ctx.info(f"Var:{name}={value}")


def _ci(name: str) -> str:
    low = name.lower()
    return next((k for k in STATUS_BY_NAME if k.lower() == low), name)


def station_entry() -> dict[str, str]:
    """Peer 0 of a module that is joined to nothing: zeros in the manual's formats."""
    out = {}
    for var in PEER_VARS:
        example = var.example
        if example.startswith("0x"):
            out[var.name] = "0x" + "0" * (len(example) - 2)
        elif example.count(":") == 5:
            out[var.name] = "00:00:00:00:00:00"
        else:
            out[var.name] = "0"
    return out


@handler("PEERS")
async def peers(ctx: Context, peer_number: int | None, peer_var: str | None) -> None:
    radio = ctx.device.radio
    table: dict[int, dict[str, str]] = radio.peer_table() if radio is not None else {}
    if not table:
        table = {0: station_entry()}
    if peer_number is None:
        if peer_var is not None:
            raise AtError(2, "a peer variable needs a peer number")
        selected = sorted(table)
    elif peer_number in table:
        selected = [peer_number]
    else:
        raise AtError(8, f"no peer {peer_number}")
    for n in selected:
        entry = table[n]
        if peer_var is not None:
            if peer_var not in entry:
                raise AtError(4, f"no peer variable {peer_var!r}")
            ctx.info(f"Var:{n}.{peer_var}={entry[peer_var]}")
            continue
        for name, value in entry.items():
            ctx.info(f"Var:{n}.{name}={value}")
