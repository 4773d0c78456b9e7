"""One round trip through a real `atwifi serve` process: the part is wired into the device."""

from __future__ import annotations

import pytest
from sock_wire import echo_server

pytest.importorskip("atwifi.transports", reason="atwifi serve needs the transports branch")


async def test_served_socket_round_trip(served):
    m = served
    assert (await m.cmd("AT+S.SCFG=console_echo,0")).endswith(b"AT-S.OK\r\n")
    srv, port = await echo_server()
    async with srv:
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == (
            b"AT-S.On:127.0.0.1:0\r\nAT-S.OK\r\n"
        )
        assert await m.cmd("AT+S.SOCKW=0,5", b"hello") == b"AT-S.OK\r\n"
        await m.read_until(b"+WIND:55:Pending Data::0:5:5\r\n")
        assert await m.cmd("AT+S.SOCKR=0") == b"AT-S.Reading:5:5\r\nhelloAT-S.OK\r\n"
        assert await m.cmd("AT+S.SOCKC=0") == b"AT-S.OK\r\n"
