"""Handlers: AT+S.GPIOC, AT+S.GPIOR, AT+S.GPIOW, AT+S.DAC, AT+S.ADC, AT+S.PWM (6.15-6.20)."""

from __future__ import annotations

from atwifi.services.pins import PinFault, Pins
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

wording.register(
    {
        PinFault.BAD_NUMBER: 20,  # Invalid GPIO Num (0-15)
        PinFault.BAD_DIRECTION: 19,  # Direction must be 'in' or 'out'
        PinFault.WAKEUP_RESERVED: 21,  # Cannot use GPIO6 when sleep_enabled
        PinFault.WPS_RESERVED: 22,  # Cannot use interrupt. Reserved for WPS feature
        PinFault.LED_RESERVED: 23,  # Cannot use GPIO10 when blink_led
        PinFault.IRQ_ALREADY_SET: 25,  # Interrupt line already set
        PinFault.NOT_OUTPUT: 8,  # Invalid value
        PinFault.NOT_ADC: 46,  # ADC conversion failed
        PinFault.ADC_BUSY: 46,
        PinFault.VOLTAGE: 26,  # Output voltage not allowed
        PinFault.NOT_PWM: 45,  # Unable to complete PWM setting
        PinFault.FREQUENCY: 27,  # Frequency not supported
        PinFault.DUTY: 28,  # Duty cycle not supported
        PinFault.PWM_NOT_RUNNING: 29,  # PWM not running
    }
)


def _pins(ctx: Context) -> Pins:
    return ctx.device.pins


@handler("GPIOC")
async def gpioc(ctx: Context, number: int, direction: str, interrupt: str | None) -> None:
    _pins(ctx).configure(number, direction, interrupt)


@handler("GPIOR")
async def gpior(ctx: Context, num: int) -> None:
    level, direction = _pins(ctx).read(num)
    ctx.info(f"Value:{num}:{level}:{direction}")


@handler("GPIOW")
async def gpiow(ctx: Context, num: int, level: int) -> None:
    _pins(ctx).write(num, level)


@handler("DAC")
async def dac(ctx: Context, value: int) -> None:
    _pins(ctx).dac(value)


@handler("ADC")
async def adc(ctx: Context, num: int) -> None:
    ctx.info(f"Value:{_pins(ctx).adc(num)}")


@handler("PWM")
async def pwm(ctx: Context, num: int, frequency: int, duty_cycle: int) -> None:
    _pins(ctx).pwm(num, frequency, duty_cycle)
