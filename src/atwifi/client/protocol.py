"""Sans-I/O parser of what an SPWF04Sx console sends back: bytes in, events out.

No I/O, no clock: the caller says which command it sent (:meth:`Parser.start`), feeds every byte
read from the module (:meth:`Parser.feed`) and gets :class:`Reply`, :class:`Wind` and
:class:`Stray` events, in wire order.

Wire shapes handled (docs/reference/wire-notes.md):

* every line ends in CR LF (a lone LF is accepted too); lines may arrive split across reads;
* echo: with ``console_echo=1`` the module sends the command line back followed by CR LF before
  the answer. The first line equal to the command just sent is skipped; echo on or off is
  detected per command (``Parser.echo``), never assumed. After a command was abandoned
  (timeout) with echo on, the lines that come before the next command's echo are the late
  answer of the abandoned one: they are :class:`Stray`, not the start of the new answer;
* a reply ends with ``AT-S.OK`` (or ``AT-S.OK:<heap>:<state>``), with ``AT-S.ERROR:<n>:<text>``,
  ``AT-S.ERROR:<n>``, ``AT-S.ERROR``, or with a result-line error such as
  ``AT-S.Certificate Error:<n>`` (:data:`RESULT_ERRORS`);
* raw blocks: a line whose prefix is in the raw table (``AT-S.Reading:<n>:<m>`` by default)
  announces exactly n raw bytes that follow its CR LF; the next line (``AT-S.OK``) starts right
  after the last raw byte. A caller that knows of a raw block without a header declares it with
  :meth:`Parser.expect_raw`;
* lines without the ``AT-S.`` prefix (``0:\\t BSS ...`` of SCAN) belong to the current reply;
* ``+WIND:<n>:<text>[:<fields>]`` and ``+WIND:<n>`` lines are indications at any time.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

OK = "AT-S.OK"
ERROR = "AT-S.ERROR"
WIND = "+WIND:"

# Result-line errors (manual Tables 11-13): the line ends the reply, no AT-S.OK follows.
# prefix -> kind; the number follows the prefix.
RESULT_ERRORS: dict[str, str] = {
    "AT-S.Certificate Error:": "certificate",
    "AT-S.Http Client Error:": "http",
    "AT-S.WebSocket Client Error:": "websocket",
}

# Lines that announce a raw block: prefix -> index of the ':'-separated field after the prefix
# that holds the raw length. SOCKR, SOCKDR and WSOCKR all answer ``AT-S.Reading:<n>:<m>``.
RAW_PREFIXES: dict[str, int] = {
    "AT-S.Reading:": 0,
}
# An index of STREAM instead announces raw bytes of unknown length that run until the reply's
# final line (HTTPGET's ``AT-S.Http Server Status Code:<n>`` then the body, then ``AT-S.OK``
# right after its last byte). The first final line in the stream ends it: a body that itself
# holds such a line cannot be told apart on this wire (docs/behaviour.md).
STREAM = -1
_FINAL_IN_STREAM = re.compile(
    rb"AT-S\.(?:OK(?::[0-9]+:[0-9]+)?|ERROR(?::[^\r\n]*)?|[A-Za-z]+(?: [A-Za-z]+)* Error:[0-9]+)\r?\n"
)
_STREAM_TAIL = 160  # bytes kept back while streaming: a final line may be cut across reads

# Bytes on the wire are mostly ASCII; SSIDs and file names may be UTF-8 or anything else, and
# surrogateescape keeps every byte so that a line can be encoded back exactly.
ENCODING = "utf-8"
ERRORS = "surrogateescape"


def decode(b: bytes) -> str:
    return b.decode(ENCODING, ERRORS)


def encode(s: str) -> bytes:
    return s.encode(ENCODING, ERRORS)


@dataclass
class Reply:
    """The complete answer to one command.

    ``lines``: the information lines (echo and the final line left out), raw blocks not
    included. ``raw``: the bytes of every raw block, concatenated. ``ok``: ended with AT-S.OK.
    ``final``: the line that ended the reply (``AT-S.OK``, ``AT-S.ERROR:4:...``...).
    ``body``: every byte between the echo and the final line, exactly as received.
    ``error_kind``: None, "error" (AT-S.ERROR) or a :data:`RESULT_ERRORS` kind.
    ``error_number``/``error_text``: parsed from the final line when it is an error.
    """

    lines: list[str]
    raw: bytes
    ok: bool
    final: str = ""
    command: str = ""
    echoed: bool = False
    body: bytes = b""
    error_kind: str | None = None
    error_number: int | None = None
    error_text: str = ""

    def values(self, prefix: str) -> list[str]:
        """The text after ``prefix`` of every information line that starts with it."""
        n = len(prefix)
        return [ln[n:] for ln in self.lines if ln.startswith(prefix)]

    def value(self, prefix: str) -> str:
        """The text after ``prefix`` of the first line that has it; ValueError when none."""
        for ln in self.lines:
            if ln.startswith(prefix):
                return ln[len(prefix) :]
        raise ValueError(f"no {prefix!r} line in the reply to {self.command!r}: {self.lines!r}")


@dataclass
class Wind:
    """An asynchronous indication ``+WIND:<number>:<text>[:<fields>]``.

    ``fields`` is the rest of the line split at ':'; ``tail`` is that rest unsplit (IPv6
    addresses and MQTT payloads contain ':').
    """

    number: int
    text: str
    fields: list[str] = field(default_factory=list)
    line: str = ""

    @property
    def tail(self) -> str:
        head = f"{WIND}{self.number}:{self.text}:"
        return self.line[len(head) :] if self.line.startswith(head) else ":".join(self.fields)


@dataclass
class Stray:
    """A line that belongs to no command: nothing was pending (a late answer after a timeout,
    boot noise of a real module)."""

    line: str


Event = Reply | Wind | Stray


# +WIND:86 (MQTT message), either console_winds form: the header up to the payload, whose
# size is ``size``. A topic holding ":<qos>:<retain>:<dup>:<n>:<n>:" itself is ambiguous on the
# wire; the first such run after the id and at least one topic byte (MQTT has no empty topic)
# is taken as the fields.
MQTT_WIND = re.compile(
    rb"\+WIND:86:(?:MQTT Published:)?(?P<id>\d+):(?P<topic>[^\r\n]+?):(?P<qos>[0-2]):"
    rb"(?P<retain>[01]):(?P<dup>[01]):(?P<size>\d+):(?P<total>\d+):"
)

# WINDs that never carry fields: their line tells which form console_winds selects.
_NO_FIELDS = frozenset({0, 32})


def parse_wind(line: str, texts: bool = True) -> Wind | None:
    """A WIND line in any ``console_winds`` form, None when the line is not one:
    2 ``+WIND:<n>:<text>[:<fields>]``, 1 ``+WIND:<n>[:<fields>]`` (pass ``texts=False``: the
    numbered form has no text), 0 ``+WIND`` alone (number -1)."""
    if line == WIND[:-1]:
        return Wind(-1, "", [], line)
    if not line.startswith(WIND):
        return None
    parts = line[len(WIND) :].split(":")
    try:
        number = int(parts[0])
    except ValueError:
        return None
    if not texts:
        return Wind(number, "", parts[1:], line)
    text = parts[1] if len(parts) > 1 else ""
    return Wind(number, text, parts[2:], line)


def parse_final(line: str) -> tuple[bool, str | None, int | None, str] | None:
    """(ok, error_kind, number, text) when ``line`` ends a reply, else None."""
    if line == OK or line.startswith(OK + ":"):
        return True, None, None, ""
    if line == ERROR:
        return False, "error", None, ""
    if line.startswith(ERROR + ":"):
        num, _, text = line[len(ERROR) + 1 :].partition(":")
        try:
            return False, "error", int(num), text
        except ValueError:
            return False, "error", None, line[len(ERROR) + 1 :]
    for prefix, kind in RESULT_ERRORS.items():
        if line.startswith(prefix):
            rest = line[len(prefix) :]
            num, _, text = rest.partition(":")
            try:
                return False, kind, int(num), text
            except ValueError:
                return False, kind, None, rest
    return None


_SCFG_ECHO = re.compile(r"AT\+S\.SCFG=\s*console_echo\s*,\s*(\S*)\s*$", re.IGNORECASE)
_FCFG = re.compile(r"AT\+S\.FCFG\s*$", re.IGNORECASE)


def _sets_echo(command: str) -> int | None:
    """What echo will be after this command succeeds: 0/1, -1 unknown, None unchanged."""
    if _FCFG.match(command):
        return -1
    m = _SCFG_ECHO.match(command)
    if m is None:
        return None
    return {"0": 0, "1": 1}.get(m.group(1), -1)


class _Pending:
    """The command whose answer is being collected."""

    __slots__ = (
        "command",
        "echo",
        "echoed",
        "started",
        "lines",
        "raw",
        "body",
        "raw_prefixes",
        "sets_echo",
    )

    def __init__(self, command: str, raw_prefixes: dict[str, int]) -> None:
        self.command = command
        self.echo = encode(command)
        self.echoed = False
        self.started = False  # a non-WIND line has come: the echo can no longer come
        self.lines: list[str] = []
        self.raw = bytearray()
        self.body = bytearray()
        self.raw_prefixes = raw_prefixes
        self.sets_echo = _sets_echo(command)


class Parser:
    """Turns the module's byte stream into events. One command is pending at a time."""

    def __init__(self, raw_prefixes: dict[str, int] | None = None) -> None:
        self._buf = bytearray()
        self._scan = 0
        self._raw_left = 0  # bytes of a raw block still to come
        self._raw_owner: _Pending | None = None  # whose raw block it is
        self._stream_owner: _Pending | None = None  # raw until the final line (STREAM)
        self._expected_raw: list[int] = []  # declared by expect_raw, consumed at line starts
        self._pending: _Pending | None = None
        self.raw_prefixes: dict[str, int] = dict(
            RAW_PREFIXES if raw_prefixes is None else raw_prefixes
        )
        # Whether the module echoes commands: None when unknown (before the first answer,
        # after a reboot, after a command whose echo never came).
        self.echo: bool | None = None
        # Whether WINDs carry their text (console_winds=2, factory) or not (1). Learnt from
        # the boot lines +WIND:0 and +WIND:32, which have no fields; callers that change
        # console_winds set it.
        self.wind_texts = True
        # An abandoned command's answer may still come (see abandon()).
        self._stale = False

    # --- what the caller did -----------------------------------------------------------------

    @property
    def pending(self) -> str | None:
        """The command whose answer is awaited, or None."""
        return self._pending.command if self._pending else None

    def start(self, command: str | bytes, raw_prefixes: dict[str, int] | None = None) -> None:
        """The caller is sending ``command`` (without its CR): what follows is its answer.

        ``raw_prefixes`` adds announce-line prefixes for this command only.
        """
        if self._pending is not None:
            raise RuntimeError(f"a command is still pending: {self._pending.command!r}")
        if isinstance(command, bytes):
            command = decode(command)
        command = command.rstrip("\r\n")
        prefixes = self.raw_prefixes if not raw_prefixes else {**self.raw_prefixes, **raw_prefixes}
        self._pending = _Pending(command, prefixes)
        self._expected_raw.clear()

    def expect_raw(self, n: int) -> None:
        """The current command's answer holds a raw block of ``n`` bytes with no announce line:
        it starts at the next line start after the echo. Call after :meth:`start`, before the
        answer is fed; several calls declare several blocks, in order."""
        if self._pending is None:
            raise RuntimeError("expect_raw() with no pending command")
        if n < 0:
            raise ValueError(n)
        self._expected_raw.append(n)

    def abandon(self) -> None:
        """Forget the pending command (timeout, or a reboot that will never answer it).
        Whatever of its answer comes later turns into :class:`Stray` events."""
        p = self._pending
        if p is not None:
            if p.echoed:
                # The module took it, so its answer may still come; with echo on, the next
                # command's echo tells that late answer apart from the next answer.
                self._stale = True
                self.echo = True
            elif self.echo:
                # The echo we waited for never came: maybe echo is off now. Stop insisting.
                self._stale = False
                self.echo = None
        self._pending = None
        self._expected_raw.clear()
        self._stream_owner = None
        # A raw block under way keeps being counted off (and dropped): its bytes may hold
        # anything, "+WIND:" included, and must not be read as lines.

    def forget_raw(self) -> None:
        """Stop counting off a raw block: the module rebooted, the rest will never come."""
        self._raw_left = 0
        self._raw_owner = None
        self._stream_owner = None

    # --- what the module sent ----------------------------------------------------------------

    def feed(self, data: bytes) -> list[Event]:
        """Parse ``data``; return the events it completes, in order."""
        buf = self._buf
        buf += data
        events: list[Event] = []
        pos = 0
        end = len(buf)
        # Where the search for LF may resume: the previous feed's unfinished line was searched
        # already (no quadratic rescans of a long line arriving in small pieces).
        scan, self._scan = self._scan, 0
        while pos < end:
            p = self._pending
            owner = self._stream_owner
            if owner is not None:
                m = _FINAL_IN_STREAM.search(buf, pos)
                stop = m.start() if m is not None else max(pos, end - _STREAM_TAIL)
                if owner is p:
                    chunk = buf[pos:stop]
                    p.raw += chunk
                    p.body += chunk
                pos = stop
                scan = 0
                if m is None:
                    break
                self._stream_owner = None
                continue
            if self._raw_left:
                take = min(self._raw_left, end - pos)
                if p is not None and p is self._raw_owner:
                    chunk = buf[pos : pos + take]
                    p.raw += chunk
                    p.body += chunk
                self._raw_left -= take
                pos += take
                scan = 0
                continue
            if p is not None and self._expected_raw:
                head = bytes(buf[pos : pos + max(len(p.echo) + 2, len(WIND))])
                start = self._raw_start(p, head)
                if start is None:
                    break  # too few bytes to tell the echo from raw data
                if start:
                    self._raw_left = self._expected_raw.pop(0)
                    self._raw_owner = p
                    continue
            if buf.startswith(b"+WIND:86:", pos):
                # An MQTT message: its payload is raw on the line (any byte, CR LF too) and
                # the header says how long it is.
                m = MQTT_WIND.match(buf, pos)
                if m is not None:
                    stop = m.end() + int(m.group("size")) + 2
                    if stop > end:
                        break  # the rest of the payload is still to come
                    ev = self._line(bytes(buf[pos:stop]))
                    pos = stop
                    scan = 0
                    if ev is not None:
                        events.append(ev)
                    continue
            nl = buf.find(b"\n", max(pos, scan))
            if nl < 0:
                self._scan = end - pos  # offset once compacted
                break
            raw_line = bytes(buf[pos : nl + 1])
            pos = nl + 1
            ev = self._line(raw_line)
            if ev is not None:
                events.append(ev)
        # Compact once per feed, not per line.
        if pos:
            del buf[:pos]
        return events

    def _raw_start(self, p: _Pending, head: bytes) -> bool | None:
        """Whether a declared raw block starts at ``head``: True, False (a line comes first:
        the echo or a WIND), None (cannot tell yet)."""
        if p.echoed or p.started:
            return True
        if self._stale and self.echo:
            return False  # a late answer comes first, then our echo
        for line_start in (p.echo + b"\r\n", p.echo + b"\n", WIND.encode()):
            n = min(len(head), len(line_start))
            if head[:n] == line_start[:n]:
                return None if n < len(line_start) else False
        return True

    def _line(self, raw_line: bytes) -> Event | None:
        content = raw_line[:-1]
        if content.endswith(b"\r"):
            content = content[:-1]
        p = self._pending
        if p is not None and not p.echoed and not p.started and content == p.echo:
            p.echoed = True
            return None
        line = decode(content)
        if line.startswith(WIND[:-1]):
            wind = parse_wind(line, self.wind_texts)
            if wind is not None:
                if wind.number in (0, 1):
                    # Rebooted: the saved console_echo may differ; nothing late will come.
                    self.echo = None
                    self._stale = False
                if wind.number in _NO_FIELDS and self.wind_texts != (":" in line[len(WIND) :]):
                    self.wind_texts = not self.wind_texts
                    wind = parse_wind(line, self.wind_texts)
                return wind
        final = parse_final(line)
        if p is None or (self._stale and self.echo and not p.echoed):
            if final is not None:
                self._stale = False  # the late answer is complete
            return Stray(line)
        p.started = True
        if final is not None:
            ok, kind, number, text = final
            self._pending = None
            self._expected_raw.clear()
            self.echo = p.echoed
            if ok and p.sets_echo is not None:
                self.echo = bool(p.sets_echo) if p.sets_echo in (0, 1) else None
            return Reply(
                lines=p.lines,
                raw=bytes(p.raw),
                ok=ok,
                final=line,
                command=p.command,
                echoed=p.echoed,
                body=bytes(p.body),
                error_kind=kind,
                error_number=number,
                error_text=text,
            )
        p.lines.append(line)
        p.body += raw_line
        for prefix, index in p.raw_prefixes.items():
            if line.startswith(prefix):
                fields = line[len(prefix) :].split(":")
                # A malformed announce stays a plain line.
                if index == STREAM:
                    self._stream_owner = p
                    break
                with contextlib.suppress(IndexError, ValueError):
                    self._raw_left = int(fields[index])
                    self._raw_owner = p
                break
        return None
