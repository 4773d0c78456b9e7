"""The test harness: a virtual module driven through the bytes a host sends.

* ``InProcessModule``: an in-process Device (fast); bytes go through the same codec, dispatch
  and output path as on any transport.
* ``ServedModule`` / ``spawn_serve``: a real ``atwifi serve --tcp 127.0.0.1:0`` process.

A plain module (tests/ is on pytest's pythonpath), so every test folder imports it by name;
the fixtures that use it are in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from atwifi.services.errors import ServiceError
from atwifi.spwf04.device import Device, Options

SRC = Path(__file__).resolve().parents[1] / "src"
TIMEOUT = 20.0  # safety net only: nothing waits for it in a passing test

_FINAL = re.compile(
    rb"(AT-S\.OK(?::[0-9]+:[0-9]+)?\r\n|AT-S\.ERROR[^\r\n]*\r\n|AT-S\.[A-Za-z ]+ Error:[0-9]+\r\n)"
)


def spwf04_number(exc: ServiceError) -> int:
    """The Table 10 number the SPWF04 dialect prints for a service's error kind."""
    from atwifi.errors import AtError
    from atwifi.spwf04.commands import handlers
    from atwifi.spwf04.wording import word

    handlers()  # every handler module registers its wordings on import
    out = word(exc)
    assert isinstance(out, AtError), out
    return out.number


def spwf04_result_line(exc: ServiceError) -> str:
    """The result line (``AT-S.Certificate Error:21``) the SPWF04 prints for ``exc``."""
    from atwifi.errors import AtResultLine
    from atwifi.spwf04.commands import handlers
    from atwifi.spwf04.wording import word

    handlers()
    out = word(exc)
    assert isinstance(out, AtResultLine), out
    return out.line


class Host:
    """What a host sees of a module: a byte stream in each direction."""

    def __init__(self) -> None:
        self.rx = bytearray()
        self._more = asyncio.Event()

    def received(self, data: bytes) -> None:
        self.rx += data
        self._more.set()

    async def read_until(
        self, marker: bytes | re.Pattern[bytes], timeout: float = TIMEOUT
    ) -> bytes:
        """Everything up to and including the first match; consumed."""

        async def wait() -> bytes:
            while True:
                if isinstance(marker, bytes):
                    i = self.rx.find(marker)
                    end = i + len(marker) if i >= 0 else -1
                else:
                    m = marker.search(self.rx)
                    end = m.end() if m else -1
                if end >= 0:
                    out = bytes(self.rx[:end])
                    del self.rx[:end]
                    return out
                self._more.clear()
                await self._more.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def reply(self, timeout: float = TIMEOUT) -> bytes:
        """Bytes up to and including the reply's final line (OK, ERROR or a result error)."""
        return await self.read_until(_FINAL, timeout)

    async def read_exactly(self, n: int, timeout: float = TIMEOUT) -> bytes:
        """Exactly ``n`` raw bytes of the module's output (a SOCKR payload...); consumed."""

        async def wait() -> bytes:
            while len(self.rx) < n:
                self._more.clear()
                await self._more.wait()
            out = bytes(self.rx[:n])
            del self.rx[:n]
            return out

        return await asyncio.wait_for(wait(), timeout)

    def take(self) -> bytes:
        out = bytes(self.rx)
        self.rx.clear()
        return out


class InProcessModule(Host):
    def __init__(self, state_dir: Path, **options: object) -> None:
        super().__init__()
        self.options = Options(state_dir=state_dir, **options)  # type: ignore[arg-type]
        self.device = Device(self.options)
        self.device.attach(self.received)

    def send(self, data: bytes) -> None:
        self.device.feed(data)

    async def cmd(self, line: str | bytes, data: bytes = b"", echo: bool | None = None) -> bytes:
        """Send one command (CR-terminated) and its data; return the reply without the echo."""
        raw = line.encode("latin-1") if isinstance(line, str) else line
        self.send(raw + b"\r" + data)
        out = await self.reply()
        if echo is None:
            echo = bool(self.device.config.get("console_echo"))
        if echo:
            assert out.startswith(raw + b"\r\n"), out
            out = out[len(raw) + 2 :]
        return out

    async def boot(self) -> bytes:
        """Power on; returns the boot WINDs and what the radio said until it settled (joined,
        failed its first try, or idle), so a test starts on a quiet console."""
        await self.device.power_on()
        out = await self.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
        return out + await self.settle()

    async def settle(self) -> bytes:
        radio = self.device.radio
        if radio is not None:
            await asyncio.wait_for(radio.wait_settled(), TIMEOUT)
        return self.take()

    async def restart(self) -> bytes:
        """Power-cycle: a new process of the module on the same flash."""
        await self.device.shutdown()
        self.device = Device(self.options)
        self.device.attach(self.received)
        self.rx.clear()
        return await self.boot()


class ServedModule(Host):
    """A real `atwifi serve` process on a TCP console."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        super().__init__()
        self.proc = proc
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self.disconnect()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._pump = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.reader is not None
        while data := await self.reader.read(65536):
            self.received(data)

    async def disconnect(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def send(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)
        await self.writer.drain()

    async def cmd(self, line: str, data: bytes = b"") -> bytes:
        await self.send(line.encode("latin-1") + b"\r" + data)
        return await self.reply()

    async def console_active(self) -> bytes:
        """The boot lines up to ``+WIND:0:Console active``: what a host waits for before it
        types (the module hears nothing until then)."""
        return await self.read_until(b"+WIND:0:Console active\r\n")

    async def joined(self) -> bytes:
        """Boot WINDs through the default world's join: IPv4 then IPv6 WIND:24."""
        return await self.read_until(b"+WIND:24:WiFi Up::") + await self.read_until(b"\r\n")


def spawn_serve(state_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atwifi",
            "serve",
            "--tcp",
            "127.0.0.1:0",
            "--state",
            str(state_dir),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    for _ in range(20):
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(rb"127\.0\.0\.1:(\d+)", line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    raise RuntimeError("atwifi serve did not say where it listens: " + proc.stderr.read().decode())


def stop_serve(proc: subprocess.Popen[bytes], hard: bool = False) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
