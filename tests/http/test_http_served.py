"""HTTPGET through a real `atwifi serve --tcp` process."""

from __future__ import annotations

from http_peers import WebPeer, pattern


async def test_served_get_and_own_console_refused(served):
    peer = WebPeer()
    await peer.start()
    try:
        line = f"AT+S.HTTPGET=127.0.0.1,/large?n=300000,{peer.port}"
        out = await served.cmd(line)
        head = line.encode() + b"\r\nAT-S.Http Server Status Code:200\r\n"
        assert out == head + pattern(300000) + b"AT-S.OK\r\n"
        # The module's own console is no server to fetch from (it would steal its host).
        own = f"AT+S.HTTPGET=127.0.0.1,,{served.port}"
        assert await served.cmd(own) == own.encode() + b"\r\nAT-S.Http Client Error:2\r\n"
        assert await served.cmd("AT") == b"AT\r\nAT-S.OK\r\n"
    finally:
        await peer.stop()
