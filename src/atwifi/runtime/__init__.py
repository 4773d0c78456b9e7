"""The module runtime, dialect-free: console loop, eager execution, output gate, tasks, power.

See ``items.py`` for what flows through it and how a framing plugs in. The runtime imports
no dialect: a dialect (``atwifi.spwf04.device.Device``) hands it an object with the
``Dialect`` protocol below, and framings are found through ``atwifi.framings.FRAMINGS``.
"""

from __future__ import annotations

from typing import Any, Protocol

from atwifi.runtime.items import CommandSpec, Item, Request, Sink


class Config(Protocol):
    def get(self, name: str) -> Any: ...


class Framing(Protocol):
    """A console's codec, sans I/O (``atwifi/framings/uart.py`` is the model).

    Built as ``FramingClass(dialect)`` at boot, when the dialect's ``console_enabled()``
    names it. ``out`` holds encoded bytes for the host; the runtime's console takes them (one
    write per burst) and clears it."""

    out: bytearray

    def feed(self, data: bytes) -> None:
        """Bytes from the host (never blocks; buffers)."""

    def next_request(self) -> Request | None:
        """The next complete Request (its ``{data}`` included), or None: more bytes needed."""

    @property
    def awaiting_data(self) -> bool:
        """A command head is in and its data is not: the runtime holds WINDs meanwhile and
        pushes ``out`` (the UART echo) so the host sees it before it sends the data. (A
        plain attribute does as well: the UART framing keeps one.)"""

    @property
    def buffered(self) -> int:
        """Bytes received and not yet turned into Requests."""

    def send(self, item: Item) -> None:
        """Encode one reply item or WIND into ``out``."""

    def reset(self) -> None:
        """The module rebooted: forget what was received."""


class Dialect(Protocol):
    """What the runtime needs of a dialect (the SPWF04 ``Device`` is one)."""

    config: Config

    def head(self, line: bytes) -> tuple[Request, int | None]:
        """A text command line (without terminator) as a Request without its data, and how
        many ``{data}`` bytes follow it (None: none). Never raises: a line that is no command
        gives a Request with ``error`` set."""

    def console_enabled(self) -> str:
        """The name of the active framing in ``atwifi.framings.FRAMINGS`` ("uart", "spi")."""

    async def prepare(self, reason: int) -> None:
        """Boot, first half: volatile state cleared, saved configuration loaded (the runtime
        then asks ``console_enabled()``)."""

    async def start(self) -> None:
        """Boot, second half: boot WINDs, services started. Calls ``runtime.console_active()``
        when its console hears the host (input before that is dropped); the runtime calls it
        at the end of the boot otherwise."""

    async def stop(self) -> None:
        """Before a reset or power-off: stop every service. A dialect that supports standby
        takes ``keep`` too: names of services that stay up."""

    async def execute(self, request: Request, sink: Sink) -> None:
        """Carry the command out: items to ``sink``, the last one Ok, Error or ResultLine."""

    # Optional: ``execute_now(request, sink) -> Awaitable[None] | None`` carries the command
    # out as far as it goes without waiting: None when the reply is complete, else an
    # awaitable that finishes it. The runtime's eager path then runs commands that never
    # wait with no coroutine at all (the SPWF04's SOCKW and SOCKR).

    def internal_error(self) -> Item:
        """The reply to a request that crashed outside the handlers (a bug in atwifi)."""

    def trace_note(self, text: str) -> None: ...


__all__ = ["CommandSpec", "Config", "Dialect", "Framing", "Item", "Request", "Sink"]

# The runtime itself (imported last: it uses the protocols above).
from atwifi.runtime.runtime import Boot, PowerState, Runtime  # noqa: E402

__all__ += ["Boot", "PowerState", "Runtime"]
