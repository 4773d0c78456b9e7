"""The console end to end: a real `atwifi serve --tcp` process and a host on 127.0.0.1.

The ``served`` fixture hands over a module that has joined the default world. Bytes arrive
through the TCP transport's callbacks, so these also run the console's fast path
(commands answered inside the callback) and its hand-over to the console task."""

from __future__ import annotations

import asyncio
import re
import signal

from coreutil import needs_serve

from harness import ServedModule, spawn_serve, stop_serve

pytestmark = needs_serve

OK = b"AT-S.OK\r\n"
BOOT = (
    b"+WIND:1:Poweron:171117-0328fe3-SPWF04S\r\n"
    b"+WIND:13:Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved:SPWF04SA\r\n"
    b"+WIND:0:Console active\r\n"
    b"+WIND:32:WiFi Hardware Started\r\n"
)


_WIND_LINE = re.compile(rb"\+WIND:[^\r\n]*\r\n")


def no_winds(data: bytes) -> bytes:
    """The radio joins its network after boot; its WINDs come between replies (never inside
    one), so removing whole WIND lines leaves the replies exactly."""
    return _WIND_LINE.sub(b"", data)


async def cmd(served, line: str) -> bytes:
    return no_winds(await served.cmd(line))


async def reply(served) -> bytes:
    return no_winds(await served.reply())


async def test_boot_winds_reach_a_host_that_connects_after_boot(tmp_path):
    proc, port = await asyncio.to_thread(spawn_serve, tmp_path / "state")
    m = ServedModule(proc, port)
    try:
        await m.connect()
        out = await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
        assert out == BOOT
    finally:
        await m.disconnect()
        await asyncio.to_thread(stop_serve, proc)


async def test_echo_then_quiet(served):
    assert await cmd(served, "AT") == b"AT\r\n" + OK
    assert await cmd(served, "at+s.gcfg=console_echo") == (
        b"at+s.gcfg=console_echo\r\nAT-S.Var:console_echo=1\r\n" + OK
    )
    assert await cmd(served, "AT+S.SCFG=console_echo,0") == b"AT+S.SCFG=console_echo,0\r\n" + OK
    assert await cmd(served, "AT") == OK


async def test_pipelined_in_one_write_and_byte_by_byte(served):
    assert (await cmd(served, "AT+S.SCFG=console_echo,0")).endswith(OK)
    await served.send(b"AT\rAT+S.STS=fw_version\r\nAT+S.NOPE\nAT\r")
    assert await reply(served) == OK
    assert await reply(served) == b"AT-S.Var:fw_version=1.1.0\r\n" + OK
    assert await reply(served) == b"AT-S.ERROR:1:Command not found\r\n"
    assert await reply(served) == OK
    for byte in b"AT+S.GCFG=console_errs\r":
        await served.send(bytes([byte]))
    assert await reply(served) == b"AT-S.Var:console_errs=2\r\n" + OK


async def test_data_block_split_across_writes_keeps_the_stream_in_step(served):
    assert (await cmd(served, "AT+S.SCFG=console_echo,0")).endswith(OK)
    await served.send(b"AT+S.FSC=" + b"n" * 65 + b",12\rAT+S.")
    await served.send(b"RESET\r")
    await served.send(b"\nAT\r")
    assert await reply(served) == b"AT-S.ERROR:32:Argument exceeds allowed size\r\n"
    assert await reply(served) == OK


async def test_a_flood_without_terminator_then_a_command(served):
    assert (await cmd(served, "AT+S.SCFG=console_echo,0")).endswith(OK)
    chunk = b"x" * 65536
    for _ in range(32):  # 2 MiB
        await served.send(chunk)
    await served.send(b"\rAT\r")
    assert await reply(served) == b"AT-S.ERROR:32:Argument exceeds allowed size\r\n"
    assert await reply(served) == OK


async def test_reset_over_tcp(served):
    await served.send(b"AT+S.RESET\r")
    out = await served.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    boot = out.index(b"+WIND:1:Poweron:")
    assert out[boot:] == BOOT
    assert no_winds(out[:boot]) == b"AT+S.RESET\r\n" + OK
    assert await cmd(served, "AT+S.STS=reset_reason") == (
        b"AT+S.STS=reset_reason\r\nAT-S.Var:reset_reason=2\r\n" + OK
    )


async def test_sigterm_ends_the_process_cleanly(served):
    served.proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(served.proc.wait, 10) == 0
