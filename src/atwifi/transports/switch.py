"""One module, two consoles: the UART plug (pty, tcp, ...) and the SPI bus.

The module's boot picks its console from ``console_enabled`` (the runtime's active framing).
The switch sends the module's output to that console only and hears only that one, as on the
module, whose UART is deaf and silent while it speaks SPI (and the other way round). The
switch looks at the active console whenever bytes pass, so it follows every boot.
"""

from __future__ import annotations

from collections.abc import Callable

from atwifi.transports.base import Transport


class ConsoleSwitch:
    """``consoles``: framing name ("uart", "spi") -> transport. ``active()``: the name of
    the module's console now (None before the first boot: the default)."""

    def __init__(
        self,
        consoles: dict[str, Transport],
        active: Callable[[], str | None],
        default: str = "uart",
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.consoles = consoles
        self._active = active
        self.default = default
        self._note = note or (lambda text: None)
        self._current: str | None = None
        self._deaf_noted = False
        self.dropped_out = 0  # bytes the module said to a console nobody has wired
        self.sync()

    @property
    def current(self) -> str:
        return self._current or self.default

    def sync(self) -> str:
        """Follow the module's console; returns its name."""
        name = self._active() or self.default
        if name != self._current:
            self._current = name
            self._deaf_noted = False
            for key, transport in self.consoles.items():
                set_active = getattr(transport, "set_active", None)
                if set_active is not None:
                    set_active(key == name)
            if name not in self.consoles:
                self._note(f"the module's console is {name}, and no {name} console is wired")
        return name

    def write(self, data: bytes) -> None:
        transport = self.consoles.get(self.sync())
        if transport is None:
            self.dropped_out += len(data)
            return
        transport.write(data)

    async def drain(self) -> None:
        transport = self.consoles.get(self.current)
        if transport is not None:
            await transport.drain()

    def feeder(self, name: str, feed: Callable[[bytes], None]) -> Callable[[bytes], None]:
        """The ``feed`` to start the ``name`` console's transport with: its bytes reach the
        module only while it is the module's console."""

        def console_feed(data: bytes) -> None:
            if self.sync() == name:
                feed(data)
            elif not self._deaf_noted:
                self._deaf_noted = True
                self._note(
                    f"{len(data)} bytes on the {name} console ignored: the module's console"
                    f" is {self.current} (console_enabled)"
                )

        return console_feed
