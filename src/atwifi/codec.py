"""Moved: the UART console codec is ``atwifi.framings.uart``; the output gate is
``atwifi.runtime.gate``. Kept so old imports work."""

from atwifi.framings.uart import (
    CRLF,
    MAX_LINE,
    CommandLine,
    ConsoleDecoder,
    DataBlock,
    Event,
    LineTooLong,
    UartFraming,
    format_error,
    format_ok,
    format_wind,
    wind_masked,
)
from atwifi.runtime.gate import OutputGate

__all__ = [
    "CRLF",
    "MAX_LINE",
    "CommandLine",
    "ConsoleDecoder",
    "DataBlock",
    "Event",
    "LineTooLong",
    "OutputGate",
    "UartFraming",
    "format_error",
    "format_ok",
    "format_wind",
    "wind_masked",
]
