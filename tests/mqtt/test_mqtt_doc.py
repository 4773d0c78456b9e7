"""docs/mqtt-tls.md runs as written: its shell blocks in order (``sh server`` blocks as
background processes), its ``python file=...`` block saved, each ``text`` block compared with
what the block before it printed. Ports are free ones (the doc's defaults are variables)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mqtt_peers import free_ports

DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt-tls.md"
BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1).strip(), m.group(2)) for m in BLOCK.finditer(DOC.read_text())]


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl missing")
def test_doc_runs_as_written(tmp_path: Path) -> None:
    broker, plain, module = free_ports(3)
    env = dict(
        os.environ,
        BROKER_PORT=str(broker),
        PLAIN_PORT=str(plain),
        MODULE_PORT=str(module),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    servers: list[subprocess.Popen[bytes]] = []
    last_output = ""
    kinds = [info for info, _ in blocks()]
    assert kinds.count("sh server") == 2 and "text" in kinds
    try:
        for info, body in blocks():
            if info.startswith("python file="):
                target = tmp_path / info.split("=", 1)[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(body)
            elif info == "sh server":
                if "mosquitto" in body and os.geteuid() == 0:
                    # what the doc tells root to do
                    with (tmp_path / "mqtt-tls" / "mosquitto.conf").open("a") as f:
                        f.write("user root\n")
                proc = subprocess.Popen(
                    ["bash", "-ec", body],
                    cwd=tmp_path,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
                servers.append(proc)
                wait_port(broker if "mosquitto" in body else module, proc)
            elif info == "sh":
                run = subprocess.run(
                    ["bash", "-ec", body], cwd=tmp_path, env=env, capture_output=True, timeout=120
                )
                assert run.returncode == 0, run.stderr.decode()
                last_output = run.stdout.decode()
            elif info == "text":
                assert last_output == body, f"doc says:\n{body}\nran:\n{last_output}"
    finally:
        for proc in servers:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
            proc.wait(10)
