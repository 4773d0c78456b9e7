"""SOCKR returns what has arrived: bytes the peer sent that already wait in the host's kernel
for the module's socket are read, even when the module's event loop has not run since (it was
busy with the console's burst), never past the socket's buffer, and without a stale WIND:55
for bytes the host has just read."""

from __future__ import annotations

import asyncio
import select
import socket

from sock_wire import sockr

OK = b"AT-S.OK\r\n"


async def open_pair(m) -> tuple[socket.socket, socket.socket]:
    """A module socket (id 0) and the peer's end of it, a blocking socket."""
    lsock = socket.create_server(("127.0.0.1", 0))
    lsock.setblocking(False)
    port = lsock.getsockname()[1]
    loop = asyncio.get_running_loop()
    accept = loop.create_task(loop.sock_accept(lsock))
    assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == b"AT-S.On:127.0.0.1:0\r\n" + OK
    peer, _ = await accept
    lsock.close()
    peer.setblocking(True)
    module_side = m.device.sockets.clients[0].transport.get_extra_info("socket")
    return peer, module_side


def send_then_read(m, peer: socket.socket, module_side, data: bytes, line: bytes) -> None:
    """In one loop callback: the peer sends, the bytes reach the module's socket in the
    kernel, then the host's line is fed (the loop runs nothing in between)."""

    def now() -> None:
        peer.sendall(data)
        select.select([module_side.fileno()], [], [], 5)
        m.device.feed(line)

    asyncio.get_running_loop().call_soon(now)


async def test_sockr_returns_bytes_the_loop_has_not_read_yet(quiet_module):
    m = quiet_module
    peer, module_side = await open_pair(m)
    with peer:
        send_then_read(m, peer, module_side, b"q" * 100, b"AT+S.SOCKR=0\r")
        assert await m.read_exactly(len(b"AT-S.Reading:100:100\r\n") + 100 + len(OK)) == (
            b"AT-S.Reading:100:100\r\n" + b"q" * 100 + OK
        )
        # No WIND:55 for what was just read: the next reply comes alone.
        assert await m.cmd("AT") == OK
        assert await m.cmd("AT+S.SOCKQ=0") == b"AT-S.Query:0\r\nAT-S.OK\r\n"


async def test_never_past_the_buffer_and_nothing_lost(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=ip_sock_memsize,1") == OK  # 1500 bytes
    peer, module_side = await open_pair(m)
    payload = bytes(range(256)) * 20  # 5120 bytes
    with peer:
        send_then_read(m, peer, module_side, payload, b"AT+S.SOCKR=0\r")
        got = bytearray()
        first = await m.read_until(b"\r\n")
        n = int(first.split(b":")[1])
        assert 0 < n <= 1500, first
        got += await m.read_exactly(n)
        assert await m.read_exactly(len(OK)) == OK
        while len(got) < len(payload):
            data, _, _ = await sockr(m, "AT+S.SOCKR=0")
            assert len(data) <= 1500
            got += data
        assert bytes(got) == payload


async def test_a_close_that_arrived_with_the_data_follows_the_reply(quiet_module):
    m = quiet_module
    peer, module_side = await open_pair(m)

    def now() -> None:
        peer.sendall(b"last words")
        peer.close()
        select.select([module_side.fileno()], [], [], 5)
        m.device.feed(b"AT+S.SOCKR=0\r")

    asyncio.get_running_loop().call_soon(now)
    want = b"AT-S.Reading:10:10\r\nlast wordsAT-S.OK\r\n"
    assert await m.read_exactly(len(want)) == want
    await m.read_until(b"+WIND:58:Socket Closed:0:0\r\n")


async def test_a_read_sends_what_the_host_wrote_before_it(quiet_module):
    """SOCKWs, then SOCKR, in one burst: by the time the SOCKR is answered the written bytes
    have left for the peer (not a loop turn later), so an echo can start at once."""
    m = quiet_module
    peer, module_side = await open_pair(m)
    seen: list[bytes] = []

    def now() -> None:
        m.device.feed(b"AT+S.SOCKW=0,5\rhelloAT+S.SOCKW=0,5\rworldAT+S.SOCKR=0\r")
        peer.settimeout(5)
        got = b""
        while len(got) < 10:  # the loop cannot run here: only sent bytes can arrive
            got += peer.recv(64)
        seen.append(got)

    with peer:
        asyncio.get_running_loop().call_soon(now)
        want = OK * 2 + b"AT-S.Reading:0:0\r\n" + OK
        assert await m.read_exactly(len(want)) == want
        assert seen == [b"helloworld"]
