"""Properties of WSOCKW framing and of the WIND:88 accounting, over random sequences."""

from __future__ import annotations

import json
import random

from ws_wire import WIND88, read_message, wind88, wsockr

from ws_peers import ws_server

OK = b"AT-S.OK\r\n"


def expected_frames(steps: list[tuple[int, int, int, bytes]]) -> list[list[object]]:
    """The frames the module's reading of the flags gives (docs/behaviour.md)."""
    out: list[list[object]] = []
    open_msg = False
    for last_frame, last_frag, binary, data in steps:
        fin = True if last_frame else (False if last_frag else not open_msg)
        op = "CONT" if open_msg else ("BINARY" if binary else "TEXT")
        out.append([op, fin, data.hex()])
        open_msg = not fin
    return out


async def test_random_flag_sequences_make_the_expected_frames(quiet_module):
    m = quiet_module
    rng = random.Random(6455)
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/frames") == (b"AT-S.On:0\r\n" + OK)
        steps: list[tuple[int, int, int, bytes]] = []
        for _ in range(40):
            lf, lg, b = rng.randint(0, 1), rng.randint(0, 1), rng.randint(0, 1)
            n = rng.choice([0, 1, 5, 100, 730])
            data = bytes(rng.choice(b"abcdefgh") for _ in range(n))  # ASCII: valid text
            steps.append((lf, lg, b, data))
        steps.append((1, 1, 0, b"end"))  # closes any message left open
        for lf, lg, b, data in steps:
            assert await m.cmd(f"AT+S.WSOCKW=0,{lf},{lg},{b},{len(data)}", data) == OK
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,6", b"report") == OK
        frames = json.loads(await read_message(m))
        assert frames[: len(steps)] == expected_frames(steps)
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_wind88_accounting_adds_up(quiet_module):
    """Over random partial reads: every byte is read once, in order, and the sum of
    <rcv> equals the bytes the server sent; <rcv> never exceeds <cumulated>."""
    m = quiet_module
    rng = random.Random(88)
    async with ws_server() as peer:
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == b"AT-S.On:0\r\n" + OK
        sent = bytearray()
        announced = 0
        for i in range(30):
            msg = bytes([65 + i % 26]) * rng.randint(1, 200)
            sent += msg
            reply = await m.cmd(f"AT+S.WSOCKW=0,0,0,1,{len(msg)}", msg)
            assert reply.endswith(OK)
            for mt in WIND88.finditer(reply):  # echoes of earlier messages, before this reply
                assert int(mt.group(4)) <= int(mt.group(5))
                announced += int(mt.group(4))
        got = bytearray()
        while len(got) < len(sent):
            if not WIND88.search(bytes(m.rx)) and len(got) == announced:
                _, _, _, rcv, cum = await wind88(m)  # wait for more
                assert rcv <= cum
                announced += rcv
            data, _, before = await wsockr(m, f"AT+S.WSOCKR=0,{rng.randint(0, 150)}")
            for ln in before:
                mt = WIND88.fullmatch(ln)
                assert mt
                assert int(mt.group(4)) <= int(mt.group(5))
                announced += int(mt.group(4))
            got += data
        assert bytes(got) == bytes(sent)
        while m.rx:  # reports still on their way (reminders carry 0)
            _, _, _, rcv, _ = await wind88(m)
            announced += rcv
        assert announced == len(sent)
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_threshold_and_mask(quiet_module):
    m = quiet_module
    async with ws_server() as peer:
        # ip_sock_threshold=50 of 1500 bytes: no WIND:88 before 750 bytes are unread.
        assert await m.cmd("AT+S.SCFG=ip_sock_threshold,50") == OK
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == b"AT-S.On:0\r\n" + OK
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,100", b"a" * 100) == OK
        while await m.cmd("AT+S.WSOCKQ=0") != b"AT-S.Query:100\r\n" + OK:
            pass
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,700", b"b" * 700) == OK
        assert await wind88(m) == (0, 1, 1, 800, 800)
        data, _, _ = await wsockr(m, "AT+S.WSOCKR=0")
        assert data == b"a" * 100 + b"b" * 700
        assert await m.cmd("AT+S.WSOCKC=0") == OK
        # console_wind_off_high bit 24 silences WIND:88; the data is still there.
        assert await m.cmd("AT+S.SCFG=ip_sock_threshold,0") == OK
        assert await m.cmd("AT+S.SCFG=console_wind_off_high,0x01000000") == OK
        assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{peer.port},/echo") == b"AT-S.On:0\r\n" + OK
        assert await m.cmd("AT+S.WSOCKW=0,0,0,0,3", b"abc") == OK
        while await m.cmd("AT+S.WSOCKQ=0") != b"AT-S.Query:3\r\n" + OK:
            pass
        data, _, before = await wsockr(m, "AT+S.WSOCKR=0")
        assert data == b"abc" and before == []
        assert await m.cmd("AT+S.WSOCKC=0") == OK


async def test_random_commands_never_fail_inside(quiet_module):
    """Random WSOCK commands, good and bad, against live servers: every reply is one of the
    manual's, never 111 (an atwifi bug), and the console stays in step."""
    import re

    m = quiet_module
    rng = random.Random(61)
    final = re.compile(rb"(AT-S\.OK|AT-S\.ERROR:(\d+):[^\r]*|AT-S\.WebSocket Client Error:\d)\r\n")
    async with ws_server() as a, ws_server() as b:
        paths = ["/echo", "/frag?n=2", "/close/4000", "/ping", "/drop", "/reject/500"]
        for _ in range(150):
            cid = rng.choice(["0", "1", "2", "-1", "x", ""])
            kind = rng.randrange(7)
            data = b""
            if kind == 0:
                port = rng.choice([a.port, b.port, 1])
                line = f"AT+S.WSOCKON=127.0.0.1,{port},{rng.choice(paths)},{rng.choice(['', '0', '1'])}"
            elif kind == 1:
                data = bytes(rng.choice(b"ab\r\nAT") for _ in range(rng.randint(0, 40)))
                flags = ",".join(rng.choice(["", "0", "1"]) for _ in range(3))
                line = f"AT+S.WSOCKW={cid},{flags},{len(data)}"
            elif kind == 2:
                line = f"AT+S.WSOCKR={cid},{rng.choice(['', '0', '3', '100'])}"
            elif kind == 3:
                line = f"AT+S.WSOCKQ={cid}"
            elif kind == 4:
                line = f"AT+S.WSOCKC={cid},{rng.choice(['', '0', '1', '5', '4000'])}"
            elif kind == 5:
                line = "AT+S.WSOCKL"
            else:
                line = "AT+S.WSOCKW=0,1,1,0,"  # a missing length: no data follows
            m.send(line.encode() + b"\r" + data)
            out = await m.reply()
            mt = final.search(out)
            assert mt, out
            if mt.group(2) is not None:
                assert int(mt.group(2)) in (2, 7, 8, 72, 73, 75, 76, 77, 78, 79), (line, out)
        m.rx.clear()
        m.send(b"AT\r")
        assert (await m.reply()).endswith(OK)
