"""The output gate: WINDs are held while a reply (or the data block of its command) is in
progress, so a WIND never lands inside one; they follow the reply, in order."""

from __future__ import annotations

from atwifi.runtime.items import Wind


class OutputGate:
    __slots__ = ("busy", "held", "held_bytes")

    def __init__(self) -> None:
        # Public: the runtime's hot path reads and sets them without a call.
        self.busy = False
        self.held: list[Wind] = []
        # About how many bytes the held WINDs will take on the console: a service that
        # feeds WINDs (MQTT, sockets) pauses its reading above a limit, so memory stays bounded.
        self.held_bytes = 0

    def begin(self) -> None:
        self.busy = True

    def end(self) -> list[Wind]:
        """The reply is complete: the WINDs held meanwhile, oldest first."""
        self.busy = False
        held, self.held = self.held, []
        self.held_bytes = 0
        return held

    def hold(self, wind: Wind) -> bool:
        """True when ``wind`` was held (a reply is in progress); False: send it now."""
        if self.busy:
            self.held.append(wind)
            self.held_bytes += _size(wind)
            return True
        return False

    def clear(self) -> None:
        self.busy = False
        self.held.clear()
        self.held_bytes = 0


def _size(wind: Wind) -> int:
    """Bytes a WIND takes, about (its longest form: number, text, fields, separators)."""
    n = 12 + len(wind.text)
    for f in wind.fields:
        n += 1 + (len(f) if isinstance(f, str | bytes | bytearray) else 8)
    return n
