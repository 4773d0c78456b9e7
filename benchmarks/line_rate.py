"""Console line rate with pacing (`atwifi serve --pace`): bytes per second through the pty and
the TCP console at 9600, 115200 and 921600 baud, against the configured rate (rate / 10 bytes
per second at 8N1). Host -> module: an AT+S.FSC upload; module -> host: AT+S.FSP of it.

    python benchmarks/line_rate.py [--seconds 2]

Prints one line per transport, rate and direction with the ratio measured / configured, the
median of --rounds rounds (target: within 2% of 1.0).
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
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from serve import env, stop  # noqa: E402

from atwifi.services.flash import Flash  # noqa: E402
from atwifi.spwf04.config import Config  # noqa: E402

RATES = (9600, 115200, 921600)
OK = b"AT-S.OK\r\n"


def prepare(state: Path, rate: int) -> None:
    """A flash whose saved configuration runs the console at ``rate``, echo off."""
    state.mkdir(parents=True, exist_ok=True)
    cfg = Config(Flash(state / "flash"))
    cfg.load()
    cfg.set("console_speed", str(rate))
    cfg.set("console_echo", "0")
    cfg.save()


def spawn(state: Path, ext: Path, rate: int, transport: str) -> tuple[subprocess.Popen, str]:
    where = ["--tcp", "127.0.0.1:0"] if transport == "tcp" else []
    argv = [sys.executable, "-m", "atwifi", "serve", *where, "--pace", "--baud", str(rate)]
    argv += ["--state", str(state), "--ext-folder", str(ext)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    assert proc.stdout is not None
    pattern = rb"127\.0\.0\.1:(\d+)" if transport == "tcp" else rb"(/dev/pts/\d+)"
    for _ in range(20):
        m = re.search(pattern, proc.stdout.readline())
        if m:
            return proc, m.group(1).decode()
    proc.kill()
    raise SystemExit(f"atwifi serve did not start: {proc.stderr.read().decode()}")


class Host:
    """Bytes in and out of the console, with the time each chunk arrived."""

    def __init__(self) -> None:
        self.rx = bytearray()
        self.first: float | None = None
        self.last = 0.0
        self._more = asyncio.Event()
        self.send = lambda data: None

    def received(self, data: bytes) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now
        self.rx += data
        self._more.set()

    async def until(self, marker: bytes, timeout: float = 600) -> None:
        async with asyncio.timeout(timeout):
            while marker not in self.rx:
                self._more.clear()
                await self._more.wait()

    def reset(self) -> None:
        self.rx.clear()
        self.first = None


async def connect(transport: str, where: str, rate: int) -> tuple[Host, object]:
    host = Host()
    loop = asyncio.get_running_loop()
    if transport == "tcp":
        reader, writer = await asyncio.open_connection("127.0.0.1", int(where))

        async def pump() -> None:
            while data := await reader.read(65536):
                host.received(data)

        task = asyncio.create_task(pump())

        def send(data: bytes) -> None:
            writer.write(data)

        host.send = send
        return host, (task, writer)
    fd = os.open(where, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    mode = termios.tcgetattr(fd)
    mode[4] = mode[5] = getattr(termios, f"B{rate}")
    termios.tcsetattr(fd, termios.TCSANOW, mode)
    loop.add_reader(fd, lambda: host.received(os.read(fd, 65536)))
    pending = bytearray()

    def flush() -> None:
        try:
            n = os.write(fd, pending)
        except BlockingIOError:
            n = 0
        del pending[:n]
        if not pending:
            loop.remove_writer(fd)

    def send(data: bytes) -> None:
        if not pending:
            loop.add_writer(fd, flush)
        pending.extend(data)

    host.send = send
    return host, fd


async def close(transport: str, handle: object) -> None:
    if transport == "tcp":
        task, writer = handle  # type: ignore[misc]
        task.cancel()
        writer.close()
    else:
        asyncio.get_running_loop().remove_reader(handle)  # type: ignore[arg-type]
        os.close(handle)  # type: ignore[arg-type]


async def measure(transport: str, rate: int, seconds: float) -> list[tuple[str, float]]:
    line_bps = rate / 10
    size = int(line_bps * seconds)
    limit = 20 + 10 * seconds  # a stalled round fails instead of hanging the benchmark
    with tempfile.TemporaryDirectory() as tmp:
        state, ext = Path(tmp) / "state", Path(tmp) / "ext"
        ext.mkdir()
        prepare(state, rate)
        proc, where = spawn(state, ext, rate, transport)
        try:
            host, handle = await connect(transport, where, rate)
            await host.until(b"+WIND:32:WiFi Hardware Started\r\n", 30)
            host.send(b"AT\r")
            await host.until(OK, 30)
            out: list[tuple[str, float]] = []
            # Host -> module: the upload takes the line's time; the OK follows the last byte.
            data = os.urandom(size).replace(b"\r", b"x")
            command = f"AT+S.FSC=0:/b.bin,{size}\r".encode()
            host.reset()
            t0 = time.perf_counter()
            host.send(command + data)
            await host.until(OK, limit)
            # The OK itself crossed the line back after the last byte: not upload time.
            elapsed = time.perf_counter() - t0 - len(OK) / line_bps
            out.append(("host->module", (len(command) + size) / elapsed / line_bps))
            # Module -> host: from the first byte of the reply to the last.
            host.reset()
            host.send(b"AT+S.FSP=0:/b.bin\r")
            await host.until(data[-32:] + OK, limit)
            got = len(host.rx)
            assert host.first is not None
            out.append(("module->host", (got - 1) / (host.last - host.first) / line_bps))
            await close(transport, handle)
            return out
        finally:
            stop(proc)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=3.0, help="line time per measurement")
    p.add_argument("--rounds", type=int, default=3, help="rounds per row (the median is shown)")
    a = p.parse_args()
    print(f"{'console':8} {'baud':>7} {'direction':13} {'bytes/s':>9} {'ratio':>6}")
    worst = 0.0
    for transport in ("pty", "tcp"):
        for rate in RATES:
            # Median of a few rounds: the machine is shared, a round can lose the CPU.
            rounds = []
            for _ in range(a.rounds):
                try:
                    rounds.append(await measure(transport, rate, a.seconds))
                except TimeoutError:
                    print(f"{transport:8} {rate:>7} a round stalled (timed out): left out")
            if not rounds:
                continue
            for i, (direction, _) in enumerate(rounds[0]):
                ratio = statistics.median(r[i][1] for r in rounds)
                worst = max(worst, abs(ratio - 1))
                bps = ratio * rate / 10
                flag = "" if abs(ratio - 1) <= 0.02 else "  <- outside 2%"
                print(f"{transport:8} {rate:>7} {direction:13} {bps:>9.0f} {ratio:>6.3f}{flag}")
    print(f"worst deviation from the configured rate: {worst * 100:.2f}%")


if __name__ == "__main__":
    asyncio.run(main())
