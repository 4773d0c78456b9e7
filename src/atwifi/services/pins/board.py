"""Which pins a module has and what each one is for (from the SPWF04Sx manual, 6.15-6.20)."""

from __future__ import annotations

from typing import NamedTuple


class Board(NamedTuple):
    gpios: range  # GPIOC/GPIOR/GPIOW pins
    adc: tuple[int, ...]  # pins the ADC converts
    dac: int  # the pin the DAC drives
    pwm: tuple[int, ...]  # pins with a PWM
    wakeup: int  # wake-up pin (reserved while sleep is enabled)
    led: int  # the LED blink_led drives
    wps: int  # a pin whose interrupt belongs to the WPS button
    factory_strap: int  # high at power-on: factory reset
    script_strap: int  # high at power-on: run the default MicroPython script
    adc_max_mv: int = 3300
    dac_max_mv: int = 3300
    pwm_max_hz: int = 10_000


SPWF04_BOARD = Board(
    gpios=range(16),
    adc=(0, 1, 16),
    dac=15,
    pwm=(2, 4),
    wakeup=6,
    led=10,
    wps=0,
    factory_strap=0,
    script_strap=8,
)
