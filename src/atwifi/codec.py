"""The console codec, sans I/O: bytes from the host become events, replies become bytes.

No sockets, no asyncio, no clock: the device feeds bytes in and pulls events out, in the
manner of h11. The rules are those of wire-notes "Bytes in" and "Bytes out":

* a command ends at CR; an LF right after the CR is ignored; a lone LF also ends a command;
* a line longer than ``max_line`` bytes is dropped whole (without buffering it) and reported
  as ``LineTooLong`` once its terminator arrives, so the console recovers at the next line;
* after a command that carries ``{data}``, the device calls ``expect_data(n)`` and the next
  ``n`` bytes, whatever they are, come out as one ``DataBlock``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINE = 512
CRLF = b"\r\n"
_EOL = re.compile(rb"[\r\n]")


# Not frozen: a frozen dataclass's __init__ goes through object.__setattr__, and an event is
# made for every line and every data block on the hot path.
@dataclass(slots=True)
class CommandLine:
    text: bytes  # without its terminator


@dataclass(slots=True)
class DataBlock:
    data: bytes


@dataclass(slots=True)
class LineTooLong:
    length: int  # bytes dropped, terminator excluded


Event = CommandLine | DataBlock | LineTooLong


class ConsoleDecoder:
    """Turns the host's byte stream into events. Pull events with ``next_event()`` until it
    returns None (needs more bytes)."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._skip_lf = False  # the previous line ended in CR: an LF now belongs to it
        self._data_left = 0  # bytes still owed to the current data block
        self._data = bytearray()
        self._dropping = 0  # > 0 while discarding an over-long line: bytes dropped so far

    @property
    def buffered(self) -> int:
        """Bytes received and not yet turned into events."""
        return len(self._buf) + len(self._data)

    @property
    def unread(self) -> int:
        """Bytes received that no event has taken yet (a UART's receive buffer fill)."""
        return len(self._buf)

    @property
    def in_data(self) -> bool:
        return self._in_block

    def feed(self, data: bytes) -> None:
        self._buf += data

    def expect_data(self, n: int) -> None:
        """The next ``n`` bytes form a data block (call right after a CommandLine event)."""
        if n < 0:
            raise ValueError("negative data length")
        self._skip_lf = False  # data starts right after the CR, even if it is an LF
        self._data_left = n
        self._data = bytearray()
        self._in_block = True

    def reset(self) -> None:
        """Forget everything buffered (the module rebooted)."""
        self._buf.clear()
        self._skip_lf = False
        self._data_left = 0
        self._data = bytearray()
        self._dropping = 0
        self._in_block = False

    _in_block = False

    def next_event(self) -> Event | None:
        buf = self._buf
        if self._in_block:
            if not self._data and len(buf) >= self._data_left:
                # The whole block is here (the usual case): one copy, not two.
                n = self._data_left
                block = bytes(buf[:n])
                del buf[:n]
                self._data_left = 0
                self._in_block = False
                return DataBlock(block)
            take = min(self._data_left, len(buf))
            if take:
                self._data += buf[:take]
                del buf[:take]
                self._data_left -= take
            if self._data_left:
                return None
            self._in_block = False
            block, self._data = bytes(self._data), bytearray()
            return DataBlock(block)
        while True:
            if self._skip_lf and buf:
                if buf[0] == 0x0A:
                    del buf[0]
                self._skip_lf = False
            if not buf:
                return None
            m = _EOL.search(buf)
            if m is None:
                if self._dropping or len(buf) > self.max_line:
                    self._dropping += len(buf)
                    buf.clear()
                return None
            end = m.start()
            self._skip_lf = buf[end] == 0x0D
            line = bytes(buf[:end])
            del buf[: end + 1]
            if self._dropping:
                dropped = self._dropping + len(line)
                self._dropping = 0
                return LineTooLong(dropped)
            if len(line) > self.max_line:
                return LineTooLong(len(line))
            if not line:
                continue  # an empty line is no command
            return CommandLine(line)


def format_ok(verbose: int, free_heap: int, wifi_state: int) -> bytes:
    if verbose >= 2:
        return b"AT-S.OK:%d:%d\r\n" % (free_heap, wifi_state)
    return b"AT-S.OK\r\n"


def format_error(errs: int, number: int, text: str) -> bytes:
    if errs <= 0:
        return b"AT-S.ERROR\r\n"
    if errs == 1:
        return b"AT-S.ERROR:%d\r\n" % number
    return b"AT-S.ERROR:%d:%s\r\n" % (number, text.encode("latin-1", "replace"))


def format_wind(winds: int, number: int, text: str, fields: tuple[object, ...] = ()) -> bytes:
    """``+WIND:<n>:<text>[:<fields>]`` for console_winds=2, ``+WIND:<n>[:<fields>]`` for 1,
    ``+WIND`` alone for 0 (the same three steps as console_errs)."""
    if winds <= 0:
        return b"+WIND\r\n"
    parts = [b"+WIND:%d" % number]
    if winds >= 2:
        parts.append(text.encode("latin-1", "replace"))
    parts.extend(str(f).encode("latin-1", "replace") for f in fields)
    return b":".join(parts) + CRLF


def wind_masked(number: int, low: int, medium: int, high: int) -> bool:
    """Bit i of console_wind_off_low silences WIND i; _medium WIND 32+i; _high WIND 64+i."""
    if number < 32:
        return bool(low >> number & 1)
    if number < 64:
        return bool(medium >> (number - 32) & 1)
    if number < 96:
        return bool(high >> (number - 64) & 1)
    return False


class OutputGate:
    """Holds WINDs back while a reply (or the data block of its command) is in progress, so a
    WIND never lands inside one; releases them, in order, when the reply is complete."""

    def __init__(self) -> None:
        self.busy = False
        self._held: list[bytes] = []

    def begin(self) -> None:
        self.busy = True

    def end(self) -> bytes:
        self.busy = False
        held, self._held = self._held, []
        return b"".join(held)

    def wind(self, line: bytes) -> bytes:
        """Returns the bytes to send now (empty when held)."""
        if self.busy:
            self._held.append(line)
            return b""
        return line

    def clear(self) -> None:
        self.busy = False
        self._held.clear()
