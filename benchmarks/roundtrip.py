"""Console round-trip and boot-time benchmark of `atwifi serve --tcp` (a script, not a test).

    PYTHONPATH=src python benchmarks/roundtrip.py [-n 2000] [--boots 5]

* Round trip: `AT\\r` -> `AT-S.OK\\r\\n`, one at a time (each waits for its reply), echo off,
  against a real `atwifi serve --tcp 127.0.0.1:0` process; then the same client against a floor:
  a minimal asyncio TCP server, run by the same Python, that answers `AT-S.OK\\r\\n` to every
  line. Prints the median of both in microseconds and their ratio (target <= 1.5).
* Boot: from process start to `+WIND:0:Console active` on the console, over a few boots, each
  on a fresh --state folder (target: median < 0.5 s).

Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from serve import serve_argv, start, stop

OK = b"AT-S.OK\r\n"
TIMEOUT = 10.0

# The floor: the least a Python asyncio server can do per line. Same interpreter, same loop.
FLOOR_SERVER = r"""
import asyncio, sys

class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = b""
    def data_received(self, data):
        self.buf += data
        n = self.buf.count(b"\r")
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r") + 1 :]
            self.t.write(b"AT-S.OK\r\n" * n)

async def main():
    server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0)
    print("floor on 127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


class Console:
    """A blocking client: the simplest host, and the same one for both servers."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def read_until(self, marker: bytes) -> bytes:
        while (i := self.buf.find(marker)) < 0:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit(f"connection closed while waiting for {marker!r}")
            self.buf += chunk
        end = i + len(marker)
        out = bytes(self.buf[:end])
        del self.buf[:end]
        return out

    def command(self, line: bytes) -> bytes:
        self.sock.sendall(line + b"\r")
        return self.read_until(OK)

    def close(self) -> None:
        self.sock.close()


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


def interleaved(
    a: Console, b: Console, n: int, rounds: int = 20
) -> tuple[list[float], list[float]]:
    """n round trips on each, in alternating slices: a machine whose load changes during the
    run (other jobs, frequency scaling) then weighs on both alike."""
    round_trips(a, min(100, n))  # warm-up
    round_trips(b, min(100, n))
    ra: list[float] = []
    rb: list[float] = []
    per = max(1, n // rounds)
    while len(ra) < n:
        k = min(per, n - len(ra))
        ra += round_trips(a, k)
        rb += round_trips(b, k)
    return ra, rb


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

        proc, port = start(serve_argv(Path(tmp) / "rt"))
        floor_proc, floor_port = start([sys.executable, "-c", FLOOR_SERVER])
        try:
            console = Console(port)
            console.read_until(b"+WIND:0:Console active\r\n")
            assert console.command(b"AT+S.SCFG=console_echo,0").endswith(OK)
            floor_console = Console(floor_port)
            module, floor = interleaved(console, floor_console, args.n)
            console.close()
            floor_console.close()
        finally:
            stop(proc)
            stop(floor_proc)

    m_med, f_med = statistics.median(module), statistics.median(floor)
    ratio = m_med / f_med
    boot_med = statistics.median(boots)
    print(f"round trips: {args.n} each, AT -> AT-S.OK, echo off, one at a time, interleaved")
    print(f"  atwifi serve --tcp : median {m_med:8.1f} us  (p90 {_p90(module):.1f} us)")
    print(f"  asyncio floor      : median {f_med:8.1f} us  (p90 {_p90(floor):.1f} us)")
    print(f"  ratio              : {ratio:.2f}  (target <= 1.5) {'ok' if ratio <= 1.5 else 'OVER'}")
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
