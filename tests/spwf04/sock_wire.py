"""Helpers to drive the module's socket commands byte by byte, as a host driver does."""

from __future__ import annotations

import re

from peers import echo_server  # noqa: F401 - re-exported to the socket tests

TIMEOUT = 20.0
_READING = re.compile(rb"AT-S\.Reading:(\d+):(\d+)\r\n")
_WIND55 = re.compile(rb"\+WIND:55:Pending Data:(\d*):(\d+):(\d+):(\d+)\r\n")


async def line(m) -> bytes:
    return await m.read_until(b"\r\n")


async def sockr(m, cmd: str) -> tuple[bytes, int, list[bytes]]:
    """Send a SOCKR/SOCKDR; returns (data, second number, lines seen before the reply).
    Checks the exact shape: Reading line, the raw bytes, AT-S.OK right after them."""
    m.send(cmd.encode() + b"\r")
    before = []
    while True:
        ln = await line(m)
        mt = _READING.fullmatch(ln)
        if mt:
            break
        assert not ln.startswith(b"AT-S."), ln
        before.append(ln)
    n, avail = int(mt.group(1)), int(mt.group(2))
    data = await m.read_exactly(n)
    assert await m.read_exactly(9) == b"AT-S.OK\r\n"
    return data, avail, before


async def wind55(m) -> tuple[str, int, int, int]:
    ln = await m.read_until(_WIND55)
    mt = _WIND55.search(ln)
    assert mt
    return mt.group(1).decode(), int(mt.group(2)), int(mt.group(3)), int(mt.group(4))
