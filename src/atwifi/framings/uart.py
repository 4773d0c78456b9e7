"""The UART console framing, sans I/O: the host's bytes become Requests, items become bytes.

No sockets, no asyncio, no clock: the runtime feeds bytes in and pulls Requests out, in the
manner of h11 (see atwifi/runtime/items.py). The rules are those of wire-notes "Bytes in" and
"Bytes out":

* a command ends at CR; an LF right after the CR is ignored; a lone LF also ends a command;
* a line longer than ``max_line`` bytes is dropped whole (without buffering it) and reported
  as ``LineTooLong`` once its terminator arrives, so the console recovers at the next line;
* after a command that carries ``{data}`` (the dialect's table says how many bytes, from the
  command line alone), the next ``n`` bytes, whatever they are, are that command's data: the
  Request is handed on only once they are all in, so dispatch never waits mid-command;
* replies are formatted per console_echo, console_errs, console_verbose and console_winds
  (WIND masks are the dialect's: a masked WIND never reaches the framing).

``ConsoleDecoder`` is the byte-level part (lines, over-long lines, data blocks);
``UartFraming`` puts it together with the dialect's command heads and the reply formats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atwifi.runtime.items import Error, Info, Line, Ok, Raw, Request, ResultLine, Wind

if TYPE_CHECKING:
    from atwifi.runtime import Dialect

MAX_LINE = 512
MAX_REPEATS = 256  # repeated commands carried in one Request (bounds one burst's reply)
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
    def waiting(self) -> int:
        """Bytes received that no command is taking: ``unread`` less what a data block in
        progress still owes (those are its command's, read as they come)."""
        n = len(self._buf)
        return max(0, n - self._data_left) if self._in_block else n

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
            if m is None:  # (UartFraming.next_request inlines these rules: keep them alike)
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


# The SPWF04's answer to a line over MAX_LINE bytes: 32 "Argument exceeds allowed size".
LINE_TOO_LONG = 32
_OK = b"AT-S.OK\r\n"
_INFO = b"AT-S."


class UartFraming:
    """The UART console (console_enabled=1): text lines in, ``AT-S.`` lines out.

    ``dialect.head(line)`` makes a Request of a command line and says how many ``{data}``
    bytes follow; ``dialect.config.get()`` gives the console_* settings, read as each item is
    formatted (a SCFG takes effect from the next line on)."""

    def __init__(self, dialect: Dialect, max_line: int = MAX_LINE) -> None:
        self.dialect = dialect
        self.config = dialect.config
        self.decoder = ConsoleDecoder(max_line)
        self.out = bytearray()
        self._head: Request | None = None  # a command waiting for its {data}
        # A plain attribute, not a property: the runtime reads it after every burst.
        self.awaiting_data = False
        self.feed = self.decoder.feed  # bytes from the host, straight to the decoder
        self._last_line: bytes | None = None  # what console_repeater repeats
        self._encoders: dict[type, Any] = {
            Ok: self._ok,
            Info: self._info,
            Error: self._error,
            Line: self._line,
            Raw: self._raw,
            ResultLine: self._result,
            Wind: self._wind,
        }

    # -- bytes in -----------------------------------------------------------------------------
    @property
    def buffered(self) -> int:
        return self.decoder.buffered

    def reset(self) -> None:
        self.decoder.reset()
        self._head = None
        self.awaiting_data = False
        self._last_line = None

    def next_request(self) -> Request | None:
        dec = self.decoder
        head = self._head
        if head is not None:
            block = dec.next_event()
            if block is None:
                return None
            self._head = None
            self.awaiting_data = False
            head.data = block.data  # type: ignore[union-attr]
            return head
        if dec._in_block or dec._dropping:
            return self._next_request_events()
        # The hot path, the decoder's rules inlined (no event objects): lines cut at the
        # first CR or LF, an LF right after a CR skipped, a data block taken in one copy.
        buf = dec._buf
        while True:
            if dec._skip_lf and buf:
                if buf[0] == 0x0A:
                    del buf[0]
                dec._skip_lf = False
            if not buf:
                return None
            end = buf.find(b"\r")
            lf = buf.find(b"\n", 0, end) if end >= 0 else buf.find(b"\n")
            if lf >= 0:
                end = lf
            if end < 0 or end > dec.max_line:
                return self._next_request_events()  # no whole line yet, or an over-long one
            dec._skip_lf = buf[end] == 0x0D
            line = bytes(buf[:end])
            del buf[: end + 1]
            if line:
                break
        request, data_len = self._command(line)
        if data_len is None:
            return request
        dec._skip_lf = False  # data starts right after the CR, even if it is an LF
        if len(buf) >= data_len:
            request.data = bytes(buf[:data_len])
            del buf[:data_len]
            if (
                len(buf) > len(line) + data_len
                and buf[len(line)] == 0x0D
                and buf.startswith(line)
                and not self.config.get("console_echo")
                and self.dialect.repeatable(request)
            ):
                request.repeats = self._repeats(buf, line, data_len)
            return request
        return self._take_block(request, data_len)

    def _repeats(self, buf: bytearray, line: bytes, data_len: int) -> list[bytes]:
        """The data of the whole commands that repeat ``line`` at the front of ``buf``
        (taken from it): a driver streaming SOCKWs sends the same line before every block.
        Without echo only: each command's echo would come before its reply."""
        head = line + b"\r"
        h = len(head)
        step = h + data_len
        starts = buf.startswith
        whole = 0  # commands that repeat the line, each with its whole block
        for at in range(0, min(len(buf) // step, MAX_REPEATS) * step, step):
            if not starts(head, at):
                break
            whole += 1
        end = whole * step
        with memoryview(buf) as mv:
            run = bytes(mv[:end])  # one copy; the blocks are slices of it
        del buf[:end]
        return [run[at : at + data_len] for at in range(h, end, step)]

    def _take_block(self, request: Request, data_len: int) -> Request | None:
        """The command's {data} through the decoder: whole, or ``request`` waits for it."""
        dec = self.decoder
        dec.expect_data(data_len)
        block = dec.next_event()
        if block is None:
            self._head = request
            self.awaiting_data = True
            return None
        request.data = block.data  # type: ignore[union-attr]
        return request

    def _command(self, line: bytes) -> tuple[Request, int | None]:
        """A command line (echoed, console_repeater applied) as the dialect's Request."""
        config = self.config
        if config.get("console_echo"):  # (read per line: a SCFG applies from the next one)
            # Goes out with the reply in one write, or on its own first when the data
            # block is still on its way (so the host sees it before sending).
            self.out += line + CRLF
        # console_repeater: a line that is that one character runs the previous line again
        # (the echo shows what was typed).
        if len(line) == 1 and self._last_line and line[0] == config.get("console_repeater"):
            line = self._last_line
        else:
            self._last_line = line
        return self.dialect.head(line)

    def _next_request_events(self) -> Request | None:
        """next_request through the decoder's events (partial blocks, over-long lines)."""
        dec = self.decoder
        while (event := dec.next_event()) is not None:
            kind = type(event)
            if kind is CommandLine:
                request, data_len = self._command(event.text)  # type: ignore[union-attr]
                if data_len is None:
                    return request
                return self._take_block(request, data_len)
            if kind is LineTooLong:
                n = event.length  # type: ignore[union-attr]
                return Request(
                    None, error=LINE_TOO_LONG, detail=f"line of {n} bytes dropped: over 512"
                )
            # A DataBlock cannot come here: blocks are taken right after their command.
        return None

    # -- items out ----------------------------------------------------------------------------
    def send(self, item: object) -> None:
        cls = item.__class__
        if cls is Ok and item.free_heap < 0:  # type: ignore[attr-defined]
            self.out += _OK  # the plain OK that ends most replies
        elif cls is Info:
            self.out += _INFO + item.text.encode("latin-1") + CRLF  # type: ignore[attr-defined]
        else:
            self._encoders[cls](item)

    def _ok(self, item: Ok) -> None:
        verbose = self.config.get("console_verbose")
        if verbose < 2:
            self.out += _OK
        else:
            self.out += format_ok(verbose, item.free_heap, item.wifi_state)

    def _info(self, item: Info) -> None:
        self.out += _INFO + item.text.encode("latin-1") + CRLF

    def _error(self, item: Error) -> None:
        self.out += format_error(self.config.get("console_errs"), item.number, item.text)

    def _line(self, item: Line) -> None:
        self.out += item.data + CRLF

    def _raw(self, item: Raw) -> None:
        self.out += item.data

    def _result(self, item: ResultLine) -> None:
        self.out += _INFO + item.text.encode("latin-1", "replace") + CRLF

    def _wind(self, item: Wind) -> None:
        self.out += format_wind(
            self.config.get("console_winds"), item.number, item.text, item.fields
        )
