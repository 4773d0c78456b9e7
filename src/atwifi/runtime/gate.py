"""The output gate: WINDs are held while a reply (or the data block of its command) is in
progress, so a WIND never lands inside one; they follow the reply, in order."""

from __future__ import annotations

from atwifi.runtime.items import Wind


class OutputGate:
    __slots__ = ("busy", "held")

    def __init__(self) -> None:
        # Both public: the runtime's hot path reads and sets them without a call.
        self.busy = False
        self.held: list[Wind] = []

    def begin(self) -> None:
        self.busy = True

    def end(self) -> list[Wind]:
        """The reply is complete: the WINDs held meanwhile, oldest first."""
        self.busy = False
        held, self.held = self.held, []
        return held

    def hold(self, wind: Wind) -> bool:
        """True when ``wind`` was held (a reply is in progress); False: send it now."""
        if self.busy:
            self.held.append(wind)
            return True
        return False

    def clear(self) -> None:
        self.busy = False
        self.held.clear()
