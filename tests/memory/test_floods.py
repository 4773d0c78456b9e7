"""Floods while a command waits for its data: the WINDs held meanwhile stay bounded (merged
per socket, the oldest dropped past the cap), measured as this process's resident set."""

from __future__ import annotations

import asyncio
import re
import socket

OK = b"AT-S.OK\r\n"
DATAGRAMS = 60_000  # held one by one: some 8 MB of WINDs
RSS_BOUND = 4 * 1024 * 1024


def rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_udp_flood_while_sockw_waits(quiet_module):
    m = quiet_module
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.setblocking(False)
    try:
        port = peer.getsockname()[1]
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,u") == b"AT-S.On:127.0.0.1:0\r\n" + OK
        assert await m.cmd("AT+S.SOCKW=0,1", b"?") == OK
        await asyncio.sleep(0)
        while True:
            try:
                _, module = peer.recvfrom(10)
                break
            except BlockingIOError:
                await asyncio.sleep(0.01)
        m.send(b"AT+S.SOCKW=0,2\r")  # the data does not follow: every WIND is held
        base = rss()
        gate = m.device.gate

        def seen() -> int:  # WINDs raised while held: kept, merged or dropped
            return len(gate.held) + gate.merged + sum(gate.dropped.values())

        while seen() < DATAGRAMS:
            for _ in range(2):
                try:
                    peer.sendto(b"f" * 64, module)
                except BlockingIOError:
                    break
            await asyncio.sleep(0)  # the module reads what came
        grown = rss() - base
        assert grown < RSS_BOUND, f"grew by {grown} bytes"
        assert gate.held_bytes <= gate.limit
        m.send(b"ok")
        assert await m.reply() == OK
        out = await m.read_until(b"+WIND:63:Socket Dropping Data::0:")
        assert out.count(b"+WIND:55:") == 1  # merged: the latest totals
        assert re.fullmatch(rb"\d+\r\n", await m.read_until(b"\r\n"))  # the drops' total
        # Datagrams still on their way come as live WINDs; the module answers AT among them.
        m.send(b"AT\r")
        assert (await m.read_until(OK)).endswith(b"\r\n" + OK)
    finally:
        peer.close()


async def test_winds_wait_while_the_host_takes_no_output(quiet_module):
    """The console's transport says its host stopped reading: WINDs are held (merged and
    capped) instead of queued towards it, and follow once it reads again."""
    m = quiet_module
    d = m.device
    notes: list[str] = []
    d.trace = type("Notes", (), {"note": staticmethod(notes.append)})()
    d.runtime.output_blocked(True)
    for i in range(20_000):
        d.wind(55, "", 0, 10, 10 * (i + 1))  # one socket's data: merges
        d.wind(61, "127.0.0.1", 1000 + i, 0, i % 8)  # distinct: the oldest go past the cap
    assert m.take() == b""
    assert d.gate.held_bytes <= d.gate.limit
    d.runtime.output_blocked(False)
    out = await m.read_until(b"+WIND:61:Incoming Socket Client:127.0.0.1:20999:0:7\r\n")
    assert out.startswith(b"+WIND:55:Pending Data::0:200000:200000\r\n")  # all 20000 in one
    assert len(out) <= d.gate.limit
    assert await m.cmd("AT") == OK
    # One trace line says what was merged and what was dropped, by WIND number.
    (line,) = [n for n in notes if n.startswith("held WINDs bounded")]
    assert "19999 merged into held ones" in line and "oldest dropped over the cap (61 x" in line


async def test_tcp_console_says_when_its_host_stops_reading():
    from atwifi.transports.tcp import TcpTransport

    t = TcpTransport("127.0.0.1", 0)
    said: list[bool] = []

    def on_output(blocked: bool) -> None:
        said.append(blocked)

    t.on_output = on_output
    await t.start(lambda data: None)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", t.port)
        for _ in range(1000):  # the host does not read: the kernel's buffers fill, then ours
            if said:
                break
            t.write(b"x" * 65536)
            await asyncio.sleep(0)
        assert said == [True]
        async with asyncio.timeout(20):  # a safety net: the host reads until told
            while said[-1] is not False:
                await reader.read(1 << 20)
        assert said == [True, False]
        writer.close()
    finally:
        await t.close()


async def test_spi_bus_says_when_its_master_clocks_nothing_out(tmp_path):
    """A master connected to the SPI bus that does not transfer: past the high-water mark of
    MISO output the bus tells the runtime (WINDs are then held), and again when it leaves."""
    from atwifi.framings.spi import encode_slave
    from atwifi.transports.spi import SpiBusTransport

    t = SpiBusTransport(str(tmp_path / "bus.sock"))
    said: list[bool] = []
    changed = asyncio.Event()

    def on_output(blocked: bool) -> None:
        said.append(blocked)
        changed.set()

    t.on_output = on_output
    await t.start(lambda data: None)
    try:
        reader, writer = await asyncio.open_unix_connection(str(tmp_path / "bus.sock"))
        await reader.read(16)  # HELLO: the bus has its host
        for _ in range(40):
            t.write(encode_slave(2, 3, 0, b"w" * 1000))
        assert said == [True]
        writer.close()
        changed.clear()
        await asyncio.wait_for(changed.wait(), 20)  # the bus sees its host go
        assert said == [True, False]
    finally:
        await t.close()
