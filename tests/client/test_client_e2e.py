"""The client against the real virtual module (atwifi.spwf04.device), over TCP and a pty."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from client_bridge import Bridge, PtyBridge, TcpBridge

from atwifi.client import AsyncClient, AtCommandError, Client, Wind

BOOT = [1, 13, 0, 32]


def boots(winds: list[Wind]) -> bool:
    """The boot lines, in order and together (the radio's own WINDs may come around them)."""
    numbers = [w.number for w in winds]
    return 1 in numbers and numbers[numbers.index(1) :][:4] == BOOT


@pytest.fixture(params=["tcp", "pty"])
async def bridge(request, tmp_path: Path) -> AsyncIterator[tuple[Bridge, str]]:
    if request.param == "tcp":
        b: Bridge = TcpBridge(tmp_path / "state")
        url = await b.start()
    else:
        b = PtyBridge(tmp_path / "state")
        url = b.path
    yield b, url
    await b.close()


@pytest.fixture
async def client(bridge) -> AsyncIterator[AsyncClient]:
    """A client connected before the module powers on: it sees the boot WINDs."""
    b, url = bridge
    c = await AsyncClient.open(url, timeout=10)
    if isinstance(b, TcpBridge):
        await asyncio.wait_for(b.connected.wait(), 10)  # accepted: the boot WINDs reach us
    await b.power_on()
    await c.wait_wind(32, timeout=10)
    yield c
    await c.close()


async def test_boot_winds_are_events(client: AsyncClient) -> None:
    # The radio may add its own WINDs after these (scanning, joining).
    assert [w.number for w in client.pending_winds()][:3] == [1, 13, 0]
    w1, w13, w0 = client.pending_winds()[:3]
    assert w1.text == "Poweron" and w1.fields == ["171117-0328fe3-SPWF04S"]
    assert w13.fields == ["SPWF04SA"]
    assert w0.line == "+WIND:0:Console active"


async def test_echo_on_and_off(client: AsyncClient) -> None:
    r = await client.command("AT")
    assert r.ok and r.echoed and client.echo_on  # factory: echo on
    assert await client.get_config("console_echo") == "1"
    await client.echo(False)
    r = await client.command("AT+S.GCFG=console_echo")
    assert not r.echoed and r.lines == ["AT-S.Var:console_echo=0"]
    await client.echo(True)
    assert (await client.command("AT")).echoed


@pytest.mark.parametrize("echo", [True, False])
async def test_errors_carry_numbers(client: AsyncClient, echo: bool) -> None:
    await client.echo(echo)
    with pytest.raises(AtCommandError) as e:
        await client.get_config("nope")
    assert (e.value.number, e.value.text) == (4, "Variable not found")
    with pytest.raises(AtCommandError) as e:
        await client.command("AT+S.NOSUCH")
    assert e.value.number == 1
    with pytest.raises(AtCommandError) as e:
        await client.set_config("console_echo", 7)
    assert e.value.number == 8
    await client.set_config("console_errs", 1)
    with pytest.raises(AtCommandError) as e:
        await client.get_config("nope")
    assert (e.value.number, e.value.text, e.value.description) == (4, "", "Variable not found")
    await client.set_config("console_errs", 0)
    with pytest.raises(AtCommandError) as e:
        await client.get_config("nope")
    assert e.value.number is None and e.value.line == "AT-S.ERROR"
    # The module keeps answering.
    assert await client.get_config("console_errs") == "0"


async def test_verbose_ok(client: AsyncClient) -> None:
    await client.set_config("console_verbose", 2)
    r = await client.command("AT")
    assert r.ok and r.final.startswith("AT-S.OK:")


async def test_set_save_reset_round_trip(client: AsyncClient) -> None:
    await client.set_config("ip_hostname", "bench-1")
    await client.set_config("console_wind_off_high", 0x10)
    await client.save_config()
    await client.set_config("ip_hostname", "not-saved")
    seen: list[Wind] = []
    client.on_wind(seen.append)
    await client.reset()
    assert boots(seen)
    assert boots(client.pending_winds())
    assert await client.get_config("ip_hostname") == "bench-1"
    assert await client.get_config("console_wind_off_high", typed=True) == 0x10
    assert (await client.get_config(typed=True))["console_echo"] == 1
    # Back to the factory values (FCFG, then the reset the manual asks for).
    await client.factory_reset()
    assert await client.get_config("ip_hostname") == "iwm-FA-12-34"
    assert (await client.command("AT")).echoed


async def test_numbered_winds_after_reset(client: AsyncClient) -> None:
    await client.set_config("console_winds", 1)
    await client.save_config()
    await client.reset()
    w0 = await client.wait_wind(0, timeout=5)
    assert w0.line == "+WIND:0" and w0.text == ""
    w1 = await client.wait_wind(1, timeout=5)
    assert w1.fields == ["171117-0328fe3-SPWF04S"]
    await client.set_config("console_winds", 2)
    assert await client.get_config("console_winds") == "2"


async def test_reset_without_waiting(client: AsyncClient) -> None:
    await client.reset(wait=False)
    assert (await client.wait_wind(32, timeout=10)).text == "WiFi Hardware Started"
    assert (await client.command("AT")).ok


async def test_status_peers_time_random_help(client: AsyncClient) -> None:
    sts = await client.status()
    assert sts["build"] == "171117-0328fe3-SPWF04S"
    assert (await client.status("wifi_state")).isdigit()  # live: the radio moves it
    peers = await client.peers()
    assert 0 in peers and "addr" in peers[0]
    await client.set_time(1_700_000_000)
    t = await client.time()
    assert 1_700_000_000 <= t < 1_700_000_000 + 3600  # the clock runs; an hour is a safety net
    assert int(await client.status("system_time")) >= 1_700_000_000
    assert 0 <= await client.random() < 2**32
    lines = await client.help("SOCKQ")
    assert lines and all("SOCKQ" in ln for ln in lines)
    assert len(await client.help()) > 50


async def test_pipelined_callers(client: AsyncClient) -> None:
    values = await asyncio.gather(*(client.get_config(v) for v in ("console_echo", "nv_model")))
    assert values == ["1", "SPWF04SA"]


async def test_module_goes_away(bridge, client: AsyncClient) -> None:
    b, _ = bridge
    agen = client.winds()
    assert (await anext(agen)).number == 1  # the queued boot WINDs first
    await b.drop()
    rest = [w.number async for w in agen]  # ends when the link drops
    assert rest[:2] == [13, 0]
    with pytest.raises(ConnectionError):
        await client.command("AT")
    assert client.closed


async def test_sync_client(bridge, client: AsyncClient) -> None:
    _, url = bridge
    await client.close()  # one console user at a time

    def use() -> list:
        with Client(url, timeout=10) as c:
            out: list = [c.command("AT").ok, c.get_config("console_echo")]
            with pytest.raises(AtCommandError) as e:
                c.get_config("nope")
            out.append(e.value.number)
            c.reset()
            out.append(c.wait_wind(13, timeout=5).fields)
            return out

    assert await asyncio.to_thread(use) == [True, "1", 4, ["SPWF04SA"]]
