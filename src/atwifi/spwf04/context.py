"""What a command handler sees: its device, and the reply being built (items to a sink)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.runtime.items import Info, Line, Raw

if TYPE_CHECKING:
    from atwifi.runtime.items import Sink
    from atwifi.spwf04.device import Device
    from atwifi.spwf04.table.schema import Command


class Context:
    """The reply to one command. Lines written here go out before the final OK or ERROR,
    and no WIND is printed in between (wire-notes: a WIND never lands inside a reply)."""

    __slots__ = ("device", "command", "_sink", "_send")

    def __init__(self, device: Device, command: Command, sink: Sink) -> None:
        self.device = device
        self.command = command
        self._sink = sink
        self._send = sink.send

    def info(self, text: str) -> None:
        """An information line: ``AT-S.<text>`` CR LF on the UART."""
        self._send(Info(text))

    def line(self, text: str | bytes) -> None:
        """A line printed as it is (e.g. SCAN's ``0:\\t BSS ...`` lines), CR LF appended."""
        if isinstance(text, str):
            text = text.encode("latin-1")
        self._send(Line(text))

    def raw(self, data: bytes) -> None:
        """Raw bytes with no terminator (SOCKR payloads, FSP contents)."""
        self._send(Raw(data))

    async def flush(self) -> None:
        """Send what is buffered so far (long outputs); WINDs stay held until the reply ends."""
        await self._sink.flush()
