"""The module's sockets cannot reach its own console: they would take the host's place."""

from __future__ import annotations

import pytest

from atwifi.spwf04.parts.net import is_own_endpoint
from harness import ServedModule, spawn_serve, stop_serve
from peers import echo_server

REFUSED = b"AT-S.ERROR:74:Failed to open socket\r\n"


@pytest.fixture
async def served_quiet(tmp_path):
    proc, port = spawn_serve(tmp_path / "state")
    m = ServedModule(proc, port)
    await m.connect()
    await m.joined()
    await m.cmd("AT+S.SCFG=console_echo,0")
    yield m
    await m.disconnect()
    stop_serve(proc)


async def test_sockon_to_the_own_console_port_is_refused(served_quiet) -> None:
    m = served_quiet
    for host in ("127.0.0.1", "localhost"):
        assert await m.cmd(f"AT+S.SOCKON={host},{m.port},,t") == REFUSED
    # The console is still this host's, and other loopback ports still work.
    assert await m.cmd("AT") == b"AT-S.OK\r\n"
    srv, port = await echo_server()
    async with srv:
        out = await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t")
        assert out.endswith(b"AT-S.OK\r\n") and out.startswith(b"AT-S.On:127.0.0.1:0"), out


@pytest.mark.parametrize(
    ("ip", "port", "endpoints", "own"),
    [
        ("127.0.0.1", 7000, [("127.0.0.1", 7000)], True),
        ("127.0.0.1", 7001, [("127.0.0.1", 7000)], False),
        ("127.0.0.2", 7000, [("127.0.0.1", 7000)], False),  # another address: not listened on
        ("127.0.0.2", 7000, [("0.0.0.0", 7000)], True),  # a wildcard listener hears it
        ("::ffff:127.0.0.1", 7000, [("127.0.0.1", 7000)], True),
        ("::1", 7000, [("::", 7000)], True),
        ("127.0.0.1", 7000, [("localhost", 7000)], True),
        ("127.0.0.1", 7000, [], False),
    ],
)
def test_own_endpoint_matching(ip, port, endpoints, own) -> None:
    assert is_own_endpoint(ip, port, endpoints) is own
