"""`atwifi serve --tcp ... --spi PATH` as a real process: the UART commands of the manual
switch it to SPI, the client follows on the bus; without --spi such a module is silent."""

from __future__ import annotations

import asyncio
from pathlib import Path

from atwifi.client import AsyncClient, Client
from harness import ServedModule, spawn_serve, stop_serve

TIMEOUT = 20.0


async def switch_to_spi(m: ServedModule) -> None:
    await m.joined()
    assert await m.cmd("AT+S.SCFG=console_echo,0") == b"AT+S.SCFG=console_echo,0\r\nAT-S.OK\r\n"
    assert await m.cmd("AT+S.SCFG=console_enabled,0") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.WCFG") == b"AT-S.OK\r\n"
    await m.send(b"AT+S.RESET\r")
    await m.read_until(b"AT-S.OK\r\n")  # RESET answers before it reboots


async def test_serve_with_spi(tmp_path: Path) -> None:
    bus = tmp_path / "bus.sock"
    proc, port = spawn_serve(tmp_path / "state", "--spi", str(bus))
    m = ServedModule(proc, port)
    try:
        await m.connect()
        await switch_to_spi(m)
        async with await AsyncClient.open(f"spi+unix://{bus}", timeout=TIMEOUT) as c:
            await c.wait_wind(32, timeout=TIMEOUT)
            assert (await c.command("AT")).ok
            assert str(await c.get_config("console_enabled")) == "0"
            assert (await c.status("wifi_state")).isdigit()  # joining or joined
        # the UART said nothing since the reset, not even the boot WINDs
        await m.send(b"AT\r")
        async with await AsyncClient.open(f"spi+unix://{bus}", timeout=TIMEOUT) as c:
            assert (await c.command("AT")).ok  # answered after the UART's AT was ignored

        def sync_client() -> str:
            with Client(f"spi+unix://{bus}", timeout=TIMEOUT) as c:
                return str(c.get_config("console_enabled"))

        assert await asyncio.to_thread(sync_client) == "0"  # the blocking Client too
        said = m.take()
        assert b"Poweron" not in said and b"AT-S.OK" not in said
    finally:
        await m.disconnect()
        stop_serve(proc)


async def test_serve_without_spi_is_silent_and_says_why(tmp_path: Path) -> None:
    proc, port = spawn_serve(tmp_path / "state")
    m = ServedModule(proc, port)
    try:
        await m.connect()
        await switch_to_spi(m)
        assert proc.stderr is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stderr.readline), TIMEOUT)
        assert b"served without --spi" in line
        assert b"\x02" not in m.take()  # no slave packet on the UART
    finally:
        await m.disconnect()
        stop_serve(proc)
