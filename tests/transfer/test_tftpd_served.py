"""`atwifi serve` with the TFTP server: the port printed at start, `atwifi ctl servers`,
`--port-map 69:<port>`, and a real transfer over the served module."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys

from atwifi.services import tftp as tftp_client
from atwifi.services.tftp import Timing
from harness import SRC, ServedModule, spawn_serve, stop_serve


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_served_port_map_print_and_ctl(tmp_path):
    port = free_udp_port()
    state = tmp_path / "state"
    proc, console = spawn_serve(state, "--port-map", f"69:{port}")
    try:
        assert proc.stdout is not None
        lines = []
        for _ in range(10):
            line = (await asyncio.to_thread(proc.stdout.readline)).decode().strip()
            lines.append(line)
            if "tftp server" in line:
                break
        assert lines[-1] == f"atwifi: tftp server on udp 127.0.0.1:{port}", lines
        env = dict(os.environ, PYTHONPATH=str(SRC))
        out = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "atwifi", "ctl", "--state", str(state), "servers"],
            capture_output=True,
            env=env,
            timeout=30,
        )
        # Other module servers (the web server's) are listed too.
        assert json.loads(out.stdout)["tftp"] == f"udp 127.0.0.1:{port}"
        m = ServedModule(proc, console)
        await m.connect()
        await m.joined()
        await tftp_client.put("127.0.0.1", port, "hello.txt", b"hi there", timing=Timing(1, 5))
        wind = await m.read_until(re.compile(rb"\+WIND:90:[^\r]*\r\n"))
        assert wind == b"+WIND:90:File Received:127.0.0.1:hello.txt\r\n"
        got = await m.cmd("AT+S.FSP=2:/hello.txt")
        assert got.endswith(b"AT-S.Reading:8:8\r\nhi thereAT-S.OK\r\n"), got
        await m.disconnect()
    finally:
        stop_serve(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


async def test_served_smtp_and_tftpget(tmp_path):
    from smtp_peers import Sink, smtp_server
    from tftp_peers import tftpy_server

    root = tmp_path / "root"
    root.mkdir()
    (root / "cfg.txt").write_bytes(b"x=1\n")
    proc, console = spawn_serve(tmp_path / "state")
    sink = Sink()
    srv, sport = await smtp_server(sink)
    try:
        m = ServedModule(proc, console)
        await m.connect()
        await m.joined()
        assert (await m.cmd("AT+S.SCFG=console_echo,0")).endswith(b"AT-S.OK\r\n")
        body = b"served body\n"
        line = f"AT+S.SMTP=localhost,{sport},,,,,mod@example.com,a@x.test,,,Served,,{len(body)}"
        assert await m.cmd(line, body) == b"AT-S.OK\r\n"
        with tftpy_server(root) as tport:
            assert await m.cmd(f"AT+S.TFTPGET=localhost,{tport},cfg.txt,") == b"AT-S.OK\r\n"
        assert await m.cmd("AT+S.FSP=2:/cfg.txt") == b"AT-S.Reading:4:4\r\nx=1\nAT-S.OK\r\n"
        await m.disconnect()
    finally:
        srv.close()
        stop_serve(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    (mail,) = sink.mails
    assert mail.content.endswith(b"\r\n\r\nserved body\r\n") and mail.helo == "SPWF04SA"
