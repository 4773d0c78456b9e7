"""A console host that does not read while it floods the module with commands: the module
stops reading it (backpressure) instead of queueing replies without bound, and once the host
reads again it gets every reply, in order, nothing lost. Memory is measured as the served
process's resident set (/proc/<pid>/status)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import SRC, stop_serve

COMMANDS = 1_000_000  # 3 MB of AT\r: 13 MB of echo and replies, were they all queued
RSS_BOUND = 6 * 1024 * 1024  # bytes the module may grow by meanwhile (docs/behaviour.md)
LONG, LINES = 600, 16_000  # 9.6 MB of lines too long to be commands
TOO_LONG = b"AT-S.ERROR:32:Argument exceeds allowed size\r\n"
_WIND = re.compile(rb"\+WIND:[^\r\n]*\r\n")


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def serve(state: Path, kind: str) -> tuple[subprocess.Popen[bytes], int]:
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [
        sys.executable,
        "-m",
        "atwifi",
        "serve",
        f"--{kind}",
        "127.0.0.1:0",
        "--state",
        str(state),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    for _ in range(20):
        m = re.search(rb"127\.0\.0\.1:(\d+)", proc.stdout.readline())
        if m:
            return proc, int(m.group(1))
    proc.kill()
    raise RuntimeError("atwifi serve did not say where it listens")


def host(port: int) -> socket.socket:
    """The host's end of the console, with small kernel buffers on its side: the module's
    queue shows, not the kernel's."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    s.connect(("127.0.0.1", port))
    return s


def read_until(s: socket.socket, marker: bytes) -> bytes:
    s.settimeout(20)
    buf = b""
    while marker not in buf:
        chunk = s.recv(65536)
        assert chunk, buf
        buf += chunk
    return buf


def send_until_refused(s: socket.socket, data: bytes) -> int:
    """Send without reading until the module stops taking bytes (no progress for a while:
    that is what the assertions are about, not a duration); how many bytes went."""
    sent, idle = 0, 0
    while sent < len(data) and idle < 60:
        try:
            sent += s.send(data[sent : sent + 65536])
            idle = 0
        except BlockingIOError:
            idle += 1
            time.sleep(0.02)
    return sent


def exchange(s: socket.socket, data: bytes, sent: int) -> tuple[int, bytes]:
    """The host reads again: it sends what is left as the module takes it, and returns that
    count with the next bytes that came back."""
    while True:
        if sent < len(data):
            with contextlib.suppress(BlockingIOError):
                sent += s.send(data[sent : sent + 65536])
        try:
            chunk = s.recv(1 << 20)
        except BlockingIOError:
            time.sleep(0.001)
            continue
        assert chunk
        return sent, chunk


@pytest.mark.parametrize("kind", ["tcp", "rfc2217"])
def test_host_that_does_not_read(tmp_path, kind):
    proc, port = serve(tmp_path / "state", kind)
    try:
        s = host(port)
        if kind == "rfc2217":
            s.sendall(b"\r")  # a first data byte: the port is open, output flows
        read_until(s, b"+WIND:0:Console active\r\n")
        s.sendall(b"AT\r")
        read_until(s, b"AT-S.OK\r\n")  # the console hears us; what follows is the flood's
        base = rss(proc.pid)
        data = b"AT\r" * COMMANDS
        s.setblocking(False)
        sent = send_until_refused(s, data)
        grown = rss(proc.pid) - base
        assert sent < len(data), "the module took the whole flood without being read"
        assert grown < RSS_BOUND, f"grew by {grown} bytes"
        # The host reads again: every reply, in order, nothing lost.
        out = bytearray()
        while sent < len(data) or len(out) < 13 * COMMANDS:
            sent, chunk = exchange(s, data, sent)
            out += chunk
            if len(out) > 13 * COMMANDS:
                out = bytearray(_WIND.sub(b"", bytes(out)))  # the radio's WINDs, if any
        body = _WIND.sub(b"", bytes(out))
        assert body == b"AT\r\nAT-S.OK\r\n" * COMMANDS
        assert rss(proc.pid) - base < RSS_BOUND
        s.close()
    finally:
        stop_serve(proc)


def test_host_that_floods_a_busy_console(tmp_path):
    """While a command waits (a TLS handshake with a peer that never answers), what the host
    sends waits in its own buffers, not the module's; then every command is answered."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    proc, port = serve(tmp_path / "state", "tcp")
    try:
        s = host(port)
        read_until(s, b"+WIND:24:WiFi Up:")  # joined: the module has an IP address
        s.sendall(b"AT\r")
        read_until(s, b"AT-S.OK\r\n")
        base = rss(proc.pid)
        s.sendall(b"AT+S.SOCKON=127.0.0.1,%d,,s\r" % silent.getsockname()[1])
        # Over-long lines: cheap for the console once it reads them (one error each).
        data = b"x" * (LONG - 1) + b"\r"
        data *= LINES
        s.setblocking(False)
        sent = send_until_refused(s, data)
        grown = rss(proc.pid) - base
        assert sent < len(data), "the module took the whole flood while busy"
        assert grown < RSS_BOUND, f"grew by {grown} bytes"
        out = bytearray()
        while sent < len(data) or out.count(b"AT-S.ERROR") < LINES + 1:
            sent, chunk = exchange(s, data, sent)
            out += chunk
        body = _WIND.sub(b"", bytes(out))
        head = b"AT+S.SOCKON=127.0.0.1,%d,,s\r\nAT-S.ERROR:74:Failed to open socket\r\n"
        assert body.startswith(head % silent.getsockname()[1]), body[:200]
        assert body.count(TOO_LONG) == LINES
        s.close()
    finally:
        stop_serve(proc)
        silent.close()
