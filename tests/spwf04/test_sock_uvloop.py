"""`atwifi serve --loop uvloop` (the extra atwifi[fast]): the module boots, joins, echoes
through a socket and pings, as on asyncio's loop."""

from __future__ import annotations

import pytest
from sock_wire import echo_server

import harness

pytest.importorskip("uvloop", reason="uvloop is not installed (pip install 'atwifi[fast]')")


async def test_socket_echo_and_ping_on_uvloop(tmp_path) -> None:
    proc, port = harness.spawn_serve(tmp_path / "state", "--loop", "uvloop")
    m = harness.ServedModule(proc, port)
    try:
        await m.connect()
        await m.joined()
        assert (await m.cmd("AT+S.SCFG=console_echo,0")).endswith(b"AT-S.OK\r\n")
        m.take()
        srv, eport = await echo_server()
        async with srv:
            assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{eport},,t") == (
                b"AT-S.On:127.0.0.1:0\r\nAT-S.OK\r\n"
            )
            data = bytes(range(256)) * 3
            assert await m.cmd(f"AT+S.SOCKW=0,{len(data)}", data) == b"AT-S.OK\r\n"
            await m.read_until(b"+WIND:55:Pending Data::0:768:768\r\n")
            assert await m.cmd("AT+S.SOCKR=0") == (
                b"AT-S.Reading:768:768\r\n" + data + b"AT-S.OK\r\n"
            )
            assert await m.cmd("AT+S.SOCKC=0") == b"AT-S.OK\r\n"
        # PING's ICMP socket goes through readiness callbacks (uvloop has no sock_sendto)
        out = await m.cmd("AT+S.PING=1,56,127.0.0.1")
        assert b"AT-S.Reply:1:127.0.0.1:" in out and out.endswith(b"AT-S.OK\r\n"), out
    finally:
        await m.disconnect()
        harness.stop_serve(proc)
