"""+WIND:55 Pending Data follows the data: one per arrival with the unread total, a reminder
after a partial read, never held back by a mask, "received" never above "unread"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sock_wire import sockr

OK = b"AT-S.OK\r\n"
MASK_55 = "0x00800000"  # console_wind_off_medium: WIND 55 is medium bit 23


class Peer:
    """A TCP server the test writes through, one segment at a time."""

    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.connected.set()
        await reader.read()

    async def send(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)
        await self.writer.drain()


async def until_unread(m, n: int) -> None:
    """Poll SOCKQ as a host without indications does, until ``n`` bytes wait."""
    want = f"AT-S.Query:{n}\r\n".encode() + OK
    for _ in range(10_000):
        if await m.cmd("AT+S.SOCKQ=0") == want:
            return
    raise AssertionError(f"never {n} bytes unread")


@pytest.fixture
async def linked(quiet_module) -> AsyncIterator[tuple[object, Peer]]:
    m = quiet_module
    peer = Peer()
    srv = await asyncio.start_server(peer.serve, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        out = await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        assert out == b"AT-S.On:127.0.0.1:0\r\n" + OK
        await peer.connected.wait()
        yield m, peer
        if peer.writer is not None:
            peer.writer.close()


async def test_one_wind_per_arrival_with_the_unread_total(linked) -> None:
    m, peer = linked
    for total in (10, 20, 30):
        await peer.send(b"x" * 10)
        line = await m.read_until(b"\r\n")
        assert line == f"+WIND:55:Pending Data::0:10:{total}\r\n".encode()
    data, unread, _ = await sockr(m, "AT+S.SOCKR=0")
    assert (len(data), unread) == (30, 30)


async def test_a_partial_read_reminds_what_is_left(linked) -> None:
    m, peer = linked
    await peer.send(b"a" * 30)
    assert await m.read_until(b"\r\n") == b"+WIND:55:Pending Data::0:30:30\r\n"
    data, unread, _ = await sockr(m, "AT+S.SOCKR=0,10")
    assert (data, unread) == (b"a" * 10, 30)
    # After the reply, not inside it: nothing new arrived, 20 bytes wait.
    assert await m.read_until(b"\r\n") == b"+WIND:55:Pending Data::0:0:20\r\n"
    data, unread, _ = await sockr(m, "AT+S.SOCKR=0")
    assert (data, unread) == (b"a" * 20, 20)
    assert await m.cmd("AT+S.SOCKQ=0") == b"AT-S.Query:0\r\n" + OK
    assert b"+WIND:55" not in m.take()  # a full read leaves nothing to remind of


async def test_a_masked_wind_does_not_hold_back_the_next(linked) -> None:
    m, peer = linked
    assert await m.cmd(f"AT+S.SCFG=console_wind_off_medium,{MASK_55}") == OK
    await peer.send(b"m" * 10)
    await until_unread(m, 10)  # arrived, unannounced
    assert await m.cmd("AT+S.SCFG=console_wind_off_medium,0") == OK
    await peer.send(b"n" * 5)
    assert await m.read_until(b"\r\n") == b"+WIND:55:Pending Data::0:5:15\r\n"


async def test_received_never_exceeds_unread_after_reads_below_the_threshold(linked) -> None:
    m, peer = linked
    # memsize 1 = 1500 bytes, threshold 50 %: WIND 55 from 750 unread bytes on.
    assert await m.cmd("AT+S.SCFG=ip_sock_threshold,50") == OK
    await peer.send(b"q" * 500)
    await until_unread(m, 500)
    data, _, _ = await sockr(m, "AT+S.SOCKR=0")  # the host polls and reads it all
    assert len(data) == 500
    await peer.send(b"r" * 800)
    line = await m.read_until(b"\r\n")
    assert line == b"+WIND:55:Pending Data::0:800:800\r\n"
