"""GPIOC/GPIOR/GPIOW/DAC/ADC/PWM through console bytes, WIND:52 on stimuli, straps at boot."""

from __future__ import annotations

import asyncio

import pytest
from pinsutil import ctl, reset_and_wait

from harness import InProcessModule

OK = b"AT-S.OK\r\n"


def err(n: int, text: str) -> bytes:
    return f"AT-S.ERROR:{n}:{text}\r\n".encode()


# -- GPIOC / GPIOR / GPIOW --------------------------------------------------------------------


async def test_output_written_and_read_back(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=3,out") == OK
    assert await m.cmd("AT+S.GPIOR=3") == b"AT-S.Value:3:0:0\r\n" + OK
    assert await m.cmd("AT+S.GPIOW=3,1") == OK
    assert await m.cmd("AT+S.GPIOR=3") == b"AT-S.Value:3:1:0\r\n" + OK
    assert m.device.pins.level(3) == 1
    assert (await ctl(m, "pins.read", pin=3))["driven_by"] == "module"
    assert await m.cmd("AT+S.GPIOW=3,0") == OK
    assert (await ctl(m, "pins.show"))["pins"]["3"]["level"] == 0


async def test_input_reads_what_the_outside_drives(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=5,IN") == OK
    assert await m.cmd("AT+S.GPIOR=5") == b"AT-S.Value:5:0:1\r\n" + OK
    await ctl(m, "pins.set", pin=5, level="high")
    assert await m.cmd("AT+S.GPIOR=5") == b"AT-S.Value:5:1:1\r\n" + OK
    # no interrupt configured: no WIND
    assert m.take() == b""


async def test_unconfigured_pin_reads_as_input(quiet_module):
    assert await quiet_module.cmd("AT+S.GPIOR=7") == b"AT-S.Value:7:0:1\r\n" + OK


@pytest.mark.parametrize("line", ["AT+S.GPIOC=16,out", "AT+S.GPIOR=16", "AT+S.GPIOW=99,1"])
async def test_gpio_number_out_of_range(quiet_module, line):
    assert await quiet_module.cmd(line) == err(20, "Invalid GPIO Num (0-15)")


async def test_bad_direction(quiet_module):
    assert await quiet_module.cmd("AT+S.GPIOC=3,up") == err(19, "Direction must be 'in' or 'out'")


async def test_bad_edge_and_missing_arguments(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=3,in,X") == err(7, "Invalid argument(s)")
    assert await m.cmd("AT+S.GPIOC=3") == err(2, "Missing argument(s)")
    assert await m.cmd("AT+S.GPIOW=3") == err(2, "Missing argument(s)")
    assert await m.cmd("AT+S.GPIOW=3,2") == err(8, "Invalid value")
    assert await m.cmd("AT+S.GPIOR=x") == err(7, "Invalid argument(s)")


async def test_write_to_an_input_is_refused(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=3,in") == OK
    assert await m.cmd("AT+S.GPIOW=3,1") == err(8, "Invalid value")


async def test_led_pin_reserved_while_blink_led(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=10,out") == err(23, "Cannot use GPIO10 when blink_led")
    assert (await ctl(m, "pins.show"))["led"] == "blinking"
    assert await m.cmd("AT+S.SCFG=blink_led,0") == OK
    assert await m.cmd("AT+S.GPIOC=10,out") == OK
    assert await m.cmd("AT+S.GPIOW=10,1") == OK
    assert (await ctl(m, "pins.show"))["led"] == "on"


async def test_wakeup_pin_reserved_while_sleep_enabled(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=6,in,R") == OK
    assert await m.cmd("AT+S.GPIOC=6,in") == OK
    assert await m.cmd("AT+S.SCFG=sleep_enabled,1") == OK
    assert await m.cmd("AT+S.GPIOC=6,out") == err(21, "Cannot use GPIO6 when sleep_enabled")


async def test_wps_pin_interrupt_reserved(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=0,in,F") == err(
        22, "Cannot use interrupt. Reserved for WPS feature"
    )
    assert await m.cmd("AT+S.GPIOC=0,in") == OK


async def test_interrupt_line_already_set(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=4,in,R") == OK
    assert await m.cmd("AT+S.GPIOC=4,in,F") == err(25, "Interrupt line already set")
    assert await m.cmd("AT+S.GPIOC=4,in") == OK  # turns it off
    assert await m.cmd("AT+S.GPIOC=4,in,F") == OK


async def test_gpio_enable_status_is_the_interrupt_mask(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.STS=gpio_enable") == b"AT-S.Var:gpio_enable=0x0000\r\n" + OK
    assert await m.cmd("AT+S.GPIOC=4,in,R") == OK
    assert await m.cmd("AT+S.GPIOC=9,in,B") == OK
    assert await m.cmd("AT+S.STS=gpio_enable") == b"AT-S.Var:gpio_enable=0x0210\r\n" + OK


# -- interrupts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edge", "expected"),
    [
        ("R", [b"+WIND:52:GPIO Interrupt:5:1\r\n"]),
        ("F", [b"+WIND:52:GPIO Interrupt:5:0\r\n"]),
        ("B", [b"+WIND:52:GPIO Interrupt:5:1\r\n", b"+WIND:52:GPIO Interrupt:5:0\r\n"]),
    ],
)
async def test_pulse_raises_exactly_the_configured_edges(quiet_module, edge, expected):
    m = quiet_module
    assert await m.cmd(f"AT+S.GPIOC=5,in,{edge}") == OK
    await ctl(m, "pins.pulse", pin=5, level=1, width=0)
    # A marker command: everything the pulse raised is out before its reply.
    assert await m.cmd("AT") == b"".join(expected) + OK


async def test_no_wind_for_a_level_that_does_not_change(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=5,in,B") == OK
    await ctl(m, "pins.set", pin=5, level=0)
    await ctl(m, "pins.set", pin=5, level=1)
    await ctl(m, "pins.set", pin=5, level=1)
    assert await m.cmd("AT") == b"+WIND:52:GPIO Interrupt:5:1\r\n" + OK


async def test_output_pins_do_not_interrupt(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=5,out") == OK
    await ctl(m, "pins.pulse", pin=5, level=1, width=0)
    assert await m.cmd("AT") == OK


async def test_sequence_over_time_raises_winds_in_order(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=7,in,R") == OK
    await ctl(m, "pins.sequence", pin=7, steps=[[0, 1], [0.001, 0], [0.001, 1]])
    out = await m.read_until(b"GPIO Interrupt:7:1\r\n") + await m.read_until(
        b"GPIO Interrupt:7:1\r\n"
    )
    assert out == b"+WIND:52:GPIO Interrupt:7:1\r\n" * 2


async def test_interrupt_wind_is_masked_like_every_wind(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=console_wind_off_medium,0x00100000") == OK  # bit 52-32
    assert await m.cmd("AT+S.GPIOC=5,in,R") == OK
    await ctl(m, "pins.pulse", pin=5, level=1, width=0)
    assert await m.cmd("AT") == OK


async def test_interrupt_config_is_lost_at_reset(quiet_module):

    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=5,in,R") == OK
    assert await m.cmd("AT+S.GPIOC=3,out") == OK
    assert await m.cmd("AT+S.GPIOW=3,1") == OK
    await reset_and_wait(m)
    assert m.device.pins.level(3) == 0
    await ctl(m, "pins.pulse", pin=5, level=1, width=0)
    assert await m.cmd("AT", echo=True) == OK  # no WIND 52 before the reply


# -- ADC / DAC / PWM -------------------------------------------------------------------------


async def test_adc_reads_the_voltage_put_on_the_pin(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.ADC=1") == b"AT-S.Value:0\r\n" + OK
    await ctl(m, "pins.adc", pin=1, mv=1234)
    assert await m.cmd("AT+S.ADC=1") == b"AT-S.Value:1234\r\n" + OK
    await ctl(m, "pins.adc", pin=16, mv=3300)
    assert await m.cmd("AT+S.ADC=16") == b"AT-S.Value:3300\r\n" + OK


async def test_adc_errors(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.ADC=2") == err(46, "ADC conversion failed")
    assert await m.cmd("AT+S.GPIOC=1,out") == OK
    assert await m.cmd("AT+S.ADC=1") == err(46, "ADC conversion failed")
    assert await m.cmd("AT+S.ADC") == err(2, "Missing argument(s)")


async def test_dac(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.DAC=1500") == OK
    assert (await ctl(m, "pins.show"))["dac_mv"] == 1500
    assert await m.cmd("AT+S.DAC=3301") == err(26, "Output voltage not allowed")
    assert await m.cmd("AT+S.DAC=-1") == err(26, "Output voltage not allowed")
    assert await m.cmd("AT+S.DAC=0") == OK
    assert (await ctl(m, "pins.show"))["dac_mv"] == 0


async def test_pwm(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.PWM=2,1000") == OK
    assert (await ctl(m, "pins.show"))["pwm"] == {"2": {"hz": 1000, "duty": 50}}
    assert await m.cmd("AT+S.PWM=4,10000,25") == OK
    assert (await ctl(m, "pins.show"))["pwm"]["4"] == {"hz": 10000, "duty": 25}
    assert await m.cmd("AT+S.PWM=2,0") == OK
    assert "2" not in (await ctl(m, "pins.show"))["pwm"]
    assert await m.cmd("AT+S.PWM=2,0") == err(29, "PWM not running")
    assert await m.cmd("AT+S.PWM=3,1000") == err(45, "Unable to complete PWM setting")
    assert await m.cmd("AT+S.PWM=2,10001") == err(27, "Frequency not supported")
    assert await m.cmd("AT+S.PWM=2,1000,101") == err(28, "Duty cycle not supported")
    assert await m.cmd("AT+S.PWM=2") == err(2, "Missing argument(s)")


async def test_pins_history_records_changes(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=3,out") == OK
    assert await m.cmd("AT+S.GPIOW=3,1") == OK
    hist = await ctl(m, "pins.history")
    assert {"pin": 3, "what": "output", "value": 1}.items() <= hist[-1].items()


async def test_module_answers_after_bad_pin_input(quiet_module):
    m = quiet_module
    for line in ("AT+S.GPIOC=,,", "AT+S.GPIOC=1,in,R,extra", "AT+S.PWM=2,9999999999999"):
        assert (await m.cmd(line)).startswith(b"AT-S.ERROR:")
    assert await m.cmd("AT") == OK


# -- straps ---------------------------------------------------------------------------------


async def test_gpio0_strap_restores_factory_configuration(tmp_path):
    m = InProcessModule(tmp_path / "state")
    await m.boot()
    assert await m.cmd("AT+S.SCFG=console_errs,1") == OK
    assert await m.cmd("AT+S.WCFG") == OK
    await m.device.shutdown()
    m2 = InProcessModule(tmp_path / "state", straps={0: 1})
    out = await m2.boot()
    assert b"SPWF04SA\r\n+WIND:65:Factory Reset:0\r\n+WIND:0:Console active\r\n" in out, out
    assert await m2.cmd("AT+S.GCFG=console_errs") == b"AT-S.Var:console_errs=2\r\n" + OK
    assert m2.device.pins.outside.straps == {}  # released after boot
    await m2.device.shutdown()


async def test_gpio8_strap_runs_the_registered_script_runner(tmp_path):
    from atwifi.spwf04.parts import pins as pins_part

    ran = []
    runner = pins_part.register_script_runner(lambda dev, name: ran.append(name))
    try:
        m = InProcessModule(tmp_path / "state", straps={8: 1})
        await m.boot()
        assert ran == ["3:/uPython_test.py"]
        await m.device.shutdown()
    finally:
        pins_part._RUNNERS.remove(runner)


async def test_strap_verb_applies_at_the_next_reset(quiet_module):

    m = quiet_module
    await ctl(m, "pins.strap", pin=0, level=1)
    out = await reset_and_wait(m)
    assert b"+WIND:65:Factory Reset:0\r\n" in out


# -- the client helpers ----------------------------------------------------------------------


async def test_client_pins_helpers_against_a_served_module(served):
    from atwifi.client.aio import AsyncClient

    await served.disconnect()  # one host at a time: the client takes the console
    async with await AsyncClient.open(f"socket://127.0.0.1:{served.port}", timeout=10) as c:
        await c.wait_ready()
        await c.gpio_config(3, "out")
        await c.gpio_write(3, 1)
        assert await c.gpio_read(3) == (1, "out")
        await c.gpio_config(5, "in", "R")
        assert await c.gpio_read(5) == (0, "in")
        assert await c.adc(0) == 0
        await c.dac(1200)
        await c.pwm(2, 1000, 30)
        await c.pwm(2, 0)
        await c.set_config("wifi_powersave", "1")
        await c.power_mode("powersave")
        await c.power_mode(0)


async def test_interrupt_during_a_reply_is_held_until_it_ends(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=5,in,R") == OK
    m.send(b"AT+S.FSC=held.txt,3\r")  # the console now waits for the data block
    for _ in range(1000):
        if m.device.gate.busy:
            break
        await asyncio.sleep(0)
    assert m.device.gate.busy
    await ctl(m, "pins.pulse", pin=5, level=1, width=0)
    assert m.take() == b""  # held: a reply is in progress
    m.send(b"abc")
    assert await m.read_until(b"GPIO Interrupt:5:1\r\n") == (
        OK + b"+WIND:52:GPIO Interrupt:5:1\r\n"
    )
