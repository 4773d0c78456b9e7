"""A real `atwifi serve` process: it says where its web server is, `atwifi ctl` reports it,
and --port-map puts module port 80 where asked."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from httpd_helpers import request

from harness import SRC, spawn_serve, stop_serve


def _ctl(state: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    out = subprocess.run(
        [sys.executable, "-m", "atwifi", "ctl", "--state", str(state), *args],
        capture_output=True,
        env=env,
        timeout=30,
        check=True,
    )
    return json.loads(out.stdout)


def _web_line(proc: subprocess.Popen[bytes]) -> bytes:
    assert proc.stdout is not None
    for _ in range(20):
        line = proc.stdout.readline()
        if b"web server" in line:
            return line
    raise AssertionError("atwifi serve never said where its web server is")


async def test_serve_prints_and_ctl_reports_the_web_server(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc, _ = spawn_serve(state)
    try:
        line = _web_line(proc)
        m = re.search(rb"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line
        http_port = int(m.group(1))
        got = await request(http_port, target="/index.html")
        assert got.status == 200 and b"Wi-Fi module" in got.body
        shown = _ctl(state, "httpd.show")
        assert shown["http_port"] == http_port
        assert shown["urls"]["http"] == f"http://127.0.0.1:{http_port}/"
        assert shown["served"] >= 1
        servers = _ctl(state, "servers")
        assert servers["web"] == f"http://127.0.0.1:{http_port}/ (module port 80)"
        assert servers["captive-dns"].startswith("udp 127.0.0.1:")
    finally:
        stop_serve(proc)


async def test_port_map_places_port_80(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    proc, _ = spawn_serve(tmp_path / "state", "--port-map", f"80:{free}")
    try:
        assert f"http://127.0.0.1:{free}/".encode() in _web_line(proc)
        assert (await request(free, target="/firstset.html")).status == 200
    finally:
        stop_serve(proc)
