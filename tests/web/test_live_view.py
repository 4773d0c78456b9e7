"""The live view (`atwifi serve --web`): the page follows a working module, its buttons act
through the control verbs. Driven in Debian's headless chromium by Playwright; skipped when
either is missing here (CI installs both: scripts/test, the test extra)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness import ServedModule, spawn_serve, stop_serve

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _web_url(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stdout is not None
    for _ in range(20):
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(rb"live view on (http://\S+)", line)
        if m:
            return m.group(1).decode()
    raise AssertionError("atwifi serve --web did not print its address")


@pytest.fixture
async def web_module(tmp_path: Path) -> AsyncIterator[tuple[ServedModule, str]]:
    proc, port = spawn_serve(tmp_path / "state", "--web", "127.0.0.1:0")
    try:
        url = _web_url(proc)
        m = ServedModule(proc, port)
        await m.connect()
        await m.joined()
        yield m, url
        await m.disconnect()
    finally:
        stop_serve(proc)


async def _get(url: str) -> object:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(url) as r:
        assert r.status == 200
        return await r.json()


async def _post(url: str, body: object) -> object:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.post(url, data=json.dumps(body)) as r:
        return await r.json()


async def test_state_and_verbs_over_http(web_module: tuple[ServedModule, str]) -> None:
    m, url = web_module
    assert (await m.cmd("AT+S.SCFG=wifi_rssi_thresh,-70")).endswith(b"AT-S.OK\r\n")
    state = await _get(url + "api/state")
    assert isinstance(state, dict)
    assert state["radio"]["wifi_state"] == 10
    assert state["radio"]["ssid"] == "STTest"
    assert state["config"]["wifi_rssi_thresh"]["value"] == "-70"
    trace = await _get(url + "api/trace")
    assert isinstance(trace, list)
    assert any("+WIND:24" in r["text"] and "wind" in r["marks"] for r in trace)
    assert any(r["dir"] == "in" and "wifi_rssi_thresh" in r["text"] for r in trace)
    # The same verbs as the ctl socket, with the same errors.
    assert await _post(url + "api/verb", {"verb": "ping", "args": {}}) == {
        "ok": True,
        "result": "pong",
    }
    bad = await _post(url + "api/verb", {"verb": "nope", "args": {}})
    assert isinstance(bad, dict) and bad["ok"] is False and "unknown verb" in bad["error"]
    malformed = await _post(url + "api/verb", ["not", "an", "object"])
    assert isinstance(malformed, dict) and malformed["ok"] is False
    # A server socket and a client of it show with their buffers.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert (await m.cmd(f"AT+S.SOCKDON={port},t")).endswith(b"AT-S.OK\r\n")
    _r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"12345")
    await m.read_until(b"+WIND:55:Pending Data:0:0:5:5\r\n")
    state = await _get(url + "api/state")
    assert isinstance(state, dict)
    (server,) = state["sockets"]["servers"]
    assert server["port"] == port and server["kind"] == "t"
    (client,) = server["clients"]
    assert client["unread"] == 5 and client["capacity"] > 5
    w.close()
    result = await _post(url + "api/verb", {"verb": "link.drop", "args": {"kind": "deauth"}})
    assert result == {"ok": True, "result": "dropping"}
    await m.read_until(b"+WIND:40:")
    assert (await m.cmd("AT")).endswith(b"AT-S.OK\r\n")


async def test_event_stream_carries_trace_and_state(web_module: tuple[ServedModule, str]) -> None:
    """Without a browser: the SSE stream sends a state first, then the console's bytes as
    they pass, then a state again."""
    import aiohttp

    m, url = web_module
    async with aiohttp.ClientSession() as s, s.get(url + "api/events") as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")

        async def next_event() -> tuple[str, object]:
            name, data = "", ""
            while True:
                line = (await r.content.readline()).decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and name:
                    return name, json.loads(data)

        name, first = await next_event()
        assert name == "state" and isinstance(first, dict) and first["booted"] is True
        assert (await m.cmd("AT+S.SCFG=ip_sock_threshold,40")).endswith(b"AT-S.OK\r\n")
        seen_in = seen_state = False
        while not (seen_in and seen_state):
            name, data = await next_event()
            if name == "trace":
                assert isinstance(data, list)
                seen_in = seen_in or any(
                    rec["dir"] == "in" and "ip_sock_threshold,40" in rec["text"] for rec in data
                )
            elif name == "state" and seen_in:
                assert isinstance(data, dict)
                seen_state = data["config"].get("ip_sock_threshold", {}).get("value") == "40"


def _chromium() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed (scripts/test installs it)")
    pytest.importorskip("playwright.async_api", reason="playwright is in the test extra")
    return found


@pytest.mark.browser
async def test_page_follows_the_module_and_buttons_act(
    web_module: tuple[ServedModule, str],
) -> None:
    chromium = _chromium()
    from playwright.async_api import async_playwright, expect

    m, url = web_module
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium,
            args=ARGS,
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            await page.goto(url)
            await expect(page.locator("#conn")).to_have_text("live")
            await expect(page.locator("#wifi")).to_contain_text("ready to transmit data")
            await expect(page.locator("#wifi")).to_contain_text("STTest")
            await expect(page.locator("#trace .rec.wind").first).to_be_visible()

            # A command on the console: the trace and the state follow on the page.
            assert (await m.cmd("AT+S.SCFG=ip_sock_threshold,50")).endswith(b"AT-S.OK\r\n")
            await expect(page.locator("#trace")).to_contain_text("ip_sock_threshold,50")
            await expect(page.locator('#config tr[data-var="ip_sock_threshold"]')).to_contain_text(
                "50"
            )
            # An error reply is marked as one.
            assert b"AT-S.ERROR:4:" in await m.cmd("AT+S.SCFG=no_such_variable,1")
            await expect(page.locator("#trace .rec.error").last).to_contain_text("ERROR")

            # A button: the control verb runs, its WIND reaches the console and the page.
            await page.locator("#buttons button", has_text="Deauth").click()
            await m.read_until(b"+WIND:40:")
            await expect(
                page.locator("#trace .rec.wind", has_text="+WIND:40").first
            ).to_be_visible()
            await expect(page.locator("#verb-result")).to_contain_text("dropping")
            # The module rejoins by itself; the page shows it up again.
            await m.read_until(b"+WIND:24:WiFi Up:")
            await expect(page.locator("#wifi")).to_contain_text("ready to transmit data")

            # The free-form verb box reaches every verb (here an AP change).
            await page.locator("#verb-name").select_option("ap.set")
            await page.locator("#verb-args").fill("ap=STTest rssi=-64")
            await page.locator("#verb-form button").click()
            await expect(page.locator("#aps")).to_contain_text("-64")
            await expect(page.locator("#wifi")).to_contain_text("-64 dBm")

            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "live-view.png"), full_page=True)
        finally:
            await browser.close()
    assert (await m.cmd("AT")).endswith(b"AT-S.OK\r\n")


def test_boot_path_does_not_load_aiohttp() -> None:
    """aiohttp is loaded by --web only: `atwifi serve` without it stays as fast as before."""
    import sys

    code = (
        "import sys, atwifi.cli, atwifi.spwf04.device, atwifi.control.server;"
        "print('aiohttp' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_a_bulk_record_is_cut_for_the_page_and_still_marked() -> None:
    from atwifi.trace import TEXT_MAX, escape
    from atwifi.web.live import LiveTrace, classify

    live = LiveTrace(None)
    bulk = bytes(range(256)) * 40 + b"\r\n+WIND:55:Pending Data:0:5:5\r\nAT-S.ERROR:79\r\n"
    live.record("out", bulk)
    live.record("out", b"AT-S.OK\r\n")
    big, small = live.recent
    assert big["text"].endswith(f"... (+{len(bulk) - TEXT_MAX} bytes)")
    assert len(big["text"]) < 4 * TEXT_MAX + 40
    assert big["marks"] == classify("out", escape(bulk)) == ["wind", "error"]
    assert small["text"] == "AT-S.OK\\r\\n" and small["marks"] == []
