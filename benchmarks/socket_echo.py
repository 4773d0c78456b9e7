"""TCP echo throughput: through the virtual module's SOCKW/SOCKR versus a direct asyncio client.

    python benchmarks/socket_echo.py [--mb 10] [--chunk 730] [--window 32] [--memsize 40]
                                     [--mode stream|window] [--depth 4]

Both paths move the same bytes to the same echo server on 127.0.0.1 and back, in writes of
``--chunk`` bytes (730: the firmware's TCP MSS that drivers use). The module path is a host
driving the module over a TCP console on loopback (WIND:55 masked, as drivers do around bulk
transfers), sending ``--window`` SOCKW commands with their data blocks in one write:

  --mode stream  (default) a SOCKR rides along with every window, and up to --depth windows
                 are in flight, as a driver with a transmit queue does; the module's
                 buffer and TCP flow control bound what is in flight. The direct client
                 writes window after window while a reader task takes the echo.
  --mode window  then SOCKR until that window has come back (a strict ping-pong); the
                 direct client writes the same window, then reads until it has come back.

Prints bytes per second of each path and the ratio (target: at least 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from collections import deque
from pathlib import Path

from serve import serve_argv, start, stop

READING = re.compile(rb"AT-S\.Reading:(\d+):(\d+)\r\n")
OK = b"AT-S.OK\r\n"


HANDLERS: set[asyncio.Task[None]] = set()


async def echo_server() -> tuple[asyncio.Server, int]:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        HANDLERS.add(task)
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except ConnectionError:
            pass
        finally:
            w.close()
            HANDLERS.discard(task)

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1]


async def direct(port: int, payload: bytes, chunk: int, window: int, mode: str) -> float:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    got = bytearray()

    t0 = time.perf_counter()
    view = memoryview(payload)

    async def reader() -> None:
        while len(got) < len(payload):
            data = await r.read(65536)
            if not data:
                raise EOFError
            got.extend(data)

    if mode == "stream":
        # Windows of chunk-sized writes while a reader takes the echo.
        task = asyncio.create_task(reader())
        for i in range(0, len(payload), chunk * window):
            end = min(i + chunk * window, len(payload))
            for j in range(i, end, chunk):
                w.write(view[j : min(j + chunk, end)])
            await w.drain()
        await task
    else:
        # A window of chunk-sized writes, then read until that window has come back.
        for i in range(0, len(payload), chunk * window):
            end = min(i + chunk * window, len(payload))
            for j in range(i, end, chunk):
                w.write(view[j : min(j + chunk, end)])
            await w.drain()
            while len(got) < end:
                data = await r.read(65536)
                if not data:
                    raise EOFError
                got += data
    dt = time.perf_counter() - t0
    w.close()
    assert got == payload, "direct path corrupted the data"
    return dt


class Console:
    """The host side of the module's console over TCP: a byte buffer and a few readers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.r, self.w = reader, writer
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

    async def reply_line(self) -> bytes:
        """The next line that is not a WIND."""
        while True:
            ln = await self.line()
            if not ln.startswith(b"+WIND"):
                return ln


async def through_module(
    port: int, payload: bytes, chunk: int, window: int, memsize: int, mode: str, depth: int
) -> float:
    # Popen and a few readlines before the transfer starts: nothing to time yet.
    proc, cport = start(serve_argv(Path(tempfile.mkdtemp(prefix="atwifi-bench-"))))
    r, w = await asyncio.open_connection("127.0.0.1", cport)
    con = Console(r, w)
    # Boot, then the default world's join: sockets need the link up (IPv4 and IPv6 WIND:24).
    while not (await con.line()).startswith(b"+WIND:24:WiFi Up::"):
        pass

    async def cmd(line: str) -> bytes:
        w.write(line.encode() + b"\r")
        out = b""
        while True:
            ln = await con.reply_line()
            out += ln
            if ln.startswith(b"AT-S.OK") or ln.startswith(b"AT-S.ERROR"):
                return out

    await cmd("AT+S.SCFG=console_echo,0")
    await cmd(f"AT+S.SCFG=ip_sock_memsize,{memsize}")
    # WIND:55 off, as drivers do around bulk reads; the host polls with SOCKR instead.
    await cmd("AT+S.SCFG=console_wind_off_medium,0x00800000")
    reply = await cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
    assert reply.startswith(b"AT-S.On:"), reply
    sid = int(reply.split(b"\r\n")[0].rsplit(b":", 1)[1])

    got = bytearray()
    view = memoryview(payload)
    sent = 0
    limit = memsize * 1500  # never more in flight than the module's buffer can hold

    async def sockr() -> None:
        ln = await con.line()
        m = READING.fullmatch(ln)
        assert m, ln
        got.extend(await con.exactly(int(m.group(1))))
        assert await con.exactly(len(OK)) == OK

    t0 = time.perf_counter()
    if mode == "stream":
        # As a driver with a TX queue does: batches of SOCKWs, each followed by a SOCKR for
        # what has come back, with up to `depth` batches in flight; the replies come in
        # order, so the host matches them to the batches it sent.
        inflight: deque[int] = deque()
        while len(got) < len(payload):
            while len(inflight) < depth:
                batch = bytearray()
                n = 0
                while n < window and sent < len(payload):
                    piece = view[sent : sent + chunk]
                    batch += b"AT+S.SOCKW=%d,%d\r" % (sid, len(piece))
                    batch += piece
                    sent += len(piece)
                    n += 1
                batch += b"AT+S.SOCKR=%d\r" % sid
                w.write(batch)
                inflight.append(n)
                if sent >= len(payload):
                    break
            n = inflight.popleft()
            oks = await con.exactly(len(OK) * n)
            assert oks == OK * n, oks[:80]
            await sockr()
        while inflight:  # SOCKRs sent after the last byte came back: empty reads
            await con.exactly(len(OK) * inflight.popleft())
            await sockr()
    else:
        while len(got) < len(payload):
            # A window of SOCKW commands in one write, their OKs, then read the window back.
            batch = bytearray()
            n = 0
            while n < window and sent < len(payload) and sent - len(got) + chunk <= limit:
                piece = view[sent : sent + chunk]
                batch += b"AT+S.SOCKW=%d,%d\r" % (sid, len(piece))
                batch += piece
                sent += len(piece)
                n += 1
            w.write(batch)
            # WINDs are off: the n answers are exactly n AT-S.OK lines.
            oks = await con.exactly(len(OK) * n)
            assert oks == OK * n, oks[:80]
            while len(got) < sent:
                w.write(b"AT+S.SOCKR=%d\r" % sid)
                await sockr()
    dt = time.perf_counter() - t0
    assert got == payload, "module path corrupted the data"
    w.close()
    stop(proc)
    return dt


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--chunk", type=int, default=730)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--memsize", type=int, default=40, help="ip_sock_memsize (x 1500 bytes)")
    ap.add_argument("--depth", type=int, default=4, help="stream: batches in flight")
    ap.add_argument(
        "--mode",
        choices=("window", "stream"),
        default="stream",
        help="stream: keep sending while reading (default); window: send a window, read it back",
    )
    a = ap.parse_args()
    payload = os.urandom(int(a.mb * 1024 * 1024))
    srv, port = await echo_server()
    async with srv:
        d = await direct(port, payload, a.chunk, a.window, a.mode)
        m = await through_module(port, payload, a.chunk, a.window, a.memsize, a.mode, a.depth)
        # Both peers are gone: let the echo handlers see it and end.
        if HANDLERS:
            await asyncio.wait(HANDLERS, timeout=5)
    n = len(payload)
    print(f"payload     {n} bytes each way, {a.chunk}-byte writes, {a.mode} of {a.window}")
    print("module      `atwifi serve --tcp` in its own process, console on 127.0.0.1")
    print(f"direct      {n / d:14,.0f} B/s  ({d:.3f} s)")
    print(f"via module  {n / m:14,.0f} B/s  ({m:.3f} s)")
    print(f"ratio       {d / m:.2f}  (module / direct; target >= 0.5)")


if __name__ == "__main__":
    asyncio.run(main())
