"""A real `atwifi serve --pace --strap` process: straps, pins through `atwifi ctl`, power."""

from __future__ import annotations

import asyncio

from atwifi.control.client import ControlClient
from harness import ServedModule, spawn_serve, stop_serve

OK = b"AT-S.OK\r\n"


async def test_served_paced_module_with_a_factory_strap_and_ctl_stimuli(tmp_path):
    state = tmp_path / "state"
    proc, port = spawn_serve(state, "--pace", "--strap", "0=1")
    m = ServedModule(proc, port)
    try:
        await m.connect()
        boot = await m.joined()  # the boot, then the default world's join
        assert b"+WIND:65:Factory Reset:0\r\n+WIND:0:Console active\r\n" in boot, boot
        ctl = ControlClient(state)
        assert (await m.cmd("AT+S.SCFG=console_echo,0")).endswith(OK)
        assert await m.cmd("AT+S.GPIOC=5,in,F") == OK
        await asyncio.to_thread(ctl.call, "pins.set", pin=5, level=1)
        assert await m.cmd("AT+S.GPIOR=5") == b"AT-S.Value:5:1:1\r\n" + OK
        await asyncio.to_thread(ctl.call, "pins.set", pin=5, level=0)
        await m.read_until(b"+WIND:52:GPIO Interrupt:5:0\r\n")
        shown = await asyncio.to_thread(ctl.call, "pins.show")
        assert shown["pins"]["5"]["edge"] == "F"
        assert (await asyncio.to_thread(ctl.call, "power.state"))["state"] == "active"
    finally:
        await m.disconnect()
        stop_serve(proc)
