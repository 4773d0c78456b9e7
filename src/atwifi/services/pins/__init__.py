"""The module's pins, dialect-free: GPIOs, ADC, DAC, PWM, the LED and the boot straps."""

from atwifi.services.pins.board import SPWF04_BOARD, Board
from atwifi.services.pins.pins import Change, PinEv, PinEvent, PinFault, Pins

__all__ = ["SPWF04_BOARD", "Board", "Change", "PinEv", "PinEvent", "PinFault", "Pins"]
