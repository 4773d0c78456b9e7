"""PtyTransport: a host opens the follower as it would open the module's UART."""

from __future__ import annotations

import asyncio
import os

import serial
from transport_helpers import SAFETY, Echo, read_fd_exactly, read_serial_exactly

from atwifi.transports.pty import PtyTransport


async def _started(tmp_path=None) -> tuple[PtyTransport, Echo]:
    link = str(tmp_path / "console") if tmp_path is not None else None
    t = PtyTransport(link)
    echo = Echo(t)
    await t.start(echo.feed)
    return t, echo


def _talk_pyserial(path: str, data: bytes) -> bytes:
    with serial.Serial(path, 115200, timeout=SAFETY) as port:
        port.write(data)
        return read_serial_exactly(port, len(data))


async def test_echo_through_pyserial_all_byte_values() -> None:
    t, echo = await _started()
    try:
        data = bytes(range(256)) + b"at\r\n"
        back = await asyncio.to_thread(_talk_pyserial, t.path, data)
        assert back == data.upper()
        assert await echo.wait_for(len(data)) == data
    finally:
        await t.close()


async def test_raw_without_host_termios() -> None:
    """A host that sets no termios of its own (plain open) still gets no translation/echo."""
    t, echo = await _started()
    try:
        fd = os.open(t.path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"at\r\nx\n")
            assert await echo.wait_for(6) == b"at\r\nx\n"
            back = await asyncio.to_thread(read_fd_exactly, fd, 6)
            assert back == b"AT\r\nX\n"  # not \n\n (ICRNL) and no local echo before it
        finally:
            os.close(fd)
    finally:
        await t.close()


async def test_host_can_close_and_reopen() -> None:
    t, echo = await _started()
    try:
        for i in range(3):
            msg = f"round {i}\r".encode()
            assert await asyncio.to_thread(_talk_pyserial, t.path, msg) == msg.upper()
        # output produced while no host has the terminal open reaches the next opener
        t.write(b"+WIND:1:Poweron\r\n")
        fd = os.open(t.path, os.O_RDWR | os.O_NOCTTY)
        try:
            assert await asyncio.to_thread(read_fd_exactly, fd, 17) == b"+WIND:1:Poweron\r\n"
        finally:
            os.close(fd)
    finally:
        await t.close()


async def test_link_and_describe(tmp_path) -> None:
    t, _ = await _started(tmp_path)
    link = tmp_path / "console"
    try:
        assert os.readlink(link) == t.path
        text = t.describe()
        assert t.path in text and "picocom -b 115200" in text and "miniterm" in text
        back = await asyncio.to_thread(_talk_pyserial, str(link), b"via link\r")
        assert back == b"VIA LINK\r"
    finally:
        await t.close()
    assert not link.exists() and not link.is_symlink()


async def test_output_without_reader_does_not_block() -> None:
    """Nobody reads: the kernel buffer fills, then the bounded backlog; drain() never wedges."""
    t, _ = await _started()
    try:
        chunk = b"x" * 4096
        async with asyncio.timeout(SAFETY):
            for _ in range(100):  # 400 KiB, far over kernel buffer + backlog
                t.write(chunk)
                await t.drain()
    finally:
        await t.close()


def test_the_banner_hints_run_as_written() -> None:
    import shlex
    import sys

    from atwifi.transports.base import miniterm

    words = shlex.split(miniterm("/dev/pts/9"))
    # This Python (it has pyserial), CR alone for Enter: a CR LF terminal would send the LF
    # after a {data} command as data.
    assert words[:3] == [sys.executable, "-m", "serial.tools.miniterm"]
    assert words[3:5] == ["--eol", "CR"]
