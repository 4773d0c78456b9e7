"""What flows through the runtime: a ``Request`` in, reply *items* out (never bytes).

The layers (docs/architecture.md):

    transport  --bytes-->  framing  --Request-->  runtime.execute  --> dialect --> services
    transport  <--bytes--  framing  <--items---   (Sink)           <--

A **framing** (``atwifi/framings/<name>.py``) is sans-I/O, in the manner of h11: it turns the
host's bytes into ``Request`` objects and reply items into bytes. It decides from the
dialect's command table how many ``{data}`` bytes follow a command head (as h11 picks a body
reader from the head), so a ``Request`` is complete when it is handed on and dispatch never
waits mid-command. The UART framing (``framings/uart.py``) formats items per the module's
configuration (console_echo, console_errs, console_verbose, console_winds); an SPI framing
packs the same items into its frames.

A framing plugs in with one registration, a line in ``atwifi.framings.FRAMINGS``
(``"spi": "atwifi.framings.spi:SpiFraming"``). At every boot the runtime asks the dialect's
``console_enabled()`` hook which framing is active (for the SPWF04: console_enabled 0 = "spi",
1 = "uart") and builds it as ``FramingClass(dialect)``. See ``atwifi/runtime/__init__.py`` for
the ``Framing`` protocol.

The **sink** receives a reply's items in order: ``sink.send(item)`` never blocks (the item is
encoded and buffered); ``await sink.flush()`` pushes what is buffered to the host and waits for
room, which is how a long output (an HTTP body, a file) streams instead of being held whole.
``runtime.execute(request, sink)`` is the one entry point every console and script uses; the
last item of every reply is ``Ok``, ``Error`` or ``ResultLine``. ``Wind`` items are sent by
the runtime itself, never inside a reply (the output gate holds them meanwhile).

Items are plain slotted dataclasses (not frozen: a frozen dataclass's __init__ goes through
object.__setattr__, and items are made for every reply on the hot path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class CommandSpec(Protocol):
    """What the runtime and framings need of a dialect's table entry (for the SPWF04:
    ``atwifi.spwf04.table.schema.Command``)."""

    @property
    def name(self) -> str: ...  # "SOCKW"; "" for the bare AT

    @property
    def data(self) -> str | None: ...  # name of the parameter giving the {data} length


@dataclass(slots=True)
class Request:
    """One complete command: its table entry, the raw text of each parameter as the framing
    split it, and its ``{data}`` bytes (exactly the announced length) or None.

    ``error`` set: the framing could not make a command of what it received (unknown command:
    1, line over 512 bytes: 32); ``command`` is then None and the reply is that error.
    ``line`` is the command line as received (the UART echo, traces), ``b""`` when the framing
    has none (SPI). ``parsed`` is the dialect's typed-argument cache, filled by whoever parsed
    the parameters first (the UART framing does, to learn the data length); a framing that
    does not parse leaves it None and the dialect parses ``params``.
    """

    command: CommandSpec | None
    params: tuple[str, ...] = ()
    data: bytes | None = None
    line: bytes = b""
    error: int | None = None
    detail: str = ""  # why, for the trace (never on the wire)
    parsed: object = None
    # The data of identical command lines that came right after this one (a burst of the
    # same data command, e.g. SOCKWs of 730 bytes): each is a command of its own, carried
    # out in order with a reply each; the UART framing gathers them when the dialect allows.
    repeats: list[bytes] | None = None


# -- reply items ---------------------------------------------------------------------------


@dataclass(slots=True)
class Info:
    """An information line: ``AT-S.<text>`` on the UART."""

    text: str


@dataclass(slots=True)
class Line:
    """A line printed as it is (SCAN's ``0:\\t BSS ...`` lines), terminator added."""

    data: bytes


@dataclass(slots=True)
class Raw:
    """Raw bytes with no terminator (SOCKR payloads, FSP contents)."""

    data: bytes


@dataclass(slots=True)
class Ok:
    """The command succeeded. ``free_heap``/``wifi_state``: facts a framing may print
    (``AT-S.OK:<heap>:<state>`` for console_verbose=2); -1 when the dialect has none."""

    free_heap: int = -1
    wifi_state: int = -1


@dataclass(slots=True)
class Error:
    """The command failed: ``AT-S.ERROR:<number>:<text>`` (per console_errs)."""

    number: int
    text: str = ""


@dataclass(slots=True)
class ResultLine:
    """A failure the module reports with a result line of its own instead of ERROR, e.g.
    ``ResultLine("Certificate Error:21")`` -> ``AT-S.Certificate Error:21``. Ends the reply."""

    text: str


@dataclass(slots=True)
class Wind:
    """An asynchronous indication: ``+WIND:<number>:<text>:<fields...>`` (per
    console_winds). Fields are printed with str(); bytes fields one character per byte."""

    number: int
    text: str = ""
    fields: tuple[object, ...] = ()


ReplyItem = Info | Line | Raw | Ok | Error | ResultLine
Item = ReplyItem | Wind
FINAL = (Ok, Error, ResultLine)  # an item of these types ends a reply


class Sink(Protocol):
    """Where a reply's items go (a console, or a script collecting them)."""

    def send(self, item: Item) -> None:
        """Take one item; never blocks."""

    async def flush(self) -> None:
        """Push what is buffered towards the host; waits while the host is slow."""


class ListSink:
    """A sink that keeps the items: for scripts and tests (``await runtime.execute(req,
    sink)`` then look at ``sink.items``)."""

    def __init__(self) -> None:
        self.items: list[Item] = []

    def send(self, item: Item) -> None:
        self.items.append(item)

    async def flush(self) -> None:
        pass


__all__ = [
    "CommandSpec",
    "Request",
    "Info",
    "Line",
    "Raw",
    "Ok",
    "Error",
    "ResultLine",
    "Wind",
    "ReplyItem",
    "Item",
    "FINAL",
    "Sink",
    "ListSink",
]
