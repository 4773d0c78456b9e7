"""The module's heap through the console: free_heap and min_heap move with what the module
holds (sockets, a TLS session, RAM disk files, held WINDs) and come back; running out answers
the manual's errors and +WIND:4:Low Memory once, and the module goes on."""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time

import trustme

from peers import echo_server

OK = b"AT-S.OK\r\n"
TOTAL, BOOT_LOW = 55200, 52576  # Table 8's defaults
SOCKET, TLS, LINK = 512, 4096, 1536  # docs/behaviour.md "Memory"
LOW = b"+WIND:4:Low Memory\r\n"
FULL = b"AT-S.ERROR:51:Unable to open file\r\n"
NO_MEMORY = b"AT-S.ERROR:91:Low Memory\r\n"


async def heap(m) -> tuple[int, int]:
    out = await m.cmd("AT+S.STS=free_heap") + await m.cmd("AT+S.STS=min_heap")
    free, low = re.findall(rb"AT-S\.Var:(?:free|min)_heap=(\d+)\r\n", out)
    return int(free), int(low)


async def test_boot_figures_are_the_manuals(quiet_module):
    assert await heap(quiet_module) == (TOTAL, BOOT_LOW)


async def test_sockets_move_the_heap_and_give_it_back(quiet_module):
    m = quiet_module
    srv, port = await echo_server()
    async with srv:
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == b"AT-S.On:127.0.0.1:0\r\n" + OK
        assert (await heap(m))[0] == TOTAL - SOCKET
        assert await m.cmd("AT+S.SOCKW=0,700", b"x" * 700) == OK
        await m.read_until(b"+WIND:55:Pending Data::0:700:700\r\n")
        # The 700 bytes waiting for the host are the module's memory.
        free, low = await heap(m)
        assert free == TOTAL - SOCKET - 700 and low <= free
        m.send(b"AT+S.SOCKR=0\r")
        await m.read_until(b"AT-S.Reading:700:700\r\n")
        assert await m.read_exactly(700 + len(OK)) == b"x" * 700 + OK
        assert (await heap(m))[0] == TOTAL - SOCKET
        assert await m.cmd("AT+S.SOCKC=0") == OK
        free, low = await heap(m)
        assert free == TOTAL and low <= TOTAL - SOCKET - 700


async def test_a_tls_socket_holds_a_session(quiet_module):
    m = quiet_module
    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    pem = ca.cert_pem.bytes()
    assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(pem)}", pem) == OK
    assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
    srv, port = await echo_server(ctx)
    async with srv:
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},,s") == b"AT-S.On:127.0.0.1:0\r\n" + OK
        assert (await heap(m))[0] == TOTAL - SOCKET - TLS
        assert await m.cmd("AT+S.SOCKC=0") == OK
        assert (await heap(m))[0] == TOTAL


async def test_ram_disk_files_are_heap(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.FSC=2:/a.txt,1000", b"a" * 1000) == OK
    assert (await heap(m))[0] == TOTAL - 1024  # one 1 KiB block
    assert await m.cmd("AT+S.FSC=2:/a.txt,100", b"b" * 100) == OK  # appended: two blocks
    assert (await heap(m))[0] == TOTAL - 2048
    assert await m.cmd("AT+S.FSD=2:/a.txt") == OK
    free, low = await heap(m)
    assert free == TOTAL and low == BOOT_LOW  # the boot went lower than 2 blocks


async def test_held_winds_are_heap_and_merge(quiet_module):
    """A UDP peer floods while SOCKW waits for its data: the WINDs held meanwhile merge into
    one per socket and kind, with the latest totals; min_heap saw them."""
    m = quiet_module
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    try:
        port = peer.getsockname()[1]
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,u") == b"AT-S.On:127.0.0.1:0\r\n" + OK
        assert await m.cmd("AT+S.SOCKW=0,1", b"?") == OK
        _, module = peer.recvfrom(10)
        m.send(b"AT+S.SOCKW=0,2\r")  # its 2 bytes are not sent yet: WINDs are held
        for _ in range(40):
            peer.sendto(b"z" * 100, module)  # 15 fit the 1500-byte buffer, 25 are dropped
        gate = m.device.gate
        for _ in range(2000):  # until the module has both kinds held (no timing involved)
            if len(gate.held) >= 2:
                break
            await asyncio.sleep(0.01)
        m.send(b"ok")
        assert await m.reply() == OK
        # One WIND per kind: 15 arrivals merged into 1500:1500, the drops added up.
        assert await m.read_until(b"\r\n") == b"+WIND:55:Pending Data::0:1500:1500\r\n"
        drops = re.fullmatch(
            rb"\+WIND:63:Socket Dropping Data::0:(\d+)\r\n", await m.read_until(b"\r\n")
        )
        assert drops and int(drops.group(1)) % 100 == 0
        free, low = await heap(m)
        assert free == TOTAL - SOCKET - 1500
        assert low < TOTAL - SOCKET - 1500  # the held WINDs took memory while held
    finally:
        peer.close()


async def test_running_out(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=ramdisk_memsize,64") == OK
    assert await m.cmd("AT+S.WCFG") == OK
    m.send(b"AT+S.RESET\r")
    await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    await m.settle()
    # More than the heap has: the RAM disk's own error (a full volume), and WIND:4.
    assert await m.cmd("AT+S.FSC=2:/big,56000", b"B" * 56000) == FULL
    assert await m.read_until(b"\r\n") == LOW
    assert await m.cmd("AT") == OK
    assert await m.cmd("AT+S.FSC=2:/big,53000", b"B" * 53000) == OK  # 52 blocks: 1952 left
    srv, port = await echo_server()
    async with srv:
        for i in range(3):
            assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == (
                f"AT-S.On:127.0.0.1:{i}\r\n".encode() + OK
            )
        # 416 bytes left: a fourth socket does not fit. Same episode: no second WIND:4.
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == NO_MEMORY
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == NO_MEMORY
        assert await m.cmd("AT") == OK and m.take() == b""
        free, low = await heap(m)
        assert free == TOTAL - 53248 - 3 * SOCKET and low == free
        # A server's client that does not fit is turned away (WIND:83, reason 1: no memory).
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        sport = listener.getsockname()[1]
        listener.close()
        assert await m.cmd(f"AT+S.SOCKDON={sport},t") == b"AT-S.On:0\r\n" + OK
        r, w = await asyncio.open_connection("127.0.0.1", sport)
        assert await m.read_until(b"\r\n") == b"+WIND:83:Sockd Dropping Client:1\r\n"
        w.close()
        assert await m.cmd("AT+S.SOCKDC=0") == OK
        # Memory given back ends the episode; the next failure is a new one.
        assert await m.cmd("AT+S.FSD=2:/big") == OK
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == b"AT-S.On:127.0.0.1:3\r\n" + OK
        assert await m.cmd("AT+S.FSC=2:/big,56000", b"B" * 56000) == FULL
        assert await m.read_until(b"\r\n") == LOW
        assert await m.cmd("AT") == OK and m.take() == b""


async def test_a_websocket_holds_a_link(quiet_module):
    from ws_peers import ws_server

    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo,0,,,,,") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert (await heap(m))[0] == TOTAL - LINK
        assert await m.cmd("AT+S.WSOCKC=0,0") == OK
        assert (await heap(m))[0] == TOTAL
