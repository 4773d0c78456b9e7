"""SerialTransport through a socat pty pair standing in for a USB-UART cable."""

from __future__ import annotations

import asyncio
import shutil

import pytest
import serial
from transport_helpers import SAFETY, Echo, Notes, read_serial_exactly

from atwifi.transports.serial import SerialTransport

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat (apt socat)")


@pytest.fixture
async def cable(tmp_path):
    """Two linked ptys: the module's end A, the host's end B."""
    a, b = tmp_path / "module", tmp_path / "host"
    proc = await asyncio.create_subprocess_exec(
        "socat", "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    async with asyncio.timeout(SAFETY):
        while b"starting data transfer loop" not in await proc.stderr.readline():
            pass
    yield proc, str(a), str(b)
    if proc.returncode is None:
        proc.terminate()
    await proc.wait()


def _talk(path: str, data: bytes) -> bytes:
    with serial.Serial(path, 115200, timeout=SAFETY) as port:
        port.write(data)
        return read_serial_exactly(port, len(data))


async def test_echo_over_the_cable(cable) -> None:
    _, a, b = cable
    t = SerialTransport(a, 115200)
    echo = Echo(t)
    await t.start(echo.feed)
    try:
        assert "115200" in t.describe() and a in t.describe()
        data = bytes(range(256)) + b"AT+S.STS\r"
        assert await asyncio.to_thread(_talk, b, data) == data.upper()
        assert await echo.wait_for(len(data)) == data
    finally:
        await t.close()


async def test_cable_pulled_module_keeps_running(cable) -> None:
    proc, a, _ = cable
    t = SerialTransport(a)
    notes = Notes(t)
    await t.start(Echo(t).feed)
    try:
        proc.terminate()
        await proc.wait()
        await notes.wait_for("gone")
        async with asyncio.timeout(SAFETY):
            for _ in range(50):
                t.write(b"+WIND:8:Hard Fault\r\n" * 100)
                await t.drain()
    finally:
        await t.close()
