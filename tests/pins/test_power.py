"""AT+S.PMS: entry to and exit from each power state, with its WINDs and console behaviour."""

from __future__ import annotations

import asyncio

from pinsutil import ctl, reset_and_wait

from atwifi.runtime import PowerState

OK = b"AT-S.OK\r\n"
E8 = b"AT-S.ERROR:8:Invalid value\r\n"
BOOT_TAIL = b"+WIND:0:Console active\r\n+WIND:32:WiFi Hardware Started\r\n"


async def scfg(m, **values) -> None:
    for k, v in values.items():
        assert await m.cmd(f"AT+S.SCFG={k},{v}") == OK


async def cmd_wind(m, line: str, **kw) -> bytes:
    """The reply, then the WIND line that follows it."""
    return await m.cmd(line, **kw) + await m.read_until(b"\r\n")


async def runtime_in(m, wanted) -> None:
    """The runtime's own power state follows (its steps run as tasks)."""
    for _ in range(1000):
        if m.device.runtime.power_state is wanted:
            return
        await asyncio.sleep(0)
    assert m.device.runtime.power_state is wanted


async def state(m) -> str:
    return (await ctl(m, "power.state"))["state"]


async def test_active_stays_active(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.PMS=0") == OK
    assert await m.cmd("AT+S.PMS") == OK  # the default mode is 0
    assert await state(m) == "active"


async def test_powersave_needs_wifi_powersave(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.PMS=1") == E8
    assert await state(m) == "active"
    assert await m.cmd("AT+S.PMS=4") == E8


async def test_powersave_and_back(quiet_module):
    m = quiet_module
    await scfg(m, wifi_powersave=1)
    assert await cmd_wind(m, "AT+S.PMS=1") == OK + b"+WIND:66:Low Power Mode:1\r\n"
    assert await state(m) == "powersave"
    assert await m.cmd("AT") == OK  # the MCU runs: the console answers
    assert await cmd_wind(m, "AT+S.PMS=0") == OK + b"+WIND:32:WiFi Hardware Started\r\n"
    assert await state(m) == "active"
    hist = [h["state"] for h in await ctl(m, "power.history")]
    assert hist[-3:] == ["active", "powersave", "active"]


async def test_fast_powersave(quiet_module):
    m = quiet_module
    await scfg(m, wifi_powersave=2)
    assert await cmd_wind(m, "AT+S.PMS=1") == OK + b"+WIND:66:Low Power Mode:2\r\n"
    assert await state(m) == "fast_powersave"


async def test_sleep_needs_sleep_enabled(quiet_module):
    m = quiet_module
    await scfg(m, wifi_powersave=1)
    assert await m.cmd("AT+S.PMS=2") == E8
    await scfg(m, sleep_enabled=1, standby_enabled=1)
    assert await m.cmd("AT+S.PMS=2") == E8
    assert await m.cmd("AT+S.PMS=1") == E8  # powersave wants both off (Table 4)


async def test_sleep_drops_input_and_wakes_on_the_wakeup_pin(quiet_module):
    m = quiet_module
    await scfg(m, wifi_powersave=1, sleep_enabled=1)
    # What follows PMS=2 in the same burst is never read: the UART stops with the MCU.
    m.send(b"AT+S.PMS=2\rAT\r")
    assert await m.reply() == OK
    assert await m.read_until(b"\r\n") == b"+WIND:69:Going into DeepSleep\r\n"
    assert await state(m) == "sleep"
    assert (await ctl(m, "pins.show"))["led"] == "off"
    await runtime_in(m, PowerState.SLEEP)
    m.send(b"AT\rAT+S.STS\r")  # asleep: dropped
    await ctl(m, "pins.pulse", pin=6, level=1, width=0)
    assert await state(m) == "active"
    assert await m.cmd("AT") == b"+WIND:53:Wakeup\r\n+WIND:70:Resuming from DeepSleep\r\n" + OK
    assert m.take() == b""  # exactly one OK: nothing sent asleep was answered
    await runtime_in(m, PowerState.ON)
    assert (await ctl(m, "power.state"))["sleeptime"] > 0
    assert (await ctl(m, "pins.show"))["led"] == "blinking"


async def test_sleep_woken_by_a_configured_edge_reports_it(quiet_module):
    m = quiet_module
    await scfg(m, wifi_powersave=1, sleep_enabled=1)
    assert await m.cmd("AT+S.GPIOC=5,in,R") == OK
    assert await cmd_wind(m, "AT+S.PMS=2") == OK + b"+WIND:69:Going into DeepSleep\r\n"
    await ctl(m, "pins.set", pin=7, level=1)  # no interrupt there: still asleep
    assert await state(m) == "sleep"
    await ctl(m, "pins.set", pin=5, level=1)
    assert await m.cmd("AT") == (
        b"+WIND:53:Wakeup\r\n+WIND:70:Resuming from DeepSleep\r\n"
        b"+WIND:52:GPIO Interrupt:5:1\r\n" + OK
    )


async def test_standby_needs_standby_enabled(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.PMS=3") == E8
    await scfg(m, standby_enabled=1, sleep_enabled=1)
    assert await m.cmd("AT+S.PMS=3") == E8


async def test_standby_loses_ram_and_resumes_through_a_reset_on_the_pin(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.FSC=a.txt,3", b"abc") == OK
    assert await m.cmd("AT+S.GPIOC=3,out") == OK
    assert await m.cmd("AT+S.GPIOW=3,1") == OK
    await scfg(m, standby_enabled=1, standby_time=0)
    assert await cmd_wind(m, "AT+S.PMS=3") == OK + b"+WIND:67:Going into Standby:0\r\n"
    assert await state(m) == "standby"
    part = next(p for p in m.device._parts if getattr(p, "attr", "") == "power")
    await asyncio.wait_for(part._standby_stop, 10)  # RAM state dropped after the reply
    assert m.device.sockets is None
    assert m.device.runtime.power_state is PowerState.STANDBY
    assert m.device.pins.level(3) == 0  # GPIOs lost with the RAM
    m.send(b"AT\r")  # dropped
    await ctl(m, "pins.set", pin=6, level=1)
    out = await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    assert out.startswith(b"+WIND:68:Resuming from Standby\r\n+WIND:1:Poweron:"), out
    assert out.endswith(BOOT_TAIL)
    await asyncio.wait_for(m.device.booted.wait(), 10)
    await m.settle()
    await ctl(m, "pins.set", pin=6, level=0)
    # Configuration not saved: echo is back on after the reset, as after any reset.
    assert await m.cmd("AT+S.STS=reset_reason", echo=True) == (b"AT-S.Var:reset_reason=3\r\n" + OK)
    out = await m.cmd("AT+S.FSL", echo=True)
    assert b"a.txt" not in out, out
    states = [h["state"] for h in await ctl(m, "power.history")]
    assert states[-2:] == ["standby", "active"]


async def test_standby_timer_wakes_the_module(quiet_module):
    m = quiet_module
    await scfg(m, standby_enabled=1, standby_time=1)
    assert await cmd_wind(m, "AT+S.PMS=3") == OK + b"+WIND:67:Going into Standby:1\r\n"
    out = await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    assert out.startswith(b"+WIND:68:Resuming from Standby\r\n"), out
    await asyncio.wait_for(m.device.booted.wait(), 10)
    await m.settle()
    sleeptime = await m.cmd("AT+S.STS=system_sleeptime", echo=True)
    assert sleeptime.startswith(b"AT-S.Var:system_sleeptime="), sleeptime
    assert int(sleeptime.split(b"=")[1].split(b"\r")[0]) >= 1
    hist = await ctl(m, "power.history")
    assert hist[-1]["reason"] == "woken by timer"


async def test_reset_ends_powersave(quiet_module):
    m = quiet_module
    await scfg(m, wifi_powersave=1)
    assert await cmd_wind(m, "AT+S.PMS=1") == OK + b"+WIND:66:Low Power Mode:1\r\n"
    await reset_and_wait(m)
    assert await state(m) == "active"


async def test_pms_bad_arguments(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.PMS=x") == b"AT-S.ERROR:7:Invalid argument(s)\r\n"
    assert await m.cmd("AT+S.PMS=1,2") == b"AT-S.ERROR:6:Too many argument(s)\r\n"
    assert await m.cmd("AT+S.PMS=-1") == E8
    assert await m.cmd("AT") == OK


async def test_shutdown_in_standby_cancels_the_timer(tmp_path):
    from harness import InProcessModule

    m = InProcessModule(tmp_path / "state")
    await m.boot()
    await scfg(m, standby_enabled=1, standby_time=1000)
    assert (
        await cmd_wind(m, "AT+S.PMS=3", echo=True) == OK + b"+WIND:67:Going into Standby:1000\r\n"
    )
    await m.device.shutdown()
    assert m.device.power.state.value == "active"
    assert m.device.power._timer is None
