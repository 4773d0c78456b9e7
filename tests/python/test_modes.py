"""console_enabled=3 (python_script alone, no AT console) and the GPIO8 strap."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import reboot_with_console
from harness import InProcessModule

OK = b"AT-S.OK\r\n"
SCRIPT_OUT = b"uPython test\r\ncount 0\r\ncount 1\r\ncount 2\r\n"


async def test_console_enabled_3_runs_python_script_and_no_at_console(quiet_module):
    m = quiet_module
    boot = await reboot_with_console(m, 3)
    assert b"+WIND:0:Console active\r\n" in boot
    out = await m.read_until(b"count 2\r\n")
    assert out.endswith(SCRIPT_OUT), out
    assert b"AT-S.OK" not in out  # no AT reply around the script
    m.send(b"AT\r")
    assert m.device.decoder.buffered == 0  # the host's bytes never reach an AT console
    # The way back: GPIO0 high at power-on restores the factory configuration (UART).
    m.options.straps = {0: 1}
    await m.restart()
    m.options.straps = {}
    assert await m.cmd("AT+S.GCFG=console_enabled", echo=True) == (
        b"AT-S.Var:console_enabled=1\r\n" + OK
    )


async def test_console_enabled_3_runs_a_script_of_the_users(quiet_module):
    m = quiet_module
    text = b"import spwf04\nprint('alone', spwf04.gcfg('console_enabled'))\n"
    assert (await m.cmd(f"AT+S.FSC=1:/main.py,{len(text)}", text)).endswith(OK)
    assert await m.cmd("AT+S.SCFG=python_script,1:/main.py") == OK
    await reboot_with_console(m, 3)
    assert (await m.read_until(b"alone 3\r\n")).endswith(b"alone 3\r\n")


async def test_the_gpio8_strap_runs_python_script_then_the_at_console(tmp_path: Path):
    m = InProcessModule(tmp_path / "state", straps={8: 1})
    try:
        await m.device.power_on()
        out = await m.read_until(b"count 2\r\n")
        assert b"+WIND:32:WiFi Hardware Started\r\n" in out and out.endswith(SCRIPT_OUT), out
        await m.settle()
        # The script's last line is out, its run may not have ended yet (both engines, under
        # load): bytes sent before it ends are the interpreter's. Wait for the run's end.
        for _ in range(2000):
            if m.device.python.session is None:
                break
            await asyncio.sleep(0.005)
        m.send(b"AT\r")  # the WINDs held during the run may come first
        assert (await m.read_until(OK)).endswith(b"AT\r\n" + OK)
    finally:
        await m.device.shutdown()
