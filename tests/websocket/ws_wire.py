"""Helpers to drive the WSOCK commands byte by byte, as a host driver does."""

from __future__ import annotations

import re

TIMEOUT = 20.0
_READING = re.compile(rb"AT-S\.Reading:(\d+):(\d+)\r\n")
WIND88 = re.compile(rb"\+WIND:88:WebSocket Data:(\d+):(\d+):(\d+):(\d+):(\d+)\r\n")
WIND89 = re.compile(rb"\+WIND:89:WebSocket Closed:(\d+)\r\n")


async def wsockr(m, cmd: str) -> tuple[bytes, int, list[bytes]]:
    """Send a WSOCKR; returns (data, unread before, WIND lines seen before the reply).
    Checks the exact shape: Reading line, the raw bytes, AT-S.OK right after them."""
    m.send(cmd.encode() + b"\r")
    before = []
    while True:
        ln = await m.read_until(b"\r\n")
        mt = _READING.fullmatch(ln)
        if mt:
            break
        assert not ln.startswith(b"AT-S."), ln
        before.append(ln)
    n, avail = int(mt.group(1)), int(mt.group(2))
    data = await m.read_exactly(n)
    assert await m.read_exactly(9) == b"AT-S.OK\r\n"
    return data, avail, before


async def wind88(m) -> tuple[int, int, int, int, int]:
    """The next +WIND:88: (id, lastframe, lastfrag, received, cumulated)."""
    ln = await m.read_until(WIND88)
    mt = WIND88.search(ln)
    assert mt
    return tuple(int(g) for g in mt.groups())  # type: ignore[return-value]


async def wind89(m) -> int:
    ln = await m.read_until(WIND89)
    mt = WIND89.search(ln)
    assert mt
    return int(mt.group(1))


async def read_message(m, cid: int = 0) -> bytes:
    """Wait for WIND:88 reports until one ends a message, reading as they come."""
    out = bytearray()
    done = False
    while True:
        _, last_frame, _, _, _ = await wind88(m)
        done = done or bool(last_frame)
        data, _, before = await wsockr(m, f"AT+S.WSOCKR={cid},0")
        out += data
        # Reports raised before the read's reply are about bytes this read took.
        done = done or any(
            (mt := WIND88.fullmatch(b)) is not None and mt.group(2) == b"1" for b in before
        )
        if done:
            return bytes(out)
