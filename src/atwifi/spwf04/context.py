"""What a command handler sees: its device, and the reply being built."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device
    from atwifi.spwf04.table.schema import Command


class Context:
    """The reply to one command. Lines written here go out before the final OK or ERROR,
    and no WIND is printed in between (wire-notes: a WIND never lands inside a reply)."""

    __slots__ = ("device", "command", "_out")

    def __init__(self, device: Device, command: Command, out: bytearray) -> None:
        self.device = device
        self.command = command
        self._out = out

    def info(self, text: str) -> None:
        """An information line: ``AT-S.<text>`` CR LF."""
        self._out += b"AT-S." + text.encode("latin-1") + b"\r\n"

    def line(self, text: str | bytes) -> None:
        """A line printed as it is (e.g. SCAN's ``0:\\t BSS ...`` lines), CR LF appended."""
        if isinstance(text, str):
            text = text.encode("latin-1")
        self._out += text + b"\r\n"

    def raw(self, data: bytes) -> None:
        """Raw bytes with no terminator (SOCKR payloads, FSP contents)."""
        self._out += data

    async def flush(self) -> None:
        """Send what is buffered so far (long outputs); WINDs stay held until the reply ends."""
        await self.device.flush_reply(self._out)
