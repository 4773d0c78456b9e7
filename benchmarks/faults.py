"""What the fault hooks cost: a download through SOCKR with no fault rule (the floor), with
100 rules that do not match, and with a matching rule that puts a plan in the receive path
(delay 0 ms: every chunk goes through the plan, due at once so never through its timer).

    python benchmarks/faults.py [--mb 8] [--memsize 40] [--rounds 3] [--http]

A peer on 127.0.0.1 sends --mb megabytes; the host, on a TCP console, masks WIND:55 and
pipelines SOCKR=0 commands, 4 in flight, until all has come. Best of --rounds per case.
Prints MB/s per case and the ratio to the floor (target: no-match at least 0.9).

``--http``: the same three cases for one AT+S.HTTPGET of --mb megabytes (the HTTP client's
connection through the one connection path: with the plan, every chunk goes through the
``FaultyStream`` put in front of the client's protocol).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path

from serve import serve_argv, start, stop

from atwifi.control import ControlClient

READING = re.compile(rb"AT-S\.Reading:(\d+):(\d+)\r\n")
OK = b"AT-S.OK\r\n"


async def sender(total: int, http: bool = False) -> tuple[asyncio.Server, int]:
    block = b"z" * 65536

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        left = total
        try:
            if http:
                await r.readuntil(b"\r\n\r\n")
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
            while left > 0:
                n = min(left, len(block))
                w.write(block[:n])
                left -= n
                await w.drain()
            await r.read()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1]


async def reply(r: asyncio.StreamReader, buf: bytearray) -> int:
    """One SOCKR reply: returns the bytes it carried."""
    while True:
        m = READING.search(buf)
        if m:
            n = int(m.group(1))
            while len(buf) < m.end() + n + len(OK):
                buf += await r.read(1 << 20)
            del buf[: m.end() + n + len(OK)]
            return n
        buf += await r.read(1 << 20)


async def one(case: str, total: int, memsize: int, http: bool = False) -> float:
    srv, port = await sender(total, http)
    with tempfile.TemporaryDirectory() as d:
        state = Path(d) / "state"
        proc, cport = start(serve_argv(state))
        try:
            ctl = ControlClient(state)
            if case == "no-match":
                for i in range(100):
                    await ctl.acall("fault.add", kind="refuse", match=f"10.0.0.{i}:*")
            elif case == "plan":
                await ctl.acall("fault.add", kind="delay", ms=0, match=f"*:{port}")
            r, w = await asyncio.open_connection("127.0.0.1", cport)
            buf = bytearray()
            while b"+WIND:24:WiFi Up" not in buf:  # joined: sockets may open
                buf += await asyncio.wait_for(r.read(65536), 20)
            for cmd in (
                "AT+S.SCFG=console_echo,0",
                f"AT+S.SCFG=ip_sock_memsize,{memsize}",
                "AT+S.SCFG=console_wind_off_medium,0x00800000",  # WIND:55 masked, as drivers do in bulk
                *([] if http else [f"AT+S.SOCKON=127.0.0.1,{port},,t"]),
            ):
                w.write(cmd.encode() + b"\r")
                while OK not in buf:
                    if b"AT-S.ERROR" in buf:
                        raise SystemExit(f"{cmd}: {bytes(buf)!r}")
                    buf += await asyncio.wait_for(r.read(65536), 10)
                del buf[: buf.index(OK) + len(OK)]
            got = 0
            t0 = time.perf_counter()
            inflight = 0
            if http:
                w.write(f"AT+S.HTTPGET=127.0.0.1,/big,{port}\r".encode())
                want = len(b"AT-S.Http Server Status Code:200\r\n") + total + len(OK)
                while len(buf) < want:
                    buf += await r.read(1 << 20)
                if not buf.endswith(OK):
                    raise SystemExit(f"HTTPGET: {bytes(buf[-200:])!r}")
                got = total
            while got < total:
                while inflight < 4:
                    w.write(b"AT+S.SOCKR=0\r")
                    inflight += 1
                got += await reply(r, buf)
                inflight -= 1
            dt = time.perf_counter() - t0
            w.close()
        finally:
            stop(proc)
    srv.close()
    return total / dt / 1e6


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mb", type=float, default=8)
    p.add_argument("--memsize", type=int, default=40)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--http", action="store_true", help="HTTPGET instead of SOCKR")
    a = p.parse_args()
    total = int(a.mb * 1e6)
    best: dict[str, float] = {}
    cases = ["floor", "no-match", "plan"]
    for i in range(a.rounds):
        # The order turns each round: the first run of a round is often the slowest.
        for case in cases[i % 3 :] + cases[: i % 3]:
            rate = await one(case, total, a.memsize, a.http)
            best[case] = max(best.get(case, 0.0), rate)
    for case, rate in best.items():
        print(f"{case:9s} {rate:8.1f} MB/s  ratio {rate / best['floor']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
