"""The real virtual module behind each plug, reached as a host would reach it."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import serial
from transport_helpers import SAFETY

from atwifi.spwf04.device import Device, Options
from atwifi.trace import Trace, TracingTransport, read_trace
from atwifi.transports import make_transport
from atwifi.transports.base import Transport

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:serial.rfc2217")

SRC = Path(__file__).resolve().parents[2] / "src"
BOOTED = b"+WIND:32:WiFi Hardware Started\r\n"


async def _powered(transport: Transport, state: Path) -> Device:
    device = Device(Options(state_dir=state))
    device.attach(transport.write, transport.drain)
    await transport.start(device.feed)
    await device.power_on()
    return device


def _read_until(port: serial.SerialBase, marker: bytes) -> bytes:
    return port.read_until(marker)


def _session(port: serial.SerialBase) -> tuple[bytes, bytes]:
    """Boot output (already waiting), then an AT exchange."""
    boot = port.read_until(BOOTED)
    port.write(b"AT\r")
    reply = port.read_until(b"AT-S.OK\r\n")
    return boot, reply


async def test_tcp_host_connecting_after_power_on_sees_the_boot(tmp_path: Path) -> None:
    t = make_transport("tcp", "127.0.0.1:0")
    device = await _powered(t, tmp_path / "state")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", t.port)
        boot = await asyncio.wait_for(reader.readuntil(BOOTED), SAFETY)
        assert b"+WIND:0:Console active\r\n" in boot
        writer.write(b"AT\r")
        assert (await asyncio.wait_for(reader.readuntil(b"AT-S.OK\r\n"), SAFETY)).endswith(
            b"AT-S.OK\r\n"
        )
        writer.close()
    finally:
        await device.shutdown()
        await t.close()


async def test_rfc2217_pyserial_host_after_power_on(tmp_path: Path) -> None:
    t = make_transport("rfc2217", "127.0.0.1:0")
    device = await _powered(t, tmp_path / "state")
    try:
        url = f"rfc2217://127.0.0.1:{t.port}?timeout={SAFETY}"
        port = await asyncio.to_thread(serial.serial_for_url, url, 115200, timeout=SAFETY)
        try:
            boot, reply = await asyncio.to_thread(_session, port)
        finally:
            await asyncio.to_thread(port.close)
        assert b"+WIND:0:Console active\r\n" in boot and boot.endswith(BOOTED)
        assert reply.endswith(b"AT-S.OK\r\n")
    finally:
        await device.shutdown()
        await t.close()


async def test_pty_with_trace(tmp_path: Path) -> None:
    trace = Trace(tmp_path / "trace.jsonl", verbose=False)
    link = str(tmp_path / "console")
    t = TracingTransport(make_transport("pty", None, pty_link=link), trace)
    device = await _powered(t, tmp_path / "state")
    try:
        port = await asyncio.to_thread(serial.Serial, link, 115200, timeout=SAFETY)
        try:
            # pyserial empties the kernel's input queue when it opens: ask for something new
            await asyncio.to_thread(port.write, b"AT\r")
            reply = await asyncio.to_thread(_read_until, port, b"AT-S.OK\r\n")
        finally:
            await asyncio.to_thread(port.close)
        assert reply.endswith(b"AT-S.OK\r\n")
    finally:
        await device.shutdown()
        await t.close()
        trace.close()
    records = read_trace(tmp_path / "trace.jsonl")
    out = b"".join(bytes.fromhex(r["hex"]) for r in records if r["dir"] == "out")
    ins = b"".join(bytes.fromhex(r["hex"]) for r in records if r["dir"] == "in")
    # The radio's join WINDs may still follow the reply before the shutdown.
    assert BOOTED in out and b"AT\r\nAT-S.OK\r\n" in out and ins == b"AT\r"


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-m", "atwifi", "serve", "--state", str(tmp_path / "state"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _where(proc: subprocess.Popen[bytes]) -> int:
    assert proc.stdout is not None
    for _ in range(20):
        line = proc.stdout.readline()
        m = re.search(rb"rfc2217://127\.0\.0\.1:(\d+)", line)
        if m:
            return int(m.group(1))
    raise AssertionError("atwifi serve did not say where it listens")


async def test_served_rfc2217_with_trace_file(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    proc = _serve(tmp_path, "--rfc2217", "127.0.0.1:0", "--trace", str(trace))
    try:
        port_no = await asyncio.wait_for(asyncio.to_thread(_where, proc), SAFETY)
        url = f"rfc2217://127.0.0.1:{port_no}?timeout={SAFETY}"
        port = await asyncio.to_thread(serial.serial_for_url, url, 115200, timeout=SAFETY)
        try:
            boot, reply = await asyncio.to_thread(_session, port)
        finally:
            await asyncio.to_thread(port.close)
        assert boot.endswith(BOOTED) and reply.endswith(b"AT-S.OK\r\n")
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, SAFETY)
    records = read_trace(trace)
    assert any(r["dir"] == "in" and bytes.fromhex(r["hex"]) == b"AT\r" for r in records)
    assert any("uses RFC 2217" in r.get("text", "") for r in records)
