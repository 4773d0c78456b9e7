"""mpremote itself, over the module's pty: `mpremote connect <pty> exec ...` once the host
has opened the REPL (AT+S.PYTHON, console_enabled=2)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from atwifi.spwf04.device import Device, Options
from atwifi.transports import make_transport

SAFETY = 20.0
BOOTED = b"+WIND:32:WiFi Hardware Started\r\n"


def _mpremote() -> list[str]:
    exe = Path(sys.executable).parent / "mpremote"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("mpremote")
    if found is None:
        pytest.skip("mpremote is not installed")
    return [found]


def _open_repl(path: str) -> bytes:
    with serial.Serial(path, 115200, timeout=SAFETY) as port:
        for line in (b"AT+S.SCFG=console_enabled,2\r", b"AT+S.WCFG\r"):
            port.write(line)
            port.read_until(b"AT-S.OK\r\n")
        port.write(b"AT+S.RESET\r")
        port.read_until(BOOTED)
        port.write(b"AT+S.PYTHON\r")
        return port.read_until(b">>> ")


def _leave_repl(path: str) -> bytes:
    with serial.Serial(path, 115200, timeout=SAFETY) as port:
        port.write(b"\x04")
        out = port.read_until(b"AT-S.OK\r\n")
        port.write(b"AT\r")
        return out + port.read_until(b"AT-S.OK\r\n")


async def test_mpremote_exec_over_the_pty(tmp_path: Path) -> None:
    cmd = _mpremote()
    t = make_transport("pty", None)
    device = Device(Options(state_dir=tmp_path / "state"))
    device.attach(t.write, t.drain)
    await t.start(device.feed)
    await device.power_on()
    try:
        path = t.path  # type: ignore[attr-defined]
        banner = await asyncio.to_thread(_open_repl, path)
        assert b"MicroPython v1." in banner
        script = (
            "import spwf04, sys; print(sys.implementation.name, spwf04.gcfg('console_enabled'))"
        )
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            "connect",
            path,
            "exec",
            script,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), SAFETY)
        assert proc.returncode == 0, (out, err)
        assert out.replace(b"\r\n", b"\n") == b"micropython 2\n", (out, err)
        # mpremote left the raw REPL with Ctrl-B: the friendly REPL is there, Ctrl-D ends it.
        tail = await asyncio.to_thread(_leave_repl, path)
        # WINDs raised meanwhile (the join) were held until the REPL ended.
        assert tail.startswith(b"\r\nAT-S.OK\r\n+WIND:"), tail
        assert tail.endswith(b"AT\r\nAT-S.OK\r\n"), tail
    finally:
        await device.shutdown()
        await t.close()
