"""AT+S.WSOCK* through the console bytes, against a real WebSocket server on 127.0.0.1."""

from __future__ import annotations

import json

from ws_wire import WIND88, read_message, wind88, wind89, wsockr

from ws_peers import free_port, raw_ws_server, silent_server, ws_server

OK = b"AT-S.OK\r\n"


def ws_error(n: int) -> bytes:
    return f"AT-S.WebSocket Client Error:{n}\r\n".encode()


async def alive(m) -> None:
    assert await m.cmd("AT") == OK


async def test_driver_sequence_echo(quiet_module):
    """What ST's middleware sends: WSOCKON=<host>,<port>,,0,,,,, then WSOCKW=<id>,0,0,0,<len>
    (a whole text message), WIND:88, WSOCKQ, WSOCKR=<id>,<len>, WSOCKC=<id>,0."""
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo,0,,,,,") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,11", b"hello\r\nAT\r\n") == OK
        assert await wind88(m) == (0, 1, 1, 11, 11)
        assert await m.cmd("AT+S.WSOCKQ=0") == b"AT-S.Query:11\r\n" + OK
        lst = await m.cmd("AT+S.WSOCKL")
        assert lst.startswith(b"AT-S.List:0:1:11:") and lst.endswith(b"\r\n" + OK)
        assert int(lst.split(b"\r\n")[0].rsplit(b":", 1)[1]) > 0  # the local port
        data, avail, _ = await wsockr(m, "AT+S.WSOCKR=0,5")
        assert (data, avail) == (b"hello", 11)
        # A partial read: a reminder of what is left follows the reply.
        assert await wind88(m) == (0, 0, 0, 0, 6)
        data, avail, _ = await wsockr(m, "AT+S.WSOCKR=0,0")
        assert (data, avail) == (b"\r\nAT\r\n", 6)
        data, avail, _ = await wsockr(m, "AT+S.WSOCKR=0")
        assert (data, avail) == (b"", 0)
        assert await m.cmd("AT+S.WSOCKC=0,0") == OK
        assert await m.cmd("AT+S.WSOCKL") == OK
        await peer.done.wait()
        assert peer.closed_codes == [1000]


async def test_every_wsockon_parameter(quiet_module):
    """Path, Basic auth, Origin, Sec-WebSocket-Protocol, Sec-WebSocket-Extensions."""
    m = quiet_module
    async with ws_server(subprotocols=["chat", "mqtt"]) as peer:
        line = (
            f"AT+S.WSOCKON=127.0.0.1,{peer.port},/check?auth=joe:s3cr3t,0,joe,s3cr3t,"
            "http://origin.test,chat,permessage-deflate"
        )
        assert await m.cmd(line) == b"AT-S.On:0\r\n" + OK
        seen = json.loads(await read_message(m))
        assert seen == {
            "subprotocol": "chat",
            "origin": "http://origin.test",
            "user": "joe",
            "password": "s3cr3t",
            "extensions": seen["extensions"],
            "host": f"127.0.0.1:{peer.port}",
        }
        assert seen["extensions"].startswith("permessage-deflate")
        assert m.device.websockets.client(0).extensions == ["permessage-deflate"]
        assert await m.cmd("AT+S.WSOCKC=0") == OK
        # Wrong password: the server answers 401, the upgrade fails (HTTP error, Table 11).
        bad = f"AT+S.WSOCKON=127.0.0.1,{peer.port},/check?auth=joe:s3cr3t,0,joe,nope,,,"
        assert await m.cmd(bad) == ws_error(4)
        # A subprotocol the server does not speak: it refuses the upgrade.
        bad = f"AT+S.WSOCKON=127.0.0.1,{peer.port},/check,,,,,klingon,"
        assert await m.cmd(bad) == ws_error(4)
        await alive(m)
        assert await m.cmd("AT+S.WSOCKL") == OK


async def test_deflate_echo(quiet_module):
    m = quiet_module
    async with ws_server() as peer:
        on = f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo,,,,,,permessage-deflate"
        assert await m.cmd(on) == b"AT-S.On:0\r\n" + OK
        body = b"compress me " * 100
        assert await m.cmd(f"AT+S.WSOCKW=0,0,0,1,{len(body)}", body) == OK
        assert await read_message(m) == body
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_sent_fragments_are_continuation_frames(quiet_module):
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/frames") == (b"AT-S.On:0\r\n" + OK)
        # text: first fragment (last_frag=1: more follow), a middle one (0,0 while a message is
        # open), the last (last_frame=1); then binary in two; then a whole message.
        for line, data in (
            ("AT+S.WSOCKW=0,0,1,0,3", b"abc"),
            ("AT+S.WSOCKW=0,0,0,0,3", b"def"),
            ("AT+S.WSOCKW=0,1,0,0,2", b"gh"),
            ("AT+S.WSOCKW=0,0,1,1,2", b"\x00\x01"),
            ("AT+S.WSOCKW=0,1,1,1,1", b"\x02"),
            ("AT+S.WSOCKW=0,,,,6", b"report"),
        ):
            assert await m.cmd(line, data) == OK
        frames = json.loads(await read_message(m))
        assert frames == [
            ["TEXT", False, b"abc".hex()],
            ["CONT", False, b"def".hex()],
            ["CONT", True, b"gh".hex()],
            ["BINARY", False, "0001"],
            ["CONT", True, "02"],
            ["TEXT", True, b"report".hex()],
        ]
        # A multi-byte character split across two fragments still arrives whole.
        e_acute = "é".encode()
        assert await m.cmd("AT+S.WSOCKW=0,0,1,0,1", e_acute[:1]) == OK
        assert await m.cmd("AT+S.WSOCKW=0,1,0,0,1", e_acute[1:]) == OK
        # Text that is not UTF-8 is refused (8) and the connection stays usable.
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,2", b"\xff\xfe") == (
            b"AT-S.ERROR:8:Invalid value\r\n"
        )
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,6", b"report") == OK
        frames = json.loads(await read_message(m))
        assert b"".join(bytes.fromhex(f[2]) for f in frames[6:8]) == e_acute
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_received_fragments_and_flags(quiet_module):
    """WIND:88 lastfrag=1 when bytes end a frame, lastframe=1 when they end the message."""
    m = quiet_module
    async with ws_server() as text, ws_server() as binary:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{text.port},/frag?n=3") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{binary.port},/binfrag?n=2") == (
            b"AT-S.On:1\r\n" + OK
        )
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,2", b"go") == OK
        # websockets ends a fragmented message with an empty final frame.
        flags = [await wind88(m) for _ in range(4)]
        assert [f[:4] for f in flags] == [(0, 0, 1, 6), (0, 0, 1, 6), (0, 0, 1, 6), (0, 1, 1, 0)]
        assert [f[4] for f in flags] == [6, 12, 18, 18]
        data, avail, _ = await wsockr(m, "AT+S.WSOCKR=0,0")
        assert (data, avail) == (b"part0-part1-part2-", 18)
        assert await m.cmd("AT+S.WSOCKW=1,0,0,0,2", b"go") == OK
        flags = [await wind88(m) for _ in range(3)]
        assert [f[:4] for f in flags] == [(1, 0, 1, 4), (1, 0, 1, 4), (1, 1, 1, 0)]
        data, _, _ = await wsockr(m, "AT+S.WSOCKR=1")
        assert data == b"\x00" * 4 + b"\x01" * 4
        lst = await m.cmd("AT+S.WSOCKL")
        assert lst.count(b"AT-S.List:") == 2
        assert await m.cmd("AT+S.WSOCKC=0") == OK
        assert await m.cmd("AT+S.WSOCKC=1") == OK


async def test_server_closes_with_a_code(quiet_module):
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/close/4001") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,3", b"bye") == OK
        assert await wind89(m) == 0
        await peer.done.wait()
        assert peer.closed_codes == [4001]  # our Close answered with the server's code
        lst = await m.cmd("AT+S.WSOCKL")
        assert lst.startswith(b"AT-S.List:0:0:0:")  # kept, not connected, until WSOCKC
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,1", b"x") == (
            b"AT-S.ERROR:78:Socket not connected\r\n"
        )
        assert await m.cmd("AT+S.WSOCKR=0") == b"AT-S.ERROR:72:Closed socket\r\n"
        assert await m.cmd("AT+S.WSOCKC=0") == OK
        assert await m.cmd("AT+S.WSOCKQ=0") == b"AT-S.ERROR:76:Illegal Socket ID\r\n"


async def test_pending_data_blocks_close(quiet_module):
    """Manual 6.63: unread data must be read before WSOCKC ("ERROR:Pending data"), also
    after the server has gone (WIND:89)."""
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == b"AT-S.On:0\r\n" + OK
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,4", b"data") == OK
        await wind88(m)
        assert await m.cmd("AT+S.WSOCKC=0,0") == b"AT-S.ERROR:77:Pending data\r\n"
    # The server is gone now (its context closed it): the data is still there.
    await wind89(m)
    assert await m.cmd("AT+S.WSOCKQ=0") == b"AT-S.Query:4\r\n" + OK
    assert await m.cmd("AT+S.WSOCKC=0") == b"AT-S.ERROR:77:Pending data\r\n"
    data, _, _ = await wsockr(m, "AT+S.WSOCKR=0")
    assert data == b"data"
    assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_host_close_status_codes(quiet_module):
    m = quiet_module
    async with ws_server() as peer:
        for status, code in (("1", 1001), ("", 1000), ("3", 1003), ("4000", 4000)):
            assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == (
                b"AT-S.On:0\r\n" + OK
            )
            peer.done.clear()
            assert await m.cmd(f"AT+S.WSOCKC=0,{status}") == OK
            await peer.done.wait()
            assert peer.closed_codes[-1] == code
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == b"AT-S.On:0\r\n" + OK
        # 1005/1006 are not for the wire, 2000 is not a code: Invalid value, still open.
        for bad in ("5", "1006", "2000"):
            assert await m.cmd(f"AT+S.WSOCKC=0,{bad}") == b"AT-S.ERROR:8:Invalid value\r\n"
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,2", b"ok") == OK
        assert await read_message(m) == b"ok"
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_server_ping_is_answered(quiet_module):
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/ping") == b"AT-S.On:0\r\n" + OK
        assert await read_message(m) == b"pong ok"
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_open_errors(quiet_module):
    m = quiet_module
    # Refused, name that does not resolve, HTTP refusal, no answer to the upgrade.
    assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{free_port()}") == ws_error(0)
    assert await m.cmd("AT+S.WSOCKON=no-such-host.invalid,80") == ws_error(3)
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/reject/403") == ws_error(4)
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/reject/404") == ws_error(4)
    m.device.websockets.handshake_timeout = 0.2
    async with silent_server() as port:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{port}") == ws_error(5)
    # Not loopback: the network policy refuses it, nothing is sent.
    assert await m.cmd("AT+S.WSOCKON=192.0.2.1,80") == ws_error(0)
    assert await m.cmd("AT+S.WSOCKL") == OK
    await alive(m)


async def test_ids_slots_and_same_server(quiet_module):
    m = quiet_module
    async with ws_server() as a, ws_server() as b, ws_server() as c:
        for cmd in ("AT+S.WSOCKQ=0", "AT+S.WSOCKR=0", "AT+S.WSOCKC=0", "AT+S.WSOCKQ=7"):
            assert await m.cmd(cmd) == b"AT-S.ERROR:76:Illegal Socket ID\r\n"
        # A write with a bad id still takes its data block: the console stays in step.
        assert await m.cmd("AT+S.WSOCKW=1,0,0,0,4", b"AT\r\n") == (
            b"AT-S.ERROR:76:Illegal Socket ID\r\n"
        )
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{a.port},/echo") == b"AT-S.On:0\r\n" + OK
        # Manual 6.61: not a second client to the same server.
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{a.port},/other") == (
            b"AT-S.ERROR:73:Port already opened\r\n"
        )
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{b.port},/echo") == b"AT-S.On:1\r\n" + OK
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{c.port},/echo") == (
            b"AT-S.ERROR:75:Too many sockets\r\n"
        )
        # A slot taken by MQTT leaves one for the host.
        assert await m.cmd("AT+S.WSOCKC=1") == OK
        slot = m.device.websockets.reserve("mqtt")
        assert slot == 1
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{c.port},/echo") == (
            b"AT-S.ERROR:75:Too many sockets\r\n"
        )
        assert await m.cmd(f"AT+S.WSOCKQ={slot}") == b"AT-S.ERROR:76:Illegal Socket ID\r\n"
        m.device.websockets.release(slot)
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{c.port},/echo") == b"AT-S.On:1\r\n" + OK
        # Bad flags and lengths are the parser's.
        assert await m.cmd("AT+S.WSOCKW=0,2,0,0,1", b"x") == b"AT-S.ERROR:8:Invalid value\r\n"
        assert await m.cmd("AT+S.WSOCKON=127.0.0.1,1,/,3") == b"AT-S.ERROR:8:Invalid value\r\n"
        await alive(m)


async def test_reset_drops_everything(quiet_module):
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == b"AT-S.On:0\r\n" + OK
        m.send(b"AT+S.RESET\r")
        await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
        await m.settle()
        await m.cmd("AT+S.SCFG=console_echo,0", echo=True)
        assert await m.cmd("AT+S.WSOCKL") == OK
        await peer.done.wait()
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == b"AT-S.On:0\r\n" + OK


async def test_flood_is_bounded_by_the_buffer(quiet_module):
    """A server that sends faster than the host reads: the module holds at most
    ip_sock_memsize x 1500 bytes, stops reading (TCP backpressure), keeps answering, and
    every byte arrives once the host reads."""
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/flood?mb=0.25") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,2", b"go") == OK
        while (await wind88(m))[4] < 1500:
            pass
        await alive(m)
        assert await m.cmd("AT+S.WSOCKQ=0") == b"AT-S.Query:1500\r\n" + OK
        assert m.device.websockets.client(0)._paused
        total = 0
        tail = b""
        while not tail.endswith(b"end"):
            data, avail, _ = await wsockr(m, "AT+S.WSOCKR=0")
            assert avail <= 1500
            total += len(data)
            tail = (tail + data)[-3:]
        assert total == 4 * 65536 + 3


async def test_empty_frame_flood_is_bounded(quiet_module):
    """Empty frames fill no buffer: reading pauses after 32 unread reports instead."""
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/tinyflood?n=300") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,2", b"go") == OK
        for _ in range(32):
            assert (await wind88(m))[3] == 0
        for _ in range(3):
            await alive(m)
        assert m.device.websockets.client(0)._paused
        assert WIND88.search(bytes(m.rx)) is None
        got = b""
        while not got.endswith(b"end"):
            data, _, _ = await wsockr(m, "AT+S.WSOCKR=0")
            got += data
            if not data:
                await wind88(m)
        m.rx.clear()
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_connection_lost_without_close(quiet_module):
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/drop") == b"AT-S.On:0\r\n" + OK
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,4", b"drop") == OK
        assert await wind89(m) == 0
        assert await m.cmd("AT+S.WSOCKR=0") == b"AT-S.ERROR:72:Closed socket\r\n"
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_misbehaving_servers(quiet_module):
    m = quiet_module
    # A wrong Sec-WebSocket-Accept: the upgrade fails (HTTP error).
    async with raw_ws_server(b"", accept="bm90IHRoZSByaWdodCBrZXk=") as port:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{port}") == ws_error(4)
    # Data, then a frame with a reserved opcode: the data stays readable, the module closes
    # the connection (protocol error) and says the server has gone.
    async with raw_ws_server(b"\x81\x02ok" + b"\x83\x00") as port:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{port}") == b"AT-S.On:0\r\n" + OK
        await wind89(m)
        data, _, _ = await wsockr(m, "AT+S.WSOCKR=0")
        assert data == b"ok"
        assert await m.cmd("AT+S.WSOCKC=0") == OK
    await alive(m)


async def test_served_module_echo(served):
    """The real `atwifi serve` process over its TCP console."""
    async with ws_server() as peer:
        assert (await served.cmd("AT+S.SCFG=console_echo,0")).endswith(OK)
        assert await served.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo,0,,,,,") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert await served.cmd("AT+S.WSOCKW=0,0,0,0,5", b"hello") == OK
        await served.read_until(WIND88)
        assert await served.cmd("AT+S.WSOCKR=0,0") == b"AT-S.Reading:5:5\r\nhello" + OK
        assert await served.cmd("AT+S.WSOCKC=0,0") == OK


async def test_server_closes_before_the_host_knows_the_id(quiet_module):
    """A close right after the upgrade is reported after the On reply, and that server no
    longer counts as "already connected"."""
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/closenow/4002") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert await wind89(m) == 0
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == b"AT-S.On:1\r\n" + OK
        assert await m.cmd("AT+S.WSOCKC=0") == OK
        assert await m.cmd("AT+S.WSOCKC=1") == OK


async def test_deflate_bomb_stays_bounded(quiet_module):
    """One compressed frame that inflates to 20 MB: the buffer holds 1500 bytes, what waits
    behind it is what a 256-byte read inflates to, and the module keeps answering."""
    import zlib

    m = quiet_module
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = comp.compress(b"\0" * 20_000_000) + comp.flush(zlib.Z_SYNC_FLUSH)
    payload = payload[:-4]  # permessage-deflate drops the 00 00 ff ff tail
    n = len(payload)
    header = b"\xc2" + (
        bytes([127]) + n.to_bytes(8, "big") if n > 65535 else bytes([126]) + n.to_bytes(2, "big")
    )
    ext = b"Sec-WebSocket-Extensions: permessage-deflate\r\n"
    async with raw_ws_server(header + payload, headers=ext) as port:
        on = f"AT+S.WSOCKON=127.0.0.1,{port},/,,,,,,permessage-deflate"
        assert await m.cmd(on) == b"AT-S.On:0\r\n" + OK
        while (await wind88(m))[4] < 1500:
            pass
        await alive(m)
        c = m.device.websockets.client(0)
        waiting = sum(len(e[0]) for e in c._queue if isinstance(e, tuple))
        assert c.unread() == 1500 and waiting <= 256 * 1100
        for _ in range(20):
            data, avail, _ = await wsockr(m, "AT+S.WSOCKR=0")
            assert avail <= 1500 and data == b"\0" * len(data)
        waiting = sum(len(e[0]) for e in c._queue if isinstance(e, tuple))
        assert c.unread() <= 1500 and waiting <= 256 * 1100
        assert (await m.cmd("AT")).endswith(OK)  # reports of the refills come first


async def test_unknown_extension_is_offered_verbatim(quiet_module):
    m = quiet_module
    async with ws_server() as peer:
        on = f"AT+S.WSOCKON=127.0.0.1,{peer.port},/check,,,,,,x-custom; level=1"
        assert await m.cmd(on) == b"AT-S.On:0\r\n" + OK
        seen = json.loads(await read_message(m))
        assert seen["extensions"] == "x-custom; level=1"
        assert m.device.websockets.client(0).extensions == []  # the server ignored it
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_not_joined(quiet_module):
    m = quiet_module
    out = await m.cmd("AT+S.WIFI=0")
    assert out.endswith(OK)
    assert not m.device.radio.ip_ready
    assert (await m.cmd("AT+S.WSOCKON=127.0.0.1,80")).endswith(
        b"AT-S.ERROR:60:IP not ready to send\r\n"
    )


async def test_read_and_close_together_under_a_flood(quiet_module):
    """A server that never stops sending refills the buffer after each read, but on the next
    turn of the loop: a WSOCKR and a WSOCKC sent in one write close it."""
    m = quiet_module
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/flood?mb=2") == (
            b"AT-S.On:0\r\n" + OK
        )
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,2", b"go") == OK
        while (await wind88(m))[4] < 1500:
            pass
        m.rx.clear()
        m.send(b"AT+S.WSOCKR=0,0\rAT+S.WSOCKC=0,1\r")
        reading = await m.read_until(b"\r\n")
        assert reading == b"AT-S.Reading:1500:1500\r\n"
        await m.read_exactly(1500)
        assert await m.read_exactly(len(OK)) == OK
        assert (await m.reply()).endswith(OK)
        assert await m.cmd("AT+S.WSOCKL") == OK
        await peer.done.wait()
        assert peer.closed_codes == [1001]


async def test_with_echo_on(module):
    """Factory settings (echo on, as ST's middleware relies on): the command line is echoed,
    the data block is not."""
    m = module
    async with ws_server() as peer:
        line = f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo,0,,,,,"
        assert await m.cmd(line) == b"AT-S.On:0\r\n" + OK
        m.send(b"AT+S.WSOCKW=0,0,0,0,4\rping")
        assert await m.reply() == b"AT+S.WSOCKW=0,0,0,0,4\r\n" + OK
        await wind88(m)
        assert await m.cmd("AT+S.WSOCKR=0,0") == b"AT-S.Reading:4:4\r\nping" + OK
        assert await m.cmd("AT+S.WSOCKC=0,0") == OK
