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
