"""`AT` round trip over the SPI console against the same over the UART console (a script).

    PYTHONPATH=src python benchmarks/spi_roundtrip.py [-n 2000]

Two `atwifi serve` processes from this checkout, in the same run: one whose console is the
UART (raw TCP, echo off), one switched to SPI (`console_enabled=0`, saved, reset) and driven
on its bus socket (docs/spi.md) by the simplest blocking host: per command one transfer
with the sync byte and the packet, then, once IRQ goes low, one transfer that reads the
`AT-S.OK` packet (sync byte and 4-byte header). Prints the median round trip of both in
microseconds and their ratio; the UART round trip is the floor (the bus costs two socket
round trips per command where the UART costs one, so about 2 is the expected ratio).

Everything stays on 127.0.0.1 and in a temporary folder.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import serve
from serve import start, stop

OK = b"AT-S.OK\r\n"
TIMEOUT = 10.0
AT_PACKET = bytes([0x02, 0x00, 0x02, 0x01, 0x00])  # AT: id 0x01, no parameter
SELECT_XFER, MISO, IRQ, HELLO = 0x04, 0x81, 0x82, 0x80


class Uart(serve.Console):
    def __init__(self, port: int) -> None:
        super().__init__(port, TIMEOUT)

    def at(self) -> None:
        self.sock.sendall(b"AT\r")
        self.read_until(OK)


class SpiHost:
    """A blocking bus host: the least a driver does per command."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.buf = bytearray()
        self.irq = 1
        kind, body = self.message()
        assert kind == HELLO, kind
        self.irq = body[2]

    def message(self) -> tuple[int, bytes]:
        while True:
            if len(self.buf) >= 3:
                n = (self.buf[1] << 8) | self.buf[2]
                if len(self.buf) >= 3 + n:
                    kind, body = self.buf[0], bytes(self.buf[3 : 3 + n])
                    del self.buf[: 3 + n]
                    return kind, body
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("the SPI bus closed")
            self.buf += chunk

    def transfer(self, mosi: bytes) -> bytes:
        self.sock.sendall(struct.pack(">BH", SELECT_XFER, len(mosi)) + mosi)
        while True:
            kind, body = self.message()
            if kind == MISO:
                return body
            if kind == IRQ:
                self.irq = body[0]

    def wait_irq(self, level: int) -> None:
        while self.irq != level:
            kind, body = self.message()
            if kind == IRQ:
                self.irq = body[0]

    def drain(self) -> None:
        """Read whatever the module has to say (boot WINDs), until it is quiet."""
        while True:
            miso = self.transfer(b"\x00" * 256)
            if miso == b"\xff" * 256:
                return

    def at(self) -> None:
        while (miso := self.transfer(AT_PACKET))[0] == 0x02:
            # The module had a packet of its own (a late WIND): read it, write again.
            self.transfer(b"\x00" * (miso[3] | miso[4] << 8))
        self.wait_irq(0)
        reply = self.transfer(b"\x00" * 5)
        if reply[0] != 0x02 or reply[1] >> 4 != 3 or reply[2] != 0 or reply[3:5] != b"\0\0":
            raise SystemExit(f"not an OK packet: {reply.hex()}")


def serve_argv(state: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "atwifi",
        "serve",
        "--tcp",
        "127.0.0.1:0",
        "--state",
        str(state),
        *extra,
    ]


def timed(fn: Callable[[], None], n: int) -> list[float]:
    out = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        fn()
        out.append((clock() - t0) / 1000)
    return out


def interleaved(
    a: Callable[[], None], b: Callable[[], None], n: int, rounds: int = 20
) -> tuple[list[float], list[float]]:
    timed(a, min(100, n))  # warm-up
    timed(b, min(100, n))
    ra: list[float] = []
    rb: list[float] = []
    per = max(1, n // rounds)
    while len(ra) < n:
        k = min(per, n - len(ra))
        ra += timed(a, k)
        rb += timed(b, k)
    return ra, rb


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=2000, help="round trips per console (default 2000)")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="atwifi-bench-") as tmp:
        bus_path = str(Path(tmp) / "bus.sock")
        uart_proc, uart_port = start(serve_argv(Path(tmp) / "uart"))
        spi_proc, spi_uart_port = start(serve_argv(Path(tmp) / "spi", "--spi", bus_path))
        try:
            uart = Uart(uart_port)
            uart.read_until(b"+WIND:0:Console active\r\n")
            assert uart.command(b"AT+S.SCFG=console_echo,0").endswith(OK)

            switch = Uart(spi_uart_port)
            switch.read_until(b"+WIND:0:Console active\r\n")
            assert switch.command(b"AT+S.SCFG=console_enabled,0").endswith(OK)
            assert switch.command(b"AT+S.WCFG").endswith(OK)
            switch.sock.sendall(b"AT+S.RESET\r")
            switch.sock.close()
            spi = SpiHost(bus_path)
            spi.wait_irq(0)  # the boot WINDs, now on the bus
            time.sleep(0.5)  # the join: let it finish before measuring
            spi.drain()

            spi_times, uart_times = interleaved(spi.at, uart.at, args.n)
        finally:
            stop(uart_proc)
            stop(spi_proc)

    s_med, u_med = statistics.median(spi_times), statistics.median(uart_times)
    print(f"round trips: {args.n} each, AT -> OK, one at a time, interleaved")
    print(f"  SPI bus (unix socket) : median {s_med:8.1f} us  (p90 {_p90(spi_times):.1f} us)")
    print(f"  UART console (TCP)    : median {u_med:8.1f} us  (p90 {_p90(uart_times):.1f} us)")
    print(f"  ratio SPI / UART      : {s_med / u_med:.2f}")
    return 0


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


if __name__ == "__main__":
    raise SystemExit(main())
