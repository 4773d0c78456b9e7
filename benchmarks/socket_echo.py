"""TCP echo throughput: through the virtual module's SOCKW/SOCKR versus a direct asyncio client.

    python benchmarks/socket_echo.py [--mb 10] [--chunk 730] [--window 32] [--memsize 64]
                                     [--mode stream|window] [--depth 4] [--runs 15]
                                     [--warmup 1] [--trace] [--ceiling]
                                     [--loop asyncio|uvloop]

Both paths move the same bytes to the same echo server on 127.0.0.1 and back (an
``asyncio.BufferedProtocol`` that writes each read back at once: the leanest echo, shared by
both paths, so neither pays for a heavier one), in writes of
``--chunk`` bytes (730: the firmware's TCP MSS that drivers use). The module path is a host
driving the module over a TCP console on loopback (WIND:55 masked, as drivers do around bulk
transfers), sending ``--window`` SOCKW commands with their data blocks in one write:

  --mode stream  (default) a SOCKR rides along with every window, and up to --depth windows
                 are in flight, as a driver with a transmit queue does. Flow control: the
                 host never has more bytes out (sent, not yet read back) than the module's
                 socket buffer is set to (ip_sock_memsize x 1500): it sends what its credit
                 allows in one write, waits for a window's worth, and with nothing in
                 flight polls with SOCKR, as a driver does that respects the buffer. (Without it the echo
                 backs up into the kernel's buffers until the module's send times out.)
                 The direct client writes window after window while a reader task takes
                 the echo (the leanest it can be: a one-console host cannot do that).
  --mode window  then SOCKR until that window has come back (a strict ping-pong); the
                 direct client writes the same window, then reads until it has come back.

``--runs`` alternates direct and module runs (a shared machine's load weighs on both alike),
each round starting with the next path (so no path always runs first or last), after
``--warmup`` runs of each that are not counted, and prints each ratio and the median.
``--trace`` also runs a second module with ``--trace FILE`` and prints its rate against the
untraced one. ``--loop`` is the event loop of the module's process (``atwifi serve
--loop``) and of this script. ``--ceiling`` also runs benchmarks/minimal_module.py (just
enough console for this benchmark, the module's buffer rules, no layers): what a module
written for this benchmark alone reaches on this machine and loop.

Prints bytes per second of each path and the ratio (target: at least 0.6; traced / untraced
at least 0.7). The module processes are stopped whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

from serve import serve_argv, start, stop

READING = re.compile(rb"AT-S\.Reading:(\d+):(\d+)\r\n")
OK = b"AT-S.OK\r\n"


class Echo(asyncio.BufferedProtocol):
    """The echo server's side of one connection, as lean as the direct client: one read
    buffer of its own, each read written back at once, reading paused while the peer does
    not take the echo (so neither path's echo backs up without bound)."""

    def __init__(self) -> None:
        self.buf = memoryview(bytearray(65536))
        self.t: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buf

    def buffer_updated(self, nbytes: int) -> None:
        self.t.write(bytes(self.buf[:nbytes]))

    def pause_writing(self) -> None:
        self.t.pause_reading()

    def resume_writing(self) -> None:
        self.t.resume_reading()


async def echo_server() -> tuple[asyncio.Server, int]:
    srv = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0)
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


class Console(asyncio.Protocol):
    """The host side of the module's console over TCP: one byte buffer read in place (an
    offset, no copy per reply), as lean as the direct client's reader."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.pos = 0  # what is before it has been read
        self.w: asyncio.Transport
        self._waiter: asyncio.Future[None] | None = None
        self._eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.w = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _fill(self) -> None:
        if self._eof:
            raise EOFError("console closed")
        if self.pos > 1 << 20:  # forget what has been read, now and then
            del self.buf[: self.pos]
            self.pos = 0
        self._waiter = asyncio.get_running_loop().create_future()
        await self._waiter

    async def line(self) -> bytes:
        while (i := self.buf.find(b"\r\n", self.pos)) < 0:
            await self._fill()
        out = bytes(self.buf[self.pos : i + 2])
        self.pos = i + 2
        return out

    async def expect(self, data: bytes) -> None:
        """The next bytes are ``data`` (checked in place)."""
        while len(self.buf) - self.pos < len(data):
            await self._fill()
        if not self.buf.startswith(data, self.pos):
            raise AssertionError(bytes(self.buf[self.pos : self.pos + 80]))
        self.pos += len(data)

    async def take_into(self, dest: bytearray, n: int) -> None:
        """The next ``n`` bytes, appended to ``dest``."""
        while len(self.buf) - self.pos < n:
            await self._fill()
        with memoryview(self.buf) as mv:
            dest += mv[self.pos : self.pos + n]
        self.pos += n

    async def reply_line(self) -> bytes:
        """The next line that is not a WIND."""
        while True:
            ln = await self.line()
            if not ln.startswith(b"+WIND"):
                return ln

    async def cmd(self, line: str) -> bytes:
        self.w.write(line.encode() + b"\r")
        out = b""
        while True:
            ln = await self.reply_line()
            out += ln
            if ln.startswith(b"AT-S.OK") or ln.startswith(b"AT-S.ERROR"):
                return out


class Module:
    """One `atwifi serve --tcp` process and a host on its console, booted and joined."""

    def __init__(self, proc: subprocess.Popen[bytes], con: Console, trace: Path | None) -> None:
        self.proc, self.con, self.trace = proc, con, trace

    @classmethod
    async def start(
        cls, memsize: int, trace: Path | None, loop: str, where: Path, minimal: bool = False
    ) -> Module:
        if minimal:  # the ceiling: benchmarks/minimal_module.py
            argv = [sys.executable, str(Path(__file__).with_name("minimal_module.py")), loop]
        else:
            # Its --state in the run's temporary folder: removed at the end with the traces.
            argv = serve_argv(Path(tempfile.mkdtemp(prefix="state-", dir=where)))
        if trace is not None:
            argv += ["--trace", str(trace)]
        if loop != "asyncio" and not minimal:
            argv += ["--loop", loop]
        # Popen and a few readlines before the transfer starts: nothing to time yet.
        proc, cport = start(argv)
        try:
            _, con = await asyncio.get_running_loop().create_connection(Console, "127.0.0.1", cport)
            # Boot, then the default world's join: sockets need the link up (WIND:24).
            while not (await con.line()).startswith(b"+WIND:24:WiFi Up::"):
                pass
            await con.cmd("AT+S.SCFG=console_echo,0")
            await con.cmd(f"AT+S.SCFG=ip_sock_memsize,{memsize}")
            # WIND:55 off, as drivers do around bulk reads; the host polls with SOCKR instead.
            await con.cmd("AT+S.SCFG=console_wind_off_medium,0x00800000")
        except BaseException:
            stop(proc)
            raise
        return cls(proc, con, trace)

    def stop(self) -> None:
        self.con.w.close()
        stop(self.proc)


async def through_module(
    module: Module,
    port: int,
    payload: bytes,
    chunk: int,
    window: int,
    memsize: int,
    mode: str,
    depth: int,
) -> float:
    con = module.con
    w = con.w
    reply = await con.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
    assert reply.startswith(b"AT-S.On:"), reply
    sid = int(reply.split(b"\r\n")[0].rsplit(b":", 1)[1])

    got = bytearray()
    view = memoryview(payload)
    total = len(payload)
    OKS = [OK * i for i in range(window + 1)]  # noqa: N806
    hdr = b"AT+S.SOCKW=%d,%d\r" % (sid, chunk)
    sent = 0
    limit = memsize * 1500  # never more out than the module's buffer can hold

    async def sockr() -> None:
        ln = await con.line()
        m = READING.fullmatch(ln)
        assert m, ln
        await con.take_into(got, int(m.group(1)))
        await con.expect(OK)

    t0 = time.perf_counter()
    if mode == "stream":
        # As a driver with a TX queue does: batches of SOCKWs, each followed by a SOCKR for
        # what has come back, with up to `depth` batches in flight and never more than
        # `limit` bytes out; the replies come in order, so the host matches them to the
        # batches it sent.
        inflight: deque[int] = deque()
        full = window * chunk
        while len(got) < total:
            out = bytearray()  # what is sent now, in one write (one wake-up of the module)
            while len(inflight) < depth and sent < total:
                room = limit - (sent - len(got))
                if inflight and room < min(full, total - sent):
                    break  # not a window's worth of credit: read back what is in flight
                # Whole chunks the credit allows, framed in one join (a driver's memcpy);
                # then the last piece, if short, on its own.
                n = min(window, room // chunk, (total - sent) // chunk)
                if n:
                    parts = [hdr] * (2 * n)
                    parts[1::2] = [
                        view[i : i + chunk] for i in range(sent, sent + n * chunk, chunk)
                    ]
                    out += b"".join(parts)
                    sent += n * chunk
                    room -= n * chunk
                while n < window and sent < total:
                    piece = view[sent : sent + chunk]
                    if len(piece) > room:
                        break  # the module's buffer could not take the echo: wait
                    out += hdr if len(piece) == chunk else b"AT+S.SOCKW=%d,%d\r" % (sid, len(piece))
                    out += piece
                    sent += len(piece)
                    room -= len(piece)
                    n += 1
                if n == 0:
                    break
                out += b"AT+S.SOCKR=%d\r" % sid
                inflight.append(n)
            if not inflight:  # nothing in flight and no credit: poll
                out += b"AT+S.SOCKR=%d\r" % sid
                inflight.append(0)
            if out:
                w.write(out)
            await con.expect(OKS[inflight.popleft()])
            await sockr()
        while inflight:  # SOCKRs sent after the last byte came back: empty reads
            await con.expect(OKS[inflight.popleft()])
            await sockr()
    else:
        while len(got) < total:
            # A window of SOCKW commands in one write, their OKs, then read the window back.
            batch = bytearray()
            n = 0
            while n < window and sent < total and sent - len(got) + chunk <= limit:
                piece = view[sent : sent + chunk]
                batch += b"AT+S.SOCKW=%d,%d\r" % (sid, len(piece))
                batch += piece
                sent += len(piece)
                n += 1
            w.write(batch)
            # WINDs are off: the n answers are exactly n AT-S.OK lines.
            await con.expect(OKS[n])
            while len(got) < sent:
                w.write(b"AT+S.SOCKR=%d\r" % sid)
                await sockr()
    dt = time.perf_counter() - t0
    assert got == payload, "module path corrupted the data"
    reply = await con.cmd(f"AT+S.SOCKC={sid}")
    assert reply.startswith(b"AT-S.OK"), reply
    return dt


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--chunk", type=int, default=730)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--memsize", type=int, default=64, help="ip_sock_memsize (x 1500 bytes)")
    ap.add_argument("--depth", type=int, default=4, help="stream: batches in flight")
    ap.add_argument("--runs", type=int, default=15, help="alternating runs of each path")
    ap.add_argument("--warmup", type=int, default=1, help="runs of each path not counted")
    ap.add_argument("--trace", action="store_true", help="also a module with --trace FILE")
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="also the minimal module (benchmarks/minimal_module.py), in the same runs",
    )
    ap.add_argument(
        "--mode",
        choices=("window", "stream"),
        default="stream",
        help="stream: keep sending while reading (default); window: send a window, read it back",
    )
    return ap.parse_args()


async def run(a: argparse.Namespace, tmp: Path) -> None:
    payload = os.urandom(int(a.mb * 1024 * 1024))
    n = len(payload)
    srv, port = await echo_server()
    modules: list[Module] = []
    d: list[float] = []
    m: list[float] = []
    t: list[float] = []
    c: list[float] = []
    trace_size = 0
    try:
        async with srv:
            plain = await Module.start(a.memsize, None, a.loop, tmp)
            modules.append(plain)
            traced = None
            if a.trace:
                traced = await Module.start(a.memsize, tmp / "trace.jsonl", a.loop, tmp)
                modules.append(traced)
            ceiling = None
            if a.ceiling:
                ceiling = await Module.start(a.memsize, None, a.loop, tmp, minimal=True)
                modules.append(ceiling)
            args = (payload, a.chunk, a.window, a.memsize, a.mode, a.depth)
            paths: list[Module | None] = [None, plain]  # None: the direct client
            paths += [mod for mod in (traced, ceiling) if mod is not None]
            for i in range(a.warmup + a.runs):
                # The first runs warm both paths up (allocations, page faults): not counted.
                keep = i >= a.warmup
                # Each round starts with the next path, so none always runs first: in a fixed
                # order the later paths came out faster (three identical traced modules: 0.69,
                # 0.70 and 0.79 of the untraced one).
                took: dict[Module | None, float] = {}
                for k in range(len(paths)):
                    mod = paths[(i + k) % len(paths)]
                    took[mod] = await (
                        direct(port, payload, a.chunk, a.window, a.mode)
                        if mod is None
                        else through_module(mod, port, *args)
                    )
                if keep:
                    d.append(took[None])
                    m.append(took[plain])
                    if traced is not None:
                        t.append(took[traced])
                    if ceiling is not None:
                        c.append(took[ceiling])
            if traced is not None and traced.trace is not None:
                side = traced.trace.with_name(traced.trace.name + ".bytes")  # bulk chunks
                trace_size = traced.trace.stat().st_size + side.stat().st_size
    finally:
        for mod in modules:
            mod.stop()
    ratios = [di / mi for di, mi in zip(d, m, strict=True)]
    print(f"payload     {n} bytes each way, {a.chunk}-byte writes, {a.mode} of {a.window}")
    print(f"module      `atwifi serve --tcp` in its own process ({a.loop}), console on 127.0.0.1")
    print(f"direct      {n / statistics.median(d):14,.0f} B/s  (median of {a.runs})")
    print(f"via module  {n / statistics.median(m):14,.0f} B/s  (median of {a.runs})")
    print(f"direct s    {' '.join(f'{x:.3f}' for x in d)}")
    print(f"module s    {' '.join(f'{x:.3f}' for x in m)}")
    print(f"ratios      {' '.join(f'{r:.2f}' for r in ratios)}")
    med = statistics.median(ratios)
    print(f"ratio       {med:.2f}  (module / direct, median; target >= 0.6)")
    if c:
        cr = [di / ci for di, ci in zip(d, c, strict=True)]
        print(f"minimal s   {' '.join(f'{x:.3f}' for x in c)}")
        print(
            f"minimal     {statistics.median(cr):.2f}  (minimal module / direct, median: {' '.join(f'{r:.2f}' for r in cr)})"
        )
    if t:
        tr = [mi / ti for mi, ti in zip(m, t, strict=True)]
        print(f"traced      {n / statistics.median(t):14,.0f} B/s  ({trace_size:,} bytes of trace)")
        print(f"traced/plain {' '.join(f'{r:.2f}' for r in tr)}")
        print(
            f"traced      {statistics.median(tr):.2f}  (traced / untraced, median; target >= 0.7)"
        )


def main() -> None:
    a = parse_args()
    with tempfile.TemporaryDirectory(prefix="atwifi-bench-trace-") as tmp:
        if a.loop == "uvloop":
            import uvloop  # the extra `atwifi[fast]`

            uvloop.run(run(a, Path(tmp)))
        else:
            asyncio.run(run(a, Path(tmp)))


if __name__ == "__main__":
    main()
