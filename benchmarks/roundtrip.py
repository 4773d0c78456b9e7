"""Console round-trip and boot-time benchmark of `atwifi serve --tcp` (a script, not a test).

    PYTHONPATH=src python benchmarks/roundtrip.py [-n 2000] [--boots 5]

* Round trip: `AT\\r` -> `AT-S.OK\\r\\n`, one at a time (each waits for its reply), echo off,
  against a real `atwifi serve --tcp 127.0.0.1:0` process; then the same client against two
  floors: minimal asyncio TCP servers, run by the same Python, that answer `AT-S.OK\\r\\n` to
  every line, one an asyncio.BufferedProtocol reading into a buffer of its own (the leanest:
  the ratio is against it), one a plain asyncio.Protocol (a fresh bytes object per read, about
  twice as slow, for reference). Prints the medians in microseconds and the ratio (target
  <= 1.5).
* Boot: from process start to `+WIND:0:Console active` on the console, over a few boots, each
  on a fresh --state folder (target: median < 0.5 s).

Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from serve import Console, serve_argv, start, stop

OK = b"AT-S.OK\r\n"
TIMEOUT = 10.0

# The floors: the least a Python asyncio server can do per line, same interpreter, same loop.
# The plain Protocol gets a fresh bytes object per read; the BufferedProtocol reads into one
# buffer of its own and is the leaner (about twice as fast): the ratio is against it.
FLOOR_SERVER = r"""
import asyncio, sys

OK = b"AT-S.OK\r\n"

class Plain(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = b""
    def data_received(self, data):
        self.buf += data
        n = self.buf.count(b"\r")
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r") + 1 :]
            self.t.write(OK * n)

class Buffered(asyncio.BufferedProtocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = bytearray(65536)
        self.view = memoryview(self.buf)
        self.tail = 0  # bytes of a line not ended yet, at the start of buf
    def get_buffer(self, sizehint):
        return self.view[self.tail :]
    def buffer_updated(self, nbytes):
        buf, end = self.buf, self.tail + nbytes
        n = buf.count(b"\r", 0, end)
        if n:
            last = buf.rfind(b"\r", 0, end) + 1
            self.tail = end - last
            buf[: self.tail] = self.view[last:end]
            self.t.write(OK * n)
        else:
            self.tail = end if end < len(buf) else 0  # an over-long line: dropped

async def main():
    kind = Buffered if sys.argv[1:] == ["buffered"] else Plain
    server = await asyncio.get_running_loop().create_server(kind, "127.0.0.1", 0)
    print("floor on 127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


def round_trips(console: Console, n: int) -> list[float]:
    """Microseconds of each of n AT -> AT-S.OK, one at a time."""
    out = []
    clock = time.perf_counter_ns
    sock, line = console.sock, b"AT\r"
    for _ in range(n):
        t0 = clock()
        sock.sendall(line)
        console.read_until(OK)
        out.append((clock() - t0) / 1000)
    return out


def interleaved(consoles: list[Console], n: int, rounds: int = 20) -> list[list[float]]:
    """n round trips on each, in alternating slices: a machine whose load changes during the
    run (other jobs, frequency scaling) then weighs on all alike."""
    for c in consoles:
        round_trips(c, min(100, n))  # warm-up
    out: list[list[float]] = [[] for _ in consoles]
    per = max(1, n // rounds)
    while len(out[0]) < n:
        k = min(per, n - len(out[0]))
        for c, times in zip(consoles, out, strict=True):
            times += round_trips(c, k)
    return out


def boot_time(state: Path) -> float:
    """Seconds from process start to +WIND:0 seen by a host on the console."""
    t0 = time.perf_counter()
    proc, port = start(serve_argv(state))
    try:
        console = Console(port)
        console.read_until(b"+WIND:0:Console active\r\n")
        elapsed = time.perf_counter() - t0
        console.close()
    finally:
        stop(proc)
    return elapsed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=2000, help="round trips per server (default 2000)")
    p.add_argument("--boots", type=int, default=5, help="boots to time (default 5)")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="atwifi-bench-") as tmp:
        boots = [boot_time(Path(tmp) / f"boot{i}") for i in range(args.boots)]

        procs = []
        try:
            proc, port = start(serve_argv(Path(tmp) / "rt"))
            procs.append(proc)
            buffered_proc, buffered_port = start([sys.executable, "-c", FLOOR_SERVER, "buffered"])
            procs.append(buffered_proc)
            plain_proc, plain_port = start([sys.executable, "-c", FLOOR_SERVER, "plain"])
            procs.append(plain_proc)
            console = Console(port)
            console.read_until(b"+WIND:0:Console active\r\n")
            assert console.command(b"AT+S.SCFG=console_echo,0").endswith(OK)
            consoles = [console, Console(buffered_port), Console(plain_port)]
            module, floor, plain = interleaved(consoles, args.n)
            for c in consoles:
                c.close()
        finally:
            for p in procs:
                stop(p)

    m_med, f_med = statistics.median(module), statistics.median(floor)
    p_med = statistics.median(plain)
    ratio = m_med / f_med
    print(f"round trips: {args.n} each, AT -> AT-S.OK, echo off, one at a time, interleaved")
    print(f"  atwifi serve --tcp : median {m_med:8.1f} us  (p90 {_p90(module):.1f} us)")
    print(f"  floor (Buffered)   : median {f_med:8.1f} us  (p90 {_p90(floor):.1f} us)")
    print(f"  asyncio.Protocol   : median {p_med:8.1f} us  (p90 {_p90(plain):.1f} us)")
    print(
        f"  ratio              : {ratio:.2f}  (module / BufferedProtocol floor; target <= 1.5)"
        f" {'ok' if ratio <= 1.5 else 'OVER'}"
    )
    boot_med = statistics.median(boots)
    print(
        f"boot to +WIND:0      : median {boot_med * 1000:.0f} ms over {len(boots)} boots "
        f"({', '.join(f'{b * 1000:.0f}' for b in boots)} ms)  (target < 500 ms) "
        f"{'ok' if boot_med < 0.5 else 'OVER'}"
    )
    return 0


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


if __name__ == "__main__":
    raise SystemExit(main())
