"""Through a real `atwifi serve --trace FILE` process: a blocked PING fails as an unreachable
one on the wire, and the trace file says it was the policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness
from atwifi.spwf04.parts import PARTS

pytest.importorskip("atwifi.transports", reason="atwifi serve needs the transports branch")
pytest.importorskip("atwifi.trace", reason="--trace needs the transports branch")


def notes_in(path: Path) -> list[str]:
    # The module is still writing: its last record may be half written (no newline yet).
    complete = path.read_text(encoding="utf-8").rpartition("\n")[0]
    records = [json.loads(x) for x in complete.splitlines() if x.strip()]
    return [r["text"] for r in records if r.get("dir") == "note"]


async def test_blocked_ping_is_traced_as_policy(tmp_path: Path) -> None:
    rc = harness
    trace = tmp_path / "trace.jsonl"
    proc, port = rc.spawn_serve(tmp_path / "state", "--trace", str(trace))
    m = rc.ServedModule(proc, port)
    try:
        await m.connect()
        if any(ref.endswith(":RadioPart") for ref in PARTS):
            # a fresh module joins the default world's open network at boot: PING needs the link
            await m.read_until(b"+WIND:24:WiFi Up:")
        assert (await m.cmd("AT+S.SCFG=console_echo,0")).endswith(b"AT-S.OK\r\n")
        m.take()  # any other boot or join WINDs
        out = await m.cmd("AT+S.PING=1,56,192.0.2.1")
        assert out.endswith(b"AT-S.ERROR:60:IP not ready to send\r\n"), out
        # the note is written before the reply goes out, and each record is flushed
        assert any("blocked by network policy: 192.0.2.1" in n for n in notes_in(trace))
        out = await m.cmd("AT+S.PING=1,56,127.0.0.1")
        assert b"AT-S.Reply:1:127.0.0.1:" in out and out.endswith(b"AT-S.OK\r\n"), out
    finally:
        await m.disconnect()
        rc.stop_serve(proc)
