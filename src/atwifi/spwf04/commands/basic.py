"""Handlers: AT, AT+S.HELP, AT+S.RESET, AT+S.TIME, AT+S.RANDOM."""

from __future__ import annotations

import time

from atwifi.errors import AtError
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context
from atwifi.spwf04.table.commands import COMMANDS


@handler("")
def at(ctx: Context) -> None:  # a plain function: no coroutine for the bare AT
    return None


@handler("HELP")
async def help_(ctx: Context, keyword: str | None) -> None:
    key = (keyword or "").lower()
    for cmd in COMMANDS:
        if key and key not in cmd.at.lower() and key not in cmd.summary.lower():
            continue
        ctx.info(f"Command:{cmd.at} -- {cmd.summary}")


@handler("RESET")
async def reset(ctx: Context) -> None:
    ctx.device.request_reboot()


@handler("TIME")
async def time_(ctx: Context, time: int | None) -> None:  # noqa: A002 - the table's name
    clock = ctx.device.clock
    if time is not None:
        # The module's RTC counts unsigned 32-bit seconds; beyond that gmtime() fails too.
        if not 0 <= time <= 0xFFFFFFFF:
            raise AtError(8, "time is 0..4294967295 seconds since 1970")
        clock.set(time)
        return
    t = _gmtime(clock.now())
    ctx.info(f"Date:{t.tm_year % 100:02d}.{t.tm_mon:02d}.{t.tm_mday:02d}:{(t.tm_wday + 1) % 7:02d}")
    ctx.info(f"Time:{t.tm_hour:02d}.{t.tm_min:02d}.{t.tm_sec:02d}")


def _gmtime(seconds: float) -> time.struct_time:
    return time.gmtime(int(seconds))


@handler("RANDOM")
async def random(ctx: Context) -> None:
    ctx.info(f"Number:{ctx.device.random()}")
