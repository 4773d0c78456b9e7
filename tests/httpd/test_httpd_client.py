"""The client library's web-server helpers against a real `atwifi serve`."""

from __future__ import annotations

import re
from pathlib import Path

from httpd_helpers import request

from atwifi.client import AsyncClient
from harness import spawn_serve, stop_serve

FORM = [("Content-Type", "application/x-www-form-urlencoded")]


async def test_client_page_inputs_and_form_winds(tmp_path: Path) -> None:
    proc, console = spawn_serve(tmp_path / "state")
    try:
        assert proc.stdout is not None
        line = b""
        while b"web server" not in line:
            line = proc.stdout.readline()
        m = re.search(rb"http://127\.0\.0\.1:(\d+)/", line)
        assert m
        web = int(m.group(1))
        async with await AsyncClient.open(f"socket://127.0.0.1:{console}", timeout=10) as c:
            await c.set_config("console_echo", "0")
            got = await request(web, target="/status.html")
            assert b'id="input0"></td>' in got.body
            assert await c.wait_input_wanted(timeout=10) == 0
            await c.set_page_inputs(["from the host", "two"])
            got = await request(web, target="/status.html")
            assert b'id="input0">from the host</td>' in got.body
            await request(web, "POST", "/status.html", FORM, b"msg=a:b")
            post = await c.wait_form_post(timeout=10)
            assert (post.length, post.message) == (7, "msg=a:b")
            await request(web, "POST", "/remote.cgi", FORM, b"ip_hostname=x&Key=nope")
            assert await c.wait_remote_config(timeout=10) == ("Key", "nope")
            await c.clear_page_inputs()
    finally:
        stop_serve(proc)
