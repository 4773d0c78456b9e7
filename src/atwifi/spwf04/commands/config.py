"""Handlers: AT+S.GCFG, AT+S.SCFG, AT+S.WCFG, AT+S.FCFG, AT+S.SSIDTXT."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from atwifi.errors import AtError
from atwifi.spwf04.commands import handler
from atwifi.spwf04.config import parse_value
from atwifi.spwf04.context import Context
from atwifi.spwf04.table.config_vars import CONFIG_BY_NAME
from atwifi.spwf04.table.schema import VarType

# Interfaces atwifi does not offer yet: refusing the value beats a module that goes silent
# on its UART after the next reset. 0 (SPI) is built: docs/spi.md; 2 and 3 (MicroPython):
# spwf04/parts/python.py.
_UNBUILT_CONSOLES: dict[int, str] = {}
_ONE_BYTE = {"console_delimiter", "console_repeater"}


@handler("GCFG")
async def gcfg(ctx: Context, cfg_var: str | None) -> None:
    config = ctx.device.config
    if cfg_var is None:
        for name, value in config.items():
            ctx.info(f"Var:{name}={value}")
        return
    value = config.text(cfg_var)
    ctx.info(f"Var:{_canonical(cfg_var)}={value}")


@handler("SCFG")
async def scfg(ctx: Context, key: str, value: str | None) -> None:
    config = ctx.device.config
    var = CONFIG_BY_NAME.get(_canonical(key))
    if var is None:
        raise AtError(4, f"no variable {key!r}")
    if value is None:
        # Empty, or what a C driver prints for a NULL pointer: an empty text, or nothing to set.
        if var.type is not VarType.TEXT:
            raise AtError(2, f"{var.name}: no value")
        value = ""
    typed = parse_value(var, value)  # raises the type's error first
    # The typed value, not the text: 00, +0 and 0x0 all mean SPI.
    if var.name == "console_enabled" and typed in _UNBUILT_CONSOLES:
        raise AtError(8, f"the {_UNBUILT_CONSOLES[typed]} console is not built in atwifi yet")
    if var.name in _ONE_BYTE and not 0 < typed <= 0xFF:
        # The console splits arguments on this one character: a value that is no byte
        # cannot be a delimiter (and chr() of it would fail on the next command).
        raise AtError(8, f"{var.name} is one character: 0x01..0xFF")
    config.set(var.name, value)


async def _write_flash(action: Callable[[], None]) -> None:
    # fsync can take milliseconds: off the event loop. A host disk that refuses is the
    # module's "Failed to write flash".
    try:
        await asyncio.to_thread(action)
    except OSError as e:
        raise AtError(101, str(e)) from None


@handler("WCFG")
async def wcfg(ctx: Context) -> None:
    await _write_flash(ctx.device.config.save)


@handler("FCFG")
async def fcfg(ctx: Context) -> None:
    await _write_flash(ctx.device.config.factory)


@handler("SSIDTXT")
async def ssidtxt(ctx: Context, ssidtxt: str | None) -> None:
    config = ctx.device.config
    if ssidtxt is None:
        raw: bytes = config.get("wifi_ssid")
        length = min(config.get("wifi_ssid_len"), len(raw))
        ctx.info(f"Network:{raw[:length].decode('latin-1')}")
        return
    ssid = ssidtxt.encode("latin-1", "replace")
    if len(ssid) > 32:
        raise AtError(32, "an SSID has at most 32 octets")
    # As the factory value shows (53:54:54:65:73:74:00), the text is stored NUL-terminated.
    config.set_value("wifi_ssid", ssid + b"\0" if len(ssid) < 32 else ssid)
    config.set_value("wifi_ssid_len", len(ssid))


def _canonical(name: str) -> str:
    if name in CONFIG_BY_NAME:
        return name
    low = name.lower()
    return low if low in CONFIG_BY_NAME else name
