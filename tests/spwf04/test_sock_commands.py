"""Socket commands through the module's console bytes, against real loopback peers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

from sock_wire import echo_server, line, sockr, wind55


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def test_tcp_client_round_trip(quiet_module):
    m = quiet_module
    srv, port = await echo_server()
    async with srv:
        assert (
            await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == b"AT-S.On:127.0.0.1:0\r\nAT-S.OK\r\n"
        )
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},NULL,t") == (
            b"AT-S.On:127.0.0.1:1\r\nAT-S.OK\r\n"
        )
        payload = bytes(range(256)) * 2 + b"\r\nAT-S.OK\r\n\x1b"
        assert await m.cmd(f"AT+S.SOCKW=0,{len(payload)}", payload) == b"AT-S.OK\r\n"
        assert await wind55(m) == ("", 0, len(payload), len(payload))
        assert await m.cmd("AT+S.SOCKQ=0") == f"AT-S.Query:{len(payload)}\r\nAT-S.OK\r\n".encode()
        data, avail, _ = await sockr(m, "AT+S.SOCKR=0,100")
        assert data == payload[:100] and avail == len(payload)
        data, avail, _ = await sockr(m, "at+s.sockr=0,")
        assert data == payload[100:] and avail == len(payload) - 100
        listing = await m.cmd("AT+S.SOCKL")
        assert (
            listing
            == (
                f"AT-S.List::0:1:t:0:127.0.0.1:{port}\r\n"
                f"AT-S.List::1:1:t:0:127.0.0.1:{port}\r\nAT-S.OK\r\n"
            ).encode()
        )
        assert await m.cmd("AT+S.SOCKC=0") == b"AT-S.OK\r\n"
        assert await m.cmd("AT+S.SOCKC=1") == b"AT-S.OK\r\n"
        assert await m.cmd("AT+S.SOCKL") == b"AT-S.OK\r\n"


async def test_reading_31_31(quiet_module):
    m = quiet_module

    async def handle(r, w):
        w.write(b"x" * 31)
        await w.drain()
        await r.read()
        w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with srv:
        port = srv.sockets[0].getsockname()[1]
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        assert await wind55(m) == ("", 0, 31, 31)
        m.send(b"AT+S.SOCKR=0\r")
        assert await m.reply() == b"AT-S.Reading:31:31\r\n" + b"x" * 31 + b"AT-S.OK\r\n"


async def test_client_errors(quiet_module):
    m = quiet_module
    port = free_port()
    assert (
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        == b"AT-S.ERROR:74:Failed to open socket\r\n"
    )
    assert await m.cmd("AT+S.SOCKON=no.such.host.invalid,80,,t") == (
        b"AT-S.ERROR:65:DNS address failure\r\n"
    )
    for cmd in ("AT+S.SOCKQ=0", "AT+S.SOCKR=8", "AT+S.SOCKC=3", "AT+S.SOCKQ=-1"):
        assert await m.cmd(cmd) == b"AT-S.ERROR:76:Illegal Socket ID\r\n", cmd
    # SOCKW to a bad id still consumes its data block: the console stays in step.
    assert await m.cmd("AT+S.SOCKW=5,4", b"AT\r\n") == b"AT-S.ERROR:76:Illegal Socket ID\r\n"
    assert await m.cmd("AT") == b"AT-S.OK\r\n"
    srv, port = await echo_server()
    async with srv:
        for _i in range(8):
            assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(b"AT-S.OK\r\n")
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == (
            b"AT-S.ERROR:75:Too many sockets\r\n"
        )


async def test_peer_close_pending_data(quiet_module):
    m = quiet_module

    async def handle(r, w):
        w.write(b"last words")
        await w.drain()
        w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with srv:
        port = srv.sockets[0].getsockname()[1]
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        await m.read_until(b"+WIND:58:Socket Closed:0:0\r\n")
        assert await m.cmd("AT+S.SOCKW=0,1", b"x") == b"AT-S.ERROR:78:Socket not connected\r\n"
        assert await m.cmd("AT+S.SOCKC=0") == b"AT-S.ERROR:77:Pending data\r\n"
        assert (
            await m.cmd("AT+S.SOCKL") == b"AT-S.List::0:0:t:10:127.0.0.1:%d\r\nAT-S.OK\r\n" % port
        )
        data, _, _ = await sockr(m, "AT+S.SOCKR=0")
        assert data == b"last words"
        assert await m.cmd("AT+S.SOCKR=0") == b"AT-S.ERROR:72:Closed socket\r\n"
        assert await m.cmd("AT+S.SOCKC=0") == b"AT-S.OK\r\n"


async def test_reset_closes_sockets(quiet_module):
    m = quiet_module
    srv, port = await echo_server()
    sport = free_port()
    async with srv:
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        assert await m.cmd(f"AT+S.SOCKDON={sport},t") == b"AT-S.On:0\r\nAT-S.OK\r\n"
        r, w = await asyncio.open_connection("127.0.0.1", sport)
        await m.read_until(b"+WIND:61:")
        m.send(b"AT+S.RESET\r")
        await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
        await m.settle()
        await m.cmd("AT+S.SCFG=console_echo,0", echo=True)
        assert await m.cmd("AT+S.SOCKQ=0") == b"AT-S.ERROR:76:Illegal Socket ID\r\n"
        assert await m.cmd("AT+S.SOCKDL") == b"AT-S.OK\r\n"
        # The module's side of the connection is gone (FIN, or RST).
        with contextlib.suppress(ConnectionResetError):
            assert await r.read() == b""
        # The port is free again.
        assert await m.cmd(f"AT+S.SOCKDON={sport},t") == b"AT-S.On:0\r\nAT-S.OK\r\n"
        w.close()


async def test_udp_client(quiet_module):
    m = quiet_module
    loop = asyncio.get_running_loop()
    got: asyncio.Queue = asyncio.Queue()

    class P(asyncio.DatagramProtocol):
        def datagram_received(self, data, addr):
            got.put_nowait((data, addr))

    t, _ = await loop.create_datagram_endpoint(P, local_addr=("127.0.0.1", 0))
    port = t.get_extra_info("sockname")[1]
    try:
        assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,u")).endswith(b"AT-S.OK\r\n")
        assert await m.cmd("AT+S.SOCKW=0,5", b"hello") == b"AT-S.OK\r\n"
        data, addr = await asyncio.wait_for(got.get(), 5)
        assert data == b"hello"
        t.sendto(b"a" * 1400, addr)
        assert await wind55(m) == ("", 0, 1400, 1400)
        t.sendto(b"b" * 200, addr)  # 1600 > 1500: dropped
        await m.read_until(b"+WIND:63:Socket Dropping Data::0:200\r\n")
        data, _, _ = await sockr(m, "AT+S.SOCKR=0")
        assert data == b"a" * 1400
    finally:
        t.close()


async def test_tcp_server(quiet_module):
    m = quiet_module
    port = free_port()
    assert await m.cmd(f"AT+S.SOCKDON={port},t") == b"AT-S.On:0\r\nAT-S.OK\r\n"
    assert await m.cmd(f"AT+S.SOCKDON={port},t") == b"AT-S.ERROR:73:Port already opened\r\n"
    assert await m.cmd("AT+S.SOCKDL") == f"AT-S.List:0::0:t:0::{port}\r\nAT-S.OK\r\n".encode()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    cport = w.get_extra_info("sockname")[1]
    await m.read_until(f"+WIND:61:Incoming Socket Client:127.0.0.1:{cport}:0:0\r\n".encode())
    w.write(b"ping!")
    assert await wind55(m) == ("0", 0, 5, 5)
    assert await m.cmd("AT+S.SOCKDQ=0,0") == b"AT-S.Query:5\r\nAT-S.OK\r\n"
    data, avail, _ = await sockr(m, "AT+S.SOCKDR=0,0,")
    assert (data, avail) == (b"ping!", 5)
    assert await m.cmd("AT+S.SOCKDW=0,0,4", b"pong") == b"AT-S.OK\r\n"
    assert await r.readexactly(4) == b"pong"
    assert await m.cmd("AT+S.SOCKDL=0") == (
        f"AT-S.List:0:0:1:t:0:127.0.0.1:{cport}\r\nAT-S.OK\r\n".encode()
    )
    assert await m.cmd("AT+S.SOCKDQ=0,5") == b"AT-S.ERROR:78:Socket not connected\r\n"
    assert await m.cmd("AT+S.SOCKDQ=0,9") == b"AT-S.ERROR:76:Illegal Socket ID\r\n"
    assert await m.cmd("AT+S.SOCKDQ=1,0") == b"AT-S.ERROR:76:Illegal Socket ID\r\n"
    w.write(b"more")
    await wind55(m)
    assert await m.cmd("AT+S.SOCKDC=0,0") == b"AT-S.ERROR:77:Pending data\r\n"
    await sockr(m, "AT+S.SOCKDR=0,0")
    assert await m.cmd("AT+S.SOCKDC=0,0") == b"AT-S.OK\r\n"
    assert await r.read() == b""
    # a second client, then the peer leaves: WIND:62
    r2, w2 = await asyncio.open_connection("127.0.0.1", port)
    await m.read_until(b"+WIND:61:")
    await line(m)
    w2.close()
    await m.read_until(b"+WIND:62:Socket Client Gone:127.0.0.1:")
    assert (await line(m)).endswith(b":0:0:0\r\n")
    assert await m.cmd("AT+S.SOCKDC=0") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.SOCKDL") == b"AT-S.OK\r\n"
    w.close()


async def test_server_port_map(tmp_path):
    from harness import InProcessModule

    host_port = free_port()
    m = InProcessModule(tmp_path / "state", port_map={23: host_port})
    await m.boot()
    try:
        assert await m.cmd("AT+S.SOCKDON=23,t") == b"AT-S.On:0\r\nAT-S.OK\r\n"
        assert await m.cmd("AT+S.SOCKDL") == b"AT-S.List:0::0:t:0::23\r\nAT-S.OK\r\n"
        r, w = await asyncio.open_connection("127.0.0.1", host_port)
        await m.read_until(b"+WIND:61:Incoming Socket Client:127.0.0.1:")
        w.close()
    finally:
        await m.device.shutdown()


async def test_udp_server(quiet_module):
    m = quiet_module
    port = free_port()
    assert await m.cmd(f"AT+S.SOCKDON={port},u") == b"AT-S.On:0\r\nAT-S.OK\r\n"
    loop = asyncio.get_running_loop()
    got: asyncio.Queue = asyncio.Queue()

    class P(asyncio.DatagramProtocol):
        def datagram_received(self, data, addr):
            got.put_nowait(data)

    t, _ = await loop.create_datagram_endpoint(P, remote_addr=("127.0.0.1", port))
    try:
        cport = t.get_extra_info("sockname")[1]
        t.sendto(b"hi there")
        await m.read_until(f"+WIND:61:Incoming Socket Client:127.0.0.1:{cport}:0:0\r\n".encode())
        await m.read_until(b"+WIND:55:Pending Data:0:0:8:8\r\n")
        data, _, _ = await sockr(m, "AT+S.SOCKDR=0,0")
        assert data == b"hi there"
        assert await m.cmd("AT+S.SOCKDW=0,0,3", b"ack") == b"AT-S.OK\r\n"
        assert await asyncio.wait_for(got.get(), 5) == b"ack"
        # A unicast datagram is data, never a broadcast indication.
        assert b"+WIND:80" not in m.take()
    finally:
        t.close()


async def test_udp_broadcast_is_wind_80_only(quiet_module):
    m = quiet_module
    port = free_port()
    assert await m.cmd(f"AT+S.SOCKDON={port},u") == b"AT-S.On:0\r\nAT-S.OK\r\n"
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sender.bind(("127.0.0.1", 0))
    try:
        cport = sender.getsockname()[1]
        # Loopback's broadcast address: the only broadcast this machine may send.
        sender.sendto(b"who is there", ("127.255.255.255", port))
        out = await m.read_until(b"who is there\r\n")
        assert out == (
            f"+WIND:80:UDP Broadcast Received:0:127.0.0.1:{cport}:12:who is there\r\n".encode()
        )
        # Shown inline, not buffered, no client made of it.
        assert await m.cmd("AT+S.SOCKDL") == f"AT-S.List:0::0:u:0::{port}\r\nAT-S.OK\r\n".encode()
        sender.sendto(b"direct", ("127.0.0.1", port))
        out = await m.read_until(b"+WIND:55:Pending Data:0:0:6:6\r\n")
        assert b"+WIND:80" not in out
        data, _, _ = await sockr(m, "AT+S.SOCKDR=0,0")
        assert data == b"direct"
    finally:
        sender.close()


async def test_10mb_each_way(quiet_module):
    """10 MB up and 10 MB back through SOCKW/SOCKR in 730-byte writes, byte-exact."""
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=ip_sock_memsize,40") == b"AT-S.OK\r\n"
    # Indications off for this bulk transfer, as drivers do around reads; SOCKQ polls instead.
    assert await m.cmd("AT+S.SCFG=console_wind_off_medium,0x00800000") == b"AT-S.OK\r\n"
    srv, port = await echo_server()
    payload = os.urandom(10 * 1024 * 1024)
    async with srv:
        await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        out = bytearray()
        sent = 0
        chunk = 730
        while len(out) < len(payload):
            burst = 0
            while sent < len(payload) and sent - len(out) < 60000 and burst < 40:
                piece = payload[sent : sent + chunk]
                m.send(b"AT+S.SOCKW=0,%d\r" % len(piece) + piece)
                sent += len(piece)
                burst += 1
            for _ in range(burst):
                assert await m.read_exactly(9) == b"AT-S.OK\r\n"
            data, _, _ = await sockr(m, "AT+S.SOCKR=0")
            out += data
        assert out == payload
        # Everything echoed has been read: nothing left in the module.
        assert await m.cmd("AT+S.SOCKQ=0") == b"AT-S.Query:0\r\nAT-S.OK\r\n"


async def test_radio_and_net_services(quiet_module):
    """With a radio that has no IP: error 60. With a net service: its DNS and its policy."""
    from types import SimpleNamespace

    from atwifi.errors import AtError

    m = quiet_module
    srv, port = await echo_server()
    async with srv:
        m.device.radio = SimpleNamespace(ip_ready=False)
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == (
            b"AT-S.ERROR:60:IP not ready to send\r\n"
        )
        m.device.radio = SimpleNamespace(ip_ready=True)

        async def resolve(host: str) -> str:
            if host == "echo.test":
                return "127.0.0.1"
            if host[0].isdigit():
                return host
            raise AtError(65, host)

        def check(ip: str, port: int | None = None) -> None:
            if ip != "127.0.0.1":
                raise AtError(74, f"{ip} blocked by the network policy")

        m.device.net = SimpleNamespace(resolve=resolve, check=check)
        assert await m.cmd(f"AT+S.SOCKON=echo.test,{port},,t") == (
            b"AT-S.On:127.0.0.1:0\r\nAT-S.OK\r\n"
        )
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.2,{port},,t") == (
            b"AT-S.ERROR:74:Failed to open socket\r\n"
        )
        assert await m.cmd(f"AT+S.SOCKON=nowhere.test,{port},,t") == (
            b"AT-S.ERROR:65:DNS address failure\r\n"
        )
