"""A burst of the same data command (a driver streaming SOCKWs of 730 bytes): the UART framing
hands the identical lines that follow a command in one Request (``repeats``), and the dialect
carries out each one as a command of its own. Through the bytes a host sends, nothing tells
the two apart: a reply for each, in order, every byte to the peer in order, each error where
it belongs. Both ways of feeding are covered: from a transport callback (the eager path) and
from a task (the console task)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sock_wire import sockr

from atwifi.framings import uart
from harness import InProcessModule

OK = b"AT-S.OK\r\n"
BAD_ID = b"AT-S.ERROR:76:Illegal Socket ID\r\n"


class CallbackFedModule(InProcessModule):
    """Bytes reach the device from a loop callback, as from a transport's data_received."""

    def send(self, data: bytes) -> None:
        asyncio.get_running_loop().call_soon(self.device.feed, data)


@pytest.fixture(params=["callback", "task"])
async def m(request, tmp_path: Path) -> AsyncIterator[InProcessModule]:
    cls = CallbackFedModule if request.param == "callback" else InProcessModule
    mod = cls(tmp_path / "state")
    await mod.boot()
    assert await mod.cmd("AT+S.SCFG=console_echo,0", echo=True) == OK
    # WIND:55 off: the replies alone are on the console (a driver polling with SOCKR).
    assert await mod.cmd("AT+S.SCFG=console_wind_off_medium,0x00800000") == OK
    yield mod
    await mod.device.shutdown()


class Sink:
    """A TCP peer that keeps what it receives."""

    def __init__(self) -> None:
        self.got = bytearray()
        self.more = asyncio.Event()
        self.transport: asyncio.Transport | None = None

    async def start(self) -> tuple[asyncio.Server, int]:
        sink = self

        class P(asyncio.Protocol):
            def connection_made(self, transport):  # type: ignore[no-untyped-def]
                sink.transport = transport

            def data_received(self, data: bytes) -> None:
                sink.got += data
                sink.more.set()

        srv = await asyncio.get_running_loop().create_server(P, "127.0.0.1", 0)
        return srv, srv.sockets[0].getsockname()[1]

    async def until(self, n: int) -> bytes:
        while len(self.got) < n:
            self.more.clear()
            await asyncio.wait_for(self.more.wait(), 20)
        return bytes(self.got)


def burst(blocks: list[bytes], sid: int = 0) -> bytes:
    return b"".join(b"AT+S.SOCKW=%d,%d\r" % (sid, len(b)) + b for b in blocks)


async def test_a_burst_of_sockws_is_a_reply_each_and_every_byte_in_order(m):
    sink = Sink()
    srv, port = await sink.start()
    async with srv:
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == b"AT-S.On:127.0.0.1:0\r\n" + OK
        # More than one Request carries (MAX_REPEATS), data that looks like the command
        # line itself, CR and LF in the data.
        n = uart.MAX_REPEATS * 2 + 7
        header = b"AT+S.SOCKW=0,30\r"
        blocks = [(header + b"%04d\r\n" % i + b"\n" * 10)[:30] for i in range(n)]
        assert all(len(b) == 30 for b in blocks)
        m.send(burst(blocks) + b"AT\r")
        assert await m.read_exactly(len(OK) * (n + 1)) == OK * (n + 1)
        assert await sink.until(30 * n) == b"".join(blocks)


async def test_lines_that_differ_break_the_run_and_keep_their_order(m):
    sink = Sink()
    srv, port = await sink.start()
    async with srv:
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(OK)
        blocks = [b"a" * 10] * 3 + [b"b" * 7] + [b"c" * 10] * 3 + [b"d" * 10]
        m.send(burst(blocks) + b"AT+S.SOCKW=9,10\r" + b"e" * 10 + burst([b"f" * 10] * 2))
        replies = OK * len(blocks) + BAD_ID + OK * 2
        assert await m.read_exactly(len(replies)) == replies
        assert await sink.until(75) == b"".join(blocks) + b"f" * 20


async def test_a_burst_to_a_socket_that_does_not_exist_is_an_error_each(m):
    n = 40
    m.send(burst([b"x" * 12] * n, sid=7) + b"AT\r")
    assert await m.read_exactly(len(BAD_ID) * n + len(OK)) == BAD_ID * n + OK


async def test_a_burst_to_a_closed_peer_is_an_error_each_and_the_console_stays_in_step(m):
    sink = Sink()
    srv, port = await sink.start()
    async with srv:
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(OK)
        await asyncio.sleep(0)
        assert sink.transport is not None
        sink.transport.close()
        await m.read_until(b"+WIND:58:Socket Closed:0:0\r\n")
        n = 25
        m.send(burst([b"AT\r" * 4] * n) + b"AT\r")
        reply = await m.read_until(b"AT-S.OK\r\n")
        errors = reply[: -len(OK)].split(b"\r\n")[:-1]
        assert len(errors) == n and all(e.startswith(b"AT-S.ERROR:") for e in errors), reply


async def test_an_incomplete_last_command_waits_for_its_data(m):
    sink = Sink()
    srv, port = await sink.start()
    async with srv:
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(OK)
        blocks = [bytes([i]) * 50 for i in range(10)]
        data = burst(blocks)
        m.send(data[:-20])
        assert await m.read_exactly(len(OK) * 9) == OK * 9
        assert m.device.runtime.framing.awaiting_data  # the tenth has 30 of its 50 bytes
        assert m.take() == b""
        m.send(data[-20:] + b"AT\r")
        assert await m.read_exactly(len(OK) * 2) == OK * 2
        assert await sink.until(500) == b"".join(blocks)


async def test_with_echo_each_line_is_echoed_before_its_own_reply(m):
    sink = Sink()
    srv, port = await sink.start()
    async with srv:
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(OK)
        assert await m.cmd("AT+S.SCFG=console_echo,1", echo=False) == OK
        m.send(burst([b"z" * 20] * 5))
        want = (b"AT+S.SOCKW=0,20\r\n" + OK) * 5
        assert await m.read_exactly(len(want)) == want
        assert await sink.until(100) == b"z" * 100


async def test_a_burst_of_udp_writes_is_a_datagram_each(m):
    loop = asyncio.get_running_loop()
    got: asyncio.Queue[bytes] = asyncio.Queue()

    class P(asyncio.DatagramProtocol):
        def datagram_received(self, data, addr):  # type: ignore[no-untyped-def]
            got.put_nowait(data)

    t, _ = await loop.create_datagram_endpoint(P, local_addr=("127.0.0.1", 0))
    port = t.get_extra_info("sockname")[1]
    try:
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,u")).endswith(OK)
        blocks = [b"%03d" % i + b"." * 97 for i in range(30)]
        m.send(burst(blocks))
        assert await m.read_exactly(len(OK) * 30) == OK * 30
        received = [await asyncio.wait_for(got.get(), 5) for _ in blocks]
        assert sorted(received) == blocks  # one datagram per SOCKW, none merged
    finally:
        t.close()


async def test_a_burst_that_fills_the_send_buffer_goes_on_once_the_peer_reads(m):
    """The send buffer fills in the middle of the burst: the commands before have their OK,
    the rest wait (none answered early, none lost), and go on in order once the peer reads."""
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[asyncio.Transport] = loop.create_future()
    got = bytearray()
    done = asyncio.Event()
    n, size = 400, 1000

    class Peer(asyncio.Protocol):
        def connection_made(self, transport):  # type: ignore[no-untyped-def]
            transport.pause_reading()
            accepted.set_result(transport)

        def data_received(self, data: bytes) -> None:
            got.extend(data)
            if len(got) >= n * size:
                done.set()

    srv = await loop.create_server(Peer, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(OK)
        peer = await accepted
        conn = m.device.sockets.clients[0]
        conn.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
        )
        conn.transport.set_write_buffer_limits(high=4096)
        blocks = [bytes([i % 256]) * size for i in range(n)]
        m.send(burst(blocks) + b"AT\r")
        await asyncio.sleep(0.05)
        early = m.take()
        assert early == OK * (len(early) // len(OK)) and len(early) < len(OK) * n
        peer.resume_reading()
        rest = len(OK) * (n + 1) - len(early)
        assert await m.read_exactly(rest) == OK * (rest // len(OK))
        await asyncio.wait_for(done.wait(), 20)
        assert bytes(got) == b"".join(blocks)


async def test_console_verbose_2_gives_each_ok_its_facts(m):
    sink = Sink()
    srv, port = await sink.start()
    async with srv:
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(OK)
        assert (await m.cmd("AT+S.SCFG=console_verbose,2")).startswith(b"AT-S.OK:")
        m.send(burst([b"v" * 8] * 6) + b"AT\r")
        lines = [await m.read_until(b"\r\n") for _ in range(7)]
        assert all(re.fullmatch(rb"AT-S\.OK:\d+:\d+\r\n", ln) for ln in lines), lines


async def test_the_reads_after_a_burst_see_every_byte(m):
    """The burst, then SOCKR: the echo of every block comes back."""
    from sock_wire import echo_server

    srv, port = await echo_server()
    async with srv:
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(OK)
        blocks = [bytes([65 + i % 26]) * 73 for i in range(60)]
        m.send(burst(blocks))
        assert await m.read_exactly(len(OK) * 60) == OK * 60
        back = bytearray()
        while len(back) < 73 * 60:
            data, _, _ = await sockr(m, "AT+S.SOCKR=0")
            back += data
        assert bytes(back) == b"".join(blocks)
