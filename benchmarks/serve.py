"""Starting and stopping server processes for the benchmarks: `atwifi serve` from this
checkout, and floors written in the same Python."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return dict(os.environ, PYTHONPATH=str(SRC) + (os.pathsep + path if path else ""))


def start(argv: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server process; return it and the port it printed."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    assert proc.stdout is not None
    for _ in range(20):
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(rb"127\.0\.0\.1:(\d+)", line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    err = proc.stderr.read().decode() if proc.stderr else ""
    raise SystemExit(f"{argv[:4]} did not say where it listens:\n{err}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve_argv(state: Path) -> list[str]:
    return [sys.executable, "-m", "atwifi", "serve", "--tcp", "127.0.0.1:0", "--state", str(state)]


OK = b"AT-S.OK\r\n"


class Console:
    """A blocking TCP console client: the simplest host, the same for every server."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
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

    def reply(self, line: bytes, data: bytes = b"") -> bytes:
        """Send a command (and its data); its reply up to the final line: AT-S.OK or an
        error (a failing command ends the wait instead of timing out)."""
        self.sock.sendall(line + b"\r" + data)
        out = bytearray()
        while True:
            last = self.read_until(b"\r\n")
            out += last
            if last.startswith((b"AT-S.OK", b"AT-S.ERROR")) or b" Error:" in last:
                return bytes(out)

    def close(self) -> None:
        self.sock.close()
