"""WebSocket echo throughput: through the virtual module's WSOCKW/WSOCKR versus a direct client.

    python benchmarks/ws_echo.py [--messages 4000] [--size 730] [--window 16] [--memsize 40]
    python benchmarks/ws_echo.py --download 8     # server -> host: 8 MB, drained with WSOCKR

One echo server (the ``websockets`` library, in a process of its own on 127.0.0.1) serves
both paths. The floor is a ``websockets`` client in this process: a window of messages, then
their echoes. The module path is a host driving `atwifi serve` over its TCP console: a
window of WSOCKW commands (a whole text message each, flags 0,0,0 as drivers send) in one
write, then WSOCKR until the window's bytes have come back.

Prints messages per second of each path and the ratio module/direct. ``--download MB``
measures the receive path instead: on a "go" the server sends MB megabytes in 64 KB binary
messages; the floor reads them with a websockets client, the module path drains them with
WSOCKR=0,0 as WIND:88 announces them (the module's buffer full most of the time: the
backpressure path).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

from serve import serve_argv, start, stop

READING = re.compile(rb"AT-S\.Reading:(\d+):(\d+)\r\n")
OK = b"AT-S.OK\r\n"

ECHO_SERVER = """
import asyncio
from websockets.asyncio.server import serve

async def echo(ws):
    async for m in ws:
        if m.startswith("download "):
            chunk = b"d" * 65536
            for _ in range(int(m.split()[1]) * 16):
                await ws.send(chunk)
        else:
            await ws.send(m)

async def main():
    async with serve(echo, "127.0.0.1", 0, ping_interval=None, compression=None) as s:
        print("listening on 127.0.0.1:%d" % s.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


async def direct(port: int, messages: int, size: int, window: int) -> float:
    from websockets.asyncio.client import connect

    msg = "x" * size
    async with connect(f"ws://127.0.0.1:{port}/", compression=None, ping_interval=None) as ws:
        t0 = time.perf_counter()
        for i in range(0, messages, window):
            n = min(window, messages - i)
            for _ in range(n):
                await ws.send(msg)
            for _ in range(n):
                assert len(await ws.recv()) == size
        return time.perf_counter() - t0


class Console:
    def __init__(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.r, self.w = r, w
        self.buf = bytearray()

    async def _fill(self) -> None:
        data = await self.r.read(262144)
        if not data:
            raise EOFError("console closed")
        self.buf += data

    async def line(self) -> bytes:
        while (i := self.buf.find(b"\r\n")) < 0:
            await self._fill()
        out = bytes(self.buf[: i + 2])
        del self.buf[: i + 2]
        return out

    async def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            await self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def reply(self) -> bytes:
        """Lines up to the final one, WINDs skipped."""
        out = b""
        while True:
            ln = await self.line()
            if ln.startswith(b"+WIND"):
                continue
            out += ln
            if ln.startswith((b"AT-S.OK", b"AT-S.ERROR", b"AT-S.WebSocket")):
                return out


async def through_module(port: int, messages: int, size: int, window: int, memsize: int) -> float:
    proc, cport = start(serve_argv(Path(tempfile.mkdtemp(prefix="atwifi-bench-"))))
    try:
        r, w = await asyncio.open_connection("127.0.0.1", cport)
        con = Console(r, w)
        while not (await con.line()).startswith(b"+WIND:24:WiFi Up::"):
            pass

        async def cmd(line: str) -> bytes:
            w.write(line.encode() + b"\r")
            return await con.reply()

        await cmd("AT+S.SCFG=console_echo,0")
        await cmd(f"AT+S.SCFG=ip_sock_memsize,{memsize}")
        on = await cmd(f"AT+S.WSOCKON=127.0.0.1,{port},/,0,,,,,")
        assert on.startswith(b"AT-S.On:0"), on
        block = f"AT+S.WSOCKW=0,0,0,0,{size}\r".encode() + b"x" * size
        t0 = time.perf_counter()
        for i in range(0, messages, window):
            n = min(window, messages - i)
            w.write(block * n)
            for _ in range(n):
                assert (await con.reply()).endswith(OK)
            want = n * size
            while want:
                w.write(b"AT+S.WSOCKR=0,0\r")
                while True:
                    ln = await con.line()
                    m = READING.fullmatch(ln)
                    if m:
                        break
                got = int(m.group(1))
                data = await con.exactly(got + len(OK))
                assert data.endswith(OK)
                want -= got
        dt = time.perf_counter() - t0
        await cmd("AT+S.WSOCKC=0,0")
        w.close()
        return dt
    finally:
        stop(proc)


async def download_direct(port: int, mb: int) -> float:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/", compression=None, ping_interval=None) as ws:
        t0 = time.perf_counter()
        await ws.send(f"download {mb}")
        got = 0
        while got < mb * 1048576:
            got += len(await ws.recv())
        return time.perf_counter() - t0


async def download_module(port: int, mb: int, memsize: int) -> float:
    proc, cport = start(serve_argv(Path(tempfile.mkdtemp(prefix="atwifi-bench-"))))
    try:
        r, w = await asyncio.open_connection("127.0.0.1", cport)
        con = Console(r, w)
        while not (await con.line()).startswith(b"+WIND:24:WiFi Up::"):
            pass

        async def cmd(line: str) -> bytes:
            w.write(line.encode() + b"\r")
            return await con.reply()

        await cmd("AT+S.SCFG=console_echo,0")
        await cmd(f"AT+S.SCFG=ip_sock_memsize,{memsize}")
        assert (await cmd(f"AT+S.WSOCKON=127.0.0.1,{port},/,0,,,,,")).startswith(b"AT-S.On:0")
        t0 = time.perf_counter()
        msg = f"download {mb}".encode()
        w.write(f"AT+S.WSOCKW=0,0,0,0,{len(msg)}\r".encode() + msg)
        assert (await con.reply()).endswith(OK)
        want = mb * 1048576
        while want:
            w.write(b"AT+S.WSOCKR=0,0\r")
            while True:
                m = READING.fullmatch(await con.line())
                if m:
                    break
            got = int(m.group(1))
            assert (await con.exactly(got + len(OK))).endswith(OK)
            want -= got
        dt = time.perf_counter() - t0
        w.close()
        return dt
    finally:
        stop(proc)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=4000)
    ap.add_argument("--size", type=int, default=730)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--memsize", type=int, default=40)
    ap.add_argument("--download", type=int, default=0, metavar="MB")
    a = ap.parse_args()
    server, port = start([sys.executable, "-c", ECHO_SERVER])
    if a.download:
        try:
            t_direct = await download_direct(port, a.download)
            t_module = await download_module(port, a.download, a.memsize)
        finally:
            stop(server)
        d, mo = a.download / t_direct, a.download / t_module
        print(f"direct websockets client: {d:7.1f} MB/s")
        print(f"through the module:       {mo:7.1f} MB/s")
        print(f"ratio module/direct: {mo / d:.2f}")
        return
    try:
        t_direct = await direct(port, a.messages, a.size, a.window)
        t_module = await through_module(port, a.messages, a.size, a.window, a.memsize)
    finally:
        stop(server)
    d, mo = a.messages / t_direct, a.messages / t_module
    print(f"direct websockets client: {d:9.0f} messages/s ({d * a.size / 1e6:.2f} MB/s)")
    print(f"through the module:       {mo:9.0f} messages/s ({mo * a.size / 1e6:.2f} MB/s)")
    print(f"ratio module/direct: {mo / d:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
