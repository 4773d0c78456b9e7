"""The contract between the virtual module's console and the plug that carries its bytes."""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Callable

# Like a UART driver's transmit ring: what the module says while no host listens is kept up to
# this many bytes (the newest ones), so a host connecting after power-on still sees the boot WINDs.
BACKLOG_LIMIT = 64 * 1024
# drain() makes the module wait while more than this is queued towards a connected host.
HIGH_WATER = 16 * 1024


def miniterm(url: str, baud: int = 115200) -> str:
    """The miniterm command that works against the module: this Python (it has pyserial; the
    system one may not), Enter sending CR alone (a CR LF terminal would send the LF after a
    {data} command as data)."""
    return f"{sys.executable} -m serial.tools.miniterm --eol CR {url} {baud}"


class Transport(ABC):
    """Moves console bytes between the virtual module and a host. The module side:
    `feed` is called with every chunk of host->module bytes (never blocks, may be called from the
    event loop only); the module writes its output with write(), which never blocks."""

    #: Receives transport events for the trace ("host connected", "dropped 12 bytes: no host").
    on_note: Callable[[str], None] | None = None
    #: Called when a new host takes the console (TCP, RFC 2217): the module forgets the old
    #: host's partial line and pending {data}.
    on_new_host: Callable[[], None] | None = None
    #: Called with True when the connected host stops taking output (its queue passed the
    #: high-water mark) and False when it takes it again or leaves: the module then holds
    #: its WINDs (bounded) instead of queueing them without bound.
    on_output: Callable[[bool], None] | None = None

    @abstractmethod
    async def start(self, feed: Callable[[bytes], None]) -> None:
        """Open/listen; returns when ready."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Module -> host; never blocks; buffers."""

    @abstractmethod
    async def drain(self) -> None:
        """Wait while the output buffer is above its high-water mark (but never forever when no
        host is connected: then it returns at once and bounded buffering applies)."""

    def endpoints(self) -> list[tuple[str, int]]:
        """(host, port) pairs where this transport listens for its host: the module's own
        sockets must never reach them (they would steal the console)."""
        return []

    @abstractmethod
    def describe(self) -> str:
        """Human text for `atwifi serve` to print: how to connect."""

    @abstractmethod
    async def close(self) -> None: ...

    def note(self, text: str) -> None:
        """Report a transport event to whoever listens (the trace)."""
        if self.on_note is not None:
            self.on_note(text)


class Backlog:
    """A bounded byte queue that keeps the newest bytes, counting what it had to drop."""

    def __init__(self, limit: int = BACKLOG_LIMIT) -> None:
        self.limit = limit
        self._buf = bytearray()
        self.dropped = 0  # bytes dropped since the last take_dropped()

    def __len__(self) -> int:
        return len(self._buf)

    def append(self, data: bytes) -> int:
        """Queue data; returns how many old bytes this call dropped."""
        self._buf += data
        over = len(self._buf) - self.limit
        if over <= 0:
            return 0
        del self._buf[:over]
        self.dropped += over
        return over

    def take(self) -> bytes:
        data = bytes(self._buf)
        self._buf.clear()
        return data

    def head(self, n: int) -> bytes:
        return bytes(self._buf[:n])

    def consume(self, n: int) -> None:
        del self._buf[:n]

    def clear(self) -> int:
        n = len(self._buf)
        self._buf.clear()
        return n

    def take_dropped(self) -> int:
        n, self.dropped = self.dropped, 0
        return n
