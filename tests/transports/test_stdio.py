"""StdioTransport on a pseudo-terminal (as a user's terminal) and on pipes."""

from __future__ import annotations

import asyncio
import os
import termios

from transport_helpers import Echo, Notes, read_fd_exactly

from atwifi.transports.stdio import StdioTransport


async def test_terminal_enter_sends_cr_and_only_the_module_echoes() -> None:
    user, term = os.openpty()  # user: what the person types on / sees; term: the tty
    before = termios.tcgetattr(term)
    t = StdioTransport(term, term)
    echo = Echo(t)
    await t.start(echo.feed)
    try:
        os.write(user, b"at\r")
        assert await echo.wait_for(3) == b"at\r"  # CR stays CR
        # the first bytes on screen are the module's answer, not a line-discipline echo
        assert await asyncio.to_thread(read_fd_exactly, user, 3) == b"AT\r"
        os.write(user, b"\x00\x7f\x1b[A")  # control bytes pass untouched
        assert await echo.wait_for(8) == b"at\r\x00\x7f\x1b[A"
    finally:
        await t.close()
        assert termios.tcgetattr(term) == before  # restored
        os.close(user)
        os.close(term)


async def test_pipes_and_end_of_input() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    t = StdioTransport(in_r, out_w)
    echo = Echo(t)
    notes = Notes(t)
    await t.start(echo.feed)
    try:
        os.write(in_w, b"hello\r\n")
        assert await echo.wait_for(7) == b"hello\r\n"
        assert await asyncio.to_thread(read_fd_exactly, out_r, 7) == b"HELLO\r\n"
        os.close(in_w)
        await notes.wait_for("stdin closed")
        t.write(b"+WIND:33:still here\r\n")  # output keeps flowing after input ended
        await t.drain()
        assert await asyncio.to_thread(read_fd_exactly, out_r, 21) == b"+WIND:33:still here\r\n"
    finally:
        await t.close()
        for fd in (in_r, out_r, out_w):
            os.close(fd)
