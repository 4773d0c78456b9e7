"""Helpers for the core tests (the shared fixtures are in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import pytest

OK_FINAL = (b"AT-S.OK\r\n", b"AT-S.OK:")


def transports_built() -> bool:
    """The ``served`` fixture needs atwifi.transports (merged into main from `transports`)."""
    try:
        return importlib.util.find_spec("atwifi.transports") is not None
    except ModuleNotFoundError:
        return False


needs_serve = pytest.mark.skipif(
    not transports_built(), reason="needs atwifi.transports (branch transports not merged yet)"
)


async def reset_and_wait(module: Any) -> bytes:
    """AT+S.RESET on an in-process module, then everything the reboot prints until it is booted.

    The first boot WIND (+WIND:1, in any console_winds form but 0) is printed once the reboot
    has started, so waiting for it and then for ``booted`` needs no knowledge of which later
    WINDs are masked. The radio then joins the world's network (its WINDs are included)."""
    reply = await module.cmd("AT+S.RESET")
    assert reply.startswith(OK_FINAL), reply
    out = await module.read_until(b"+WIND:1:")
    await asyncio.wait_for(module.device.booted.wait(), 10)
    return out + await module.settle()  # and what the radio said until it settled
