"""The socket service against real peers on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import pytest
from sock_helpers import Recorder, echo_server

from atwifi.services.errors import ServiceError
from atwifi.services.sockets import FIN, RST, Refusal, Sockets
from harness import spwf04_number


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
async def socks(rec):
    s = Sockets(rec, capacity=lambda: 1500)
    yield s
    s.close_all()


def err(e: pytest.ExceptionInfo) -> int:
    return spwf04_number(e.value)


async def read_exactly(socks: Sockets, rec: Recorder, cid: int, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        if not socks.unread(cid):
            before = len(rec.of("pending"))
            await rec.wait("pending", before + 1)
        data, _ = socks.read(cid, 0)
        out += data
    return bytes(out)


async def test_tcp_echo_and_wind55(socks, rec):
    srv, port = await echo_server()
    async with srv:
        ip, cid = await socks.open("127.0.0.1", port, "t")
        assert (ip, cid) == ("127.0.0.1", 0)
        await socks.write(cid, b"hello")
        ev = await rec.wait("pending")
        assert ev[1:3] == (None, 0)
        assert await read_exactly(socks, rec, cid, 5) == b"hello"
        socks.close(cid)
        assert socks.clients == {}


async def test_localhost_and_bad_host(socks):
    srv, port = await echo_server()
    async with srv:
        ip, _ = await socks.open("localhost", port, "t")
        assert ip == "127.0.0.1"
        with pytest.raises(ServiceError) as e:
            await socks.open("no-such-host.invalid", port, "t")
        assert err(e) == 65


async def test_refused_is_74(socks):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(ServiceError) as e:
        await socks.open("127.0.0.1", port, "t")
    assert err(e) == 74
    assert socks.clients == {}


async def test_connect_timeout_is_74(rec):
    # A listener with a full backlog never completes the handshake: connect hangs.
    socks = Sockets(rec, connect_timeout=0.3)
    # 192.0.2.0/24 is TEST-NET and must not be used (loopback only): use a listener that
    # never accepts, with the backlog filled by raw sockets.
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            f = socket.socket()
            f.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                f.connect(("127.0.0.1", port))
            fillers.append(f)
        with pytest.raises(ServiceError) as e:
            await socks.open("127.0.0.1", port, "t")
        assert err(e) == 74
    finally:
        for f in fillers:
            f.close()
        lst.close()
        socks.close_all()


async def test_too_many_and_bad_id(socks):
    srv, port = await echo_server()
    async with srv:
        for i in range(8):
            assert (await socks.open("127.0.0.1", port, "t"))[1] == i
        with pytest.raises(ServiceError) as e:
            await socks.open("127.0.0.1", port, "t")
        assert err(e) == 75
        socks.close(3)
        assert (await socks.open("127.0.0.1", port, "t"))[1] == 3
        for bad in (8, 9, -1):
            with pytest.raises(ServiceError) as e:
                socks.unread(bad)
            assert err(e) == 76


async def test_peer_close_keeps_data_and_pending_77(socks, rec):
    async def handle(r, w):
        w.write(b"bye" * 10)
        await w.drain()
        w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        _, cid = await socks.open("127.0.0.1", port, "t")
        ev = await rec.wait("closed")
        assert ev == ("closed", cid, FIN)
        assert socks.unread(cid) == 30
        with pytest.raises(ServiceError) as e:
            await socks.write(cid, b"x")
        assert err(e) == 78
        with pytest.raises(ServiceError) as e:
            socks.close(cid)
        assert err(e) == 77
        data, avail = socks.read(cid, 10)
        assert (data, avail) == (b"byebyebye" + b"b", 30)
        data, avail = socks.read(cid)
        assert avail == 20 and len(data) == 20
        with pytest.raises(ServiceError) as e:
            socks.read(cid)
        assert err(e) == 72
        socks.close(cid)


async def test_flow_control_bounds_memory_and_loses_nothing(socks, rec):
    """A peer sending 4 MB as fast as it can: the module never holds more than 1500 bytes
    unread, and every byte arrives in order."""
    payload = os.urandom(4 * 1024 * 1024)
    done = asyncio.Event()

    async def handle(r, w):
        w.write(payload)
        await w.drain()
        w.close()
        done.set()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        _, cid = await socks.open("127.0.0.1", port, "t")
        conn = socks.clients[cid]
        out = bytearray()
        maxbuf = 0
        while len(out) < len(payload):
            if not conn.buf:
                await rec.wait("pending", len(rec.of("pending")) + 1)
            maxbuf = max(maxbuf, len(conn.buf))
            out += socks.read(cid, 730)[0]
        assert maxbuf <= 1500
        assert out == payload
        await asyncio.wait_for(done.wait(), 10)


async def test_threshold(rec):
    socks = Sockets(rec, capacity=lambda: 1000, threshold=lambda: 50)
    srv, port = await echo_server()
    async with srv:
        _, cid = await socks.open("127.0.0.1", port, "t")
        await socks.write(cid, b"a" * 100)
        await socks.write(cid, b"b" * 500)
        ev = await rec.wait("pending")
        assert ev[4] >= 500  # no WIND:55 before 50 % of the buffer is used
        socks.close_all()


async def test_udp_client_and_drop(socks, rec):
    loop = asyncio.get_running_loop()
    got: asyncio.Queue[tuple[bytes, tuple]] = asyncio.Queue()

    class P(asyncio.DatagramProtocol):
        def connection_made(self, t):
            self.t = t

        def datagram_received(self, data, addr):
            got.put_nowait((data, addr))

    t, p = await loop.create_datagram_endpoint(P, local_addr=("127.0.0.1", 0))
    port = t.get_extra_info("sockname")[1]
    try:
        _, cid = await socks.open("127.0.0.1", port, "u")
        await socks.write(cid, b"ping")
        data, addr = await asyncio.wait_for(got.get(), 5)
        assert data == b"ping"
        with pytest.raises(ServiceError) as e:
            await socks.write(cid, b"z" * 70000)
        assert err(e) == 79
        t.sendto(b"x" * 1000, addr)
        t.sendto(b"y" * 1000, addr)  # does not fit in 1500: dropped, WIND:63
        t.sendto(b"z" * 400, addr)
        ev = await rec.wait("dropping")
        assert ev == ("dropping", None, cid, 1000)
        await rec.wait("pending", 2)
        assert [e[3] for e in rec.of("pending")] == [1000, 400]
        assert socks.read(cid)[0] == b"x" * 1000 + b"z" * 400
    finally:
        t.close()


async def test_tcp_server(socks, rec):
    sid = await socks.open_server(0, "t")
    srv = socks.servers[sid]
    r, w = await asyncio.open_connection("127.0.0.1", srv.host_port)
    ev = await rec.wait("incoming")
    assert ev[3:] == (sid, 0)
    w.write(b"abc")
    await rec.wait("pending")
    assert srv.read(0, 0) == (b"abc", 3)
    await srv.client(0).write(b"xyz")
    assert await r.readexactly(3) == b"xyz"
    w.write(b"left")
    await rec.wait("pending", 2)
    w.close()
    ev = await rec.wait("gone")
    assert ev[3:] == (sid, 0, FIN)
    with pytest.raises(ServiceError) as e:
        socks.close_server(sid)
    assert err(e) == 77
    assert srv.read(0, 0)[0] == b"left"
    assert srv.clients == {}  # gone and drained: freed
    socks.close_server(sid)
    assert socks.servers == {}


async def test_server_errors(socks, rec):
    sid = await socks.open_server(0, "t")
    port = socks.servers[sid].port
    with pytest.raises(ServiceError) as e:
        await socks.open_server(port, "t")
    assert err(e) == 73
    await socks.open_server(0, "u")
    with pytest.raises(ServiceError) as e:
        await socks.open_server(0, "t")
    assert err(e) == 75
    with pytest.raises(ServiceError) as e:
        socks.server(5)
    assert err(e) == 76
    with pytest.raises(ServiceError) as e:
        socks.servers[sid].client(3)
    assert err(e) == 78


async def test_port_map(rec):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    host_port = s.getsockname()[1]
    s.close()
    socks = Sockets(rec, port_map={80: host_port})
    sid = await socks.open_server(80, "t")
    assert socks.servers[sid].port == 80 and socks.servers[sid].host_port == host_port
    r, w = await asyncio.open_connection("127.0.0.1", host_port)
    await rec.wait("incoming")
    w.close()
    socks.close_all()


async def test_server_nine_clients_refused(socks, rec):
    sid = await socks.open_server(0, "t")
    port = socks.servers[sid].host_port
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(9)]
    await rec.wait("incoming", 8)
    ev = await rec.wait("refused")
    assert ev == ("refused", Refusal.NO_MEMORY)
    for _, w in conns:
        w.close()


async def test_udp_server(socks, rec):
    sid = await socks.open_server(0, "u")
    port = socks.servers[sid].host_port
    loop = asyncio.get_running_loop()
    got: asyncio.Queue[bytes] = asyncio.Queue()

    class P(asyncio.DatagramProtocol):
        def datagram_received(self, data, addr):
            got.put_nowait(data)

    t, _ = await loop.create_datagram_endpoint(P, remote_addr=("127.0.0.1", port))
    try:
        t.sendto(b"hello")
        ev = await rec.wait("incoming")
        cid = ev[4]
        ev = await rec.wait("pending")
        assert socks.servers[sid].read(cid, 0)[0] == b"hello"
        await socks.servers[sid].client(cid).write(b"back")
        assert await asyncio.wait_for(got.get(), 5) == b"back"
        assert rec.of("broadcast") == []
    finally:
        t.close()


async def test_big_transfer_both_ways(socks, rec):
    """10 MB each way through an echo peer, byte-exact, in 730-byte writes."""
    srv, port = await echo_server()
    payload = os.urandom(10 * 1024 * 1024)
    socks.capacity = lambda: 64 * 1500
    async with srv:
        _, cid = await socks.open("127.0.0.1", port, "t")
        conn = socks.clients[cid]
        out = bytearray()
        view = memoryview(payload)
        sent = 0
        while len(out) < len(payload):
            # A host that keeps writing without reading would stall the echo (and get 79):
            # keep at most 256 kB in flight, as a real driver reading on WIND:55 does.
            if sent < len(payload) and sent - len(out) < 256 * 1024:
                await socks.write(cid, bytes(view[sent : sent + 730 * 16]))
                sent = min(len(payload), sent + 730 * 16)
            if conn.buf:
                out += socks.read(cid)[0]
            else:
                await rec.wait("pending", len(rec.of("pending")) + 1)
        assert out == payload


async def test_peer_reset_is_reason_1(socks, rec):
    import struct

    async def handle(r, w):
        sock = w.get_extra_info("socket")
        # SO_LINGER 0: close sends RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.transport.abort()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        _, cid = await socks.open("127.0.0.1", port, "t")
        ev = await rec.wait("closed")
        assert ev == ("closed", cid, RST)
