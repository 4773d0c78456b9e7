"""On the SPI console (console_enabled=0) the REPL is error 24; a script still runs and its
output is the reply's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from atwifi.client import AsyncClient, AtCommandError
from spi_consoles import TIMEOUT, TwoConsoles


async def test_the_repl_is_refused_on_spi_and_a_script_runs(tmp_path: Path) -> None:
    m = TwoConsoles(tmp_path)
    m.save_console(0)
    await m.start()
    try:
        async with await AsyncClient.open(m.spi_url, timeout=TIMEOUT) as c:
            with pytest.raises(AtCommandError) as e:
                await c.command("AT+S.PYTHON")
            assert e.value.number == 24
            reply = await c.command("AT+S.PYTHON=3:/uPython_test.py")
            assert reply.ok
            assert b"uPython test\r\ncount 0\r\n" in reply.body, reply
            assert (await c.command("AT")).ok
    finally:
        await m.stop()
