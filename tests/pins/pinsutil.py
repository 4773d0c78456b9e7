"""Helpers for the pins, power and serial-line tests."""

from __future__ import annotations

import asyncio
from typing import Any

from atwifi.control import verbs


async def ctl(m: Any, name: str, **args: Any) -> Any:
    """A control verb on an in-process module, as `atwifi ctl` would call it."""
    return await verbs.call(m.device, name, args)


async def reset_and_wait(module: Any) -> bytes:
    """AT+S.RESET, then everything the reboot prints until the module has booted."""
    echo = bool(module.device.config.get("console_echo"))
    reply = await module.cmd("AT+S.RESET", echo=echo)
    assert reply.startswith(b"AT-S.OK"), reply
    out = await module.read_until(b"+WIND:1:")
    await asyncio.wait_for(module.device.booted.wait(), 10)
    return out + await module.settle()
