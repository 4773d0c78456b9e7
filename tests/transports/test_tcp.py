"""TcpTransport: a host connects with a plain TCP socket."""

from __future__ import annotations

import asyncio
import os

import pytest
from transport_helpers import SAFETY, Echo, Notes

from atwifi.transports.base import BACKLOG_LIMIT
from atwifi.transports.tcp import TcpTransport


@pytest.fixture
async def tcp():
    t = TcpTransport("127.0.0.1", 0)
    echo = Echo(t)
    notes = Notes(t)
    await t.start(echo.feed)
    yield t, echo, notes
    await t.close()


async def _connect(t: TcpTransport):
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", t.port), SAFETY)


async def _read(reader: asyncio.StreamReader, n: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(n), SAFETY)


async def test_port_zero_and_describe(tcp) -> None:
    t, _, _ = tcp
    assert t.port > 0
    assert f"127.0.0.1:{t.port}" in t.describe()


async def test_echo_all_byte_values(tcp) -> None:
    t, echo, _ = tcp
    reader, writer = await _connect(t)
    data = bytes(range(256)) * 4 + b"AT+S.STS\r"
    writer.write(data)
    assert await _read(reader, len(data)) == data.upper()
    assert await echo.wait_for(len(data)) == data
    writer.close()


async def test_boot_output_waits_for_the_first_host(tcp) -> None:
    t, _, _ = tcp
    boot = b"\r\n+WIND:0:Console active\r\n+WIND:32:WiFi Hardware Started\r\n"
    t.write(boot)
    await t.drain()  # no host: returns at once
    reader, writer = await _connect(t)
    assert await _read(reader, len(boot)) == boot
    writer.write(b"at\r")
    assert await _read(reader, 3) == b"AT\r"
    writer.close()


async def test_backlog_keeps_the_newest_64k(tcp) -> None:
    t, _, notes = tcp
    data = os.urandom(200 * 1024)
    for i in range(0, len(data), 1000):
        t.write(data[i : i + 1000])
        await t.drain()
    reader, writer = await _connect(t)
    assert await _read(reader, BACKLOG_LIMIT) == data[-BACKLOG_LIMIT:]
    t.write(b"!")  # nothing else came before this marker
    assert await _read(reader, 1) == b"!"
    assert await notes.wait_for(f"dropped {len(data) - BACKLOG_LIMIT} bytes: no host")
    writer.close()


async def test_disconnect_and_reconnect(tcp) -> None:
    t, _, notes = tcp
    for i in range(3):
        reader, writer = await _connect(t)
        msg = f"round {i}\r".encode()
        writer.write(msg)
        assert await _read(reader, len(msg)) == msg.upper()
        writer.close()
        await writer.wait_closed()
        await notes.wait_for("disconnected", count=i + 1)
    t.write(b"+WIND:75:while away\r\n")  # no host: kept for the next one
    reader, writer = await _connect(t)
    assert await _read(reader, 21) == b"+WIND:75:while away\r\n"
    writer.close()


async def test_new_connection_replaces_the_old(tcp) -> None:
    t, echo, notes = tcp
    r1, w1 = await _connect(t)
    w1.write(b"one\r")
    assert await _read(r1, 4) == b"ONE\r"
    r2, w2 = await _connect(t)
    assert await asyncio.wait_for(r1.read(), SAFETY) == b""  # the old host is closed
    await notes.wait_for("replaced by")
    w2.write(b"two\r")
    assert await _read(r2, 4) == b"TWO\r"
    assert await echo.wait_for(8) == b"one\rtwo\r"
    w1.close()
    w2.close()


async def test_host_reset_does_not_wedge_the_module(tcp) -> None:
    t, _, notes = tcp
    reader, writer = await _connect(t)
    writer.write(b"x")
    assert await _read(reader, 1) == b"X"
    writer.transport.abort()  # RST, no goodbye
    await notes.wait_for("disconnected")
    for _ in range(100):
        t.write(b"y" * 1024)
        await t.drain()
    reader, writer = await _connect(t)
    assert await _read(reader, BACKLOG_LIMIT) == b"y" * BACKLOG_LIMIT
    writer.write(b"z")
    assert await _read(reader, 1) == b"Z"
    writer.close()


async def test_host_that_stops_reading_blocks_only_drain(tcp) -> None:
    """drain() waits on a connected host that reads nothing (the module is back-pressured),
    and is released when that host goes away."""
    t, _, notes = tcp
    reader, writer = await _connect(t)
    await notes.wait_for("host connected")
    while not t.backpressured:
        t.write(b"z" * 65536)
    drained = asyncio.ensure_future(t.drain())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not drained.done()
    writer.transport.abort()
    await asyncio.wait_for(drained, SAFETY)
