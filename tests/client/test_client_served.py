"""The client against a real `atwifi serve` process: raw TCP (the lead's `served` fixture),
a pty and RFC 2217. Skipped while the transports are not built."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from atwifi.client import AsyncClient, AtCommandError, Client, Wind
from harness import spawn_serve, stop_serve

# A transports folder without make_transport (a namespace package mid-merge) is not enough.
if not hasattr(pytest.importorskip("atwifi.transports"), "make_transport"):
    pytest.skip("atwifi serve needs atwifi.transports.make_transport", allow_module_level=True)

# pyserial's rfc2217 client still calls Thread.setDaemon/setName.
pytestmark = pytest.mark.filterwarnings(
    "ignore:setDaemon:DeprecationWarning", "ignore:setName:DeprecationWarning"
)

SRC = Path(__file__).resolve().parents[2] / "src"


def _serve(state: Path, *where: str, pattern: bytes) -> tuple[subprocess.Popen[bytes], str]:
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "atwifi", "serve", *where, "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    for _ in range(20):
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(pattern, line)
        if m:
            return proc, m.group(1).decode()
    proc.kill()
    proc.wait()
    raise RuntimeError("atwifi serve did not start: " + proc.stderr.read().decode())  # type: ignore[union-attr]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def pty_serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    proc, path = _serve(tmp_path / "state", pattern=rb"(/dev/pts/\d+)")
    yield proc, path
    _stop(proc)


@pytest.fixture
async def tcp_client(served) -> AsyncIterator[AsyncClient]:
    await served.disconnect()  # one host at a time: the client takes the console
    async with await AsyncClient.open(f"socket://127.0.0.1:{served.port}", timeout=10) as c:
        await c.wait_ready()
        yield c


async def test_tcp_round_trip(tcp_client: AsyncClient) -> None:
    c = tcp_client
    with pytest.raises(AtCommandError) as e:
        await c.get_config("nope")
    assert e.value.number == 4
    await c.set_config("ip_hostname", "served-1")
    await c.save_config()
    await c.echo(False)
    assert not (await c.command("AT")).echoed
    seen: list[Wind] = []
    c.on_wind(seen.append)
    await c.reset()
    numbers = [w.number for w in seen]  # the radio's own WINDs may come at any time
    assert 1 in numbers and numbers[numbers.index(1) :][:4] == [1, 13, 0, 32], numbers
    assert await c.get_config("ip_hostname") == "served-1"
    assert await c.get_config("console_echo") == "1"  # echo off was never saved


async def test_pty(pty_serve) -> None:
    proc, path = pty_serve
    async with await AsyncClient.open(path, timeout=10) as c:
        await c.wait_ready()
        assert await c.get_config("nv_model") == "SPWF04SA"
        await c.reset()
        assert (await c.wait_wind(1, timeout=10)).text == "Poweron"
        with pytest.raises(AtCommandError) as e:
            await c.command("AT+S.GCFG=nope")
        assert e.value.number == 4
        _stop(proc)  # the module goes away: the client notices
        with pytest.raises(ConnectionError):
            await c.wait_wind(99, timeout=10)


def test_pty_sync(pty_serve) -> None:
    _, path = pty_serve
    with Client(path, timeout=10) as c:
        c.wait_ready()
        c.echo(False)
        assert c.command("AT").echoed is False
        assert c.random() >= 0


@pytest.mark.skipif(
    importlib.util.find_spec("atwifi.transports.rfc2217") is None, reason="no RFC 2217 transport"
)
async def test_rfc2217(tmp_path: Path) -> None:
    proc, port = _serve(
        tmp_path / "state", "--rfc2217", "127.0.0.1:0", pattern=rb"127\.0\.0\.1:(\d+)"
    )
    try:
        async with await AsyncClient.open(f"rfc2217://127.0.0.1:{port}", timeout=10) as c:
            await c.wait_ready()
            await c.reset()
            assert await c.status("build") == "171117-0328fe3-SPWF04S"
    finally:
        _stop(proc)


async def test_command_line(served) -> None:
    await served.disconnect()
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atwifi.client",
        f"socket://127.0.0.1:{served.port}",
        "AT+S.STS=build",
        "AT+S.GCFG=nope",
        "AT+S.RANDOM",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1, err
    assert b"AT-S.Var:build=171117-0328fe3-SPWF04S\r\n" in out
    assert b"AT-S.Number:" in out
    assert b"AT-S.ERROR:4:Variable not found" in err


async def test_wait_link_up_returns_at_once_when_joined_before_the_client(
    tcp_client: AsyncClient,
) -> None:
    # The served module joined before this client connected: its WIND:24 went to nobody.
    ip = await tcp_client.wait_link_up(timeout=30)
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", ip) and ip != "0.0.0.0", ip


async def test_wait_link_up_times_out_with_the_librarys_error(tmp_path: Path) -> None:
    from atwifi.client import JoinError, LinkTimeoutError

    world = tmp_path / "empty.toml"
    world.write_text("# no access point at all\n")
    proc, port = spawn_serve(tmp_path / "state", "--world", str(world))
    try:
        async with await AsyncClient.open(f"socket://127.0.0.1:{port}", timeout=10) as c:
            await c.wait_ready()
            with pytest.raises(LinkTimeoutError) as e:
                await c.wait_link_up(timeout=0.5, max_failures=1000)
            assert isinstance(e.value, TimeoutError) and isinstance(e.value, JoinError)
            assert await c.get_config("nv_model") == "SPWF04SA"  # the client is still usable
    finally:
        stop_serve(proc)
