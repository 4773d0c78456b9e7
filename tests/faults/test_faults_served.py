"""`atwifi serve --scenario FILE` and `atwifi ctl fault.*`, on a real process."""

from __future__ import annotations

import subprocess
import sys

from fault_helpers import talker

from atwifi.control import ControlClient
from atwifi.trace import read_trace
from harness import SRC, ServedModule, spawn_serve, stop_serve


async def test_serve_scenario_and_ctl(tmp_path):
    srv, port, _ = await talker(b"")
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(
        f'[[step]]\nat = 0\nverb = "fault.add"\nargs = {{ kind = "refuse", match = "*:{port}" }}\n'
    )
    trace = tmp_path / "trace.jsonl"
    proc, cport = spawn_serve(
        tmp_path / "state", "--scenario", str(scenario), "--trace", str(trace)
    )
    try:
        async with srv:
            m = ServedModule(proc, cport)
            await m.connect()
            # The step at 0 s runs as soon as the module is on, before the radio's join ends.
            await m.joined()
            assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(
                b"AT-S.ERROR:74:Failed to open socket\r\n"
            )
            ctl = ControlClient(tmp_path / "state")
            assert await ctl.acall("fault.clear") == 1
            assert (await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")).endswith(b"AT-S.OK\r\n")
            await m.disconnect()
    finally:
        stop_serve(proc)
    notes = [r["text"] for r in read_trace(trace) if r["dir"] == "note"]
    assert any("fault #1 refuse: connection to 127.0.0.1:" in n for n in notes)
    assert any(n.startswith("scenario: done, 1/1") for n in notes)


def test_bad_scenario_file_is_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[step]]\nat = -1\nverb = "fault.add"\n')
    env = {"PYTHONPATH": str(SRC)}
    r = subprocess.run(
        [sys.executable, "-m", "atwifi", "serve", "--scenario", str(bad)],
        capture_output=True,
        env=env,
        timeout=30,
    )
    assert r.returncode == 2
    assert b"--scenario" in r.stderr and b"at must be >= 0" in r.stderr
