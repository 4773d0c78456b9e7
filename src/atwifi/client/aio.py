"""The asyncio client: one command at a time, WINDs as events, typed helpers for the basics.

Areas (files, sockets, radio) add async mixin classes that use only ``self.command(...)``,
``self.wait_wind(...)`` and ``self.winds()``; list them in :data:`MIXINS` and both
:class:`AsyncClient` and the sync :class:`atwifi.client.Client` get their methods.
"""

from __future__ import annotations

import asyncio
import calendar
import functools
import inspect
import logging
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Self

from atwifi.client.errors import ModuleRebootedError, error_for
from atwifi.client.files import FilesMixin
from atwifi.client.http import HttpMixin
from atwifi.client.httpd import HttpdMixin
from atwifi.client.mqtt import MqttMixin
from atwifi.client.pins import PinsMixin
from atwifi.client.protocol import Parser, Reply, Stray, Wind, encode
from atwifi.client.python import PythonMixin
from atwifi.client.radio import RadioMixin
from atwifi.client.sockets import SocketsMixin
from atwifi.client.transfer import TransferMixin
from atwifi.client.transport import Transport, open_transport
from atwifi.client.websocket import WebSocketMixin

log = logging.getLogger(__name__)

# Area mixins, e.g. ``from atwifi.client.files import FilesMixin`` above and then
# ``MIXINS = (FilesMixin,)``. Mixins must not import this module at import time.
MIXINS: tuple[type, ...] = (
    SocketsMixin,
    RadioMixin,
    FilesMixin,
    HttpMixin,
    TransferMixin,
    HttpdMixin,
    WebSocketMixin,
    MqttMixin,
    PinsMixin,
    PythonMixin,
)

WindMatch = int | Iterable[int] | Callable[[Wind], bool] | None
WindCallback = Callable[[Wind], Any]

VAR = "AT-S.Var:"


def _matcher(match: WindMatch) -> Callable[[Wind], bool]:
    if match is None:
        return lambda w: True
    if isinstance(match, int):
        return lambda w: w.number == match
    if callable(match):
        return match
    numbers = frozenset(match)
    return lambda w: w.number in numbers


def _vars(reply: Reply) -> dict[str, str]:
    """``AT-S.Var:<name>=<value>`` lines as a dict, in printed order."""
    out: dict[str, str] = {}
    for text in reply.values(VAR):
        name, sep, value = text.partition("=")
        if sep:
            out[name] = value
    return out


class _Core:
    """Transport, parser, command serialization and WIND delivery."""

    def __init__(self, *, timeout: float = 10.0, wind_backlog: int = 1000) -> None:
        self.timeout = timeout
        self._transport: Transport | None = None
        self._parser = Parser()
        self._lock = asyncio.Lock()
        self._reply: asyncio.Future[Reply] | None = None
        self._backlog: deque[Wind] = deque(maxlen=wind_backlog)
        self.winds_dropped = 0  # WINDs pushed out of a full backlog
        self._waiters: list[tuple[Callable[[Wind], bool], asyncio.Future[Wind]]] = []
        self._watchers: list[tuple[Callable[[Wind], bool], asyncio.Future[Wind]]] = []
        self._callbacks: list[WindCallback] = []
        self._closed: BaseException | None = None
        self._tasks: set[asyncio.Task] = set()
        self._rebooting = False  # a reset/FCFG is under way: its reboot is expected
        self._answered = False  # a first answer came: boot lines from now on are new

    # --- life cycle --------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 (the default for every command)
        wind_backlog: int = 1000,
        **serial_kw: Any,
    ) -> Self:
        """Connect to a module: a device path (/dev/ttyUSB0, /dev/pts/N), ``socket://host:port``,
        ``rfc2217://host:port``, or any other URL pyserial's serial_for_url accepts.
        ``serial_kw`` (baudrate, rtscts...) go to pyserial."""
        self = cls(timeout=timeout, wind_backlog=wind_backlog)
        if url.startswith("rfc2217://") and "timeout=" not in url:
            # pyserial waits 3 s for the telnet negotiation by default; a loaded host needs
            # the same patience as a command.
            url += ("&" if "?" in url else "?") + f"timeout={timeout:g}"
        self._transport = await open_transport(url, self._on_data, self._on_close, **serial_kw)
        return self

    async def close(self) -> None:
        if self._transport is not None:
            transport, self._transport = self._transport, None
            await transport.close()
        self._on_close(None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    @property
    def echo_on(self) -> bool | None:
        """Whether the module echoed the last command (None before the first answer)."""
        return self._parser.echo

    def add_raw_prefix(self, prefix: str, index: int = 0) -> None:
        """Answers' lines starting with ``prefix`` announce a raw block whose length is the
        ``index``-th ':'-separated field after the prefix (for every command from now on;
        ``command(raw_prefixes=...)`` does it for one command)."""
        self._parser.raw_prefixes[prefix] = index

    # --- bytes in ----------------------------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        for ev in self._parser.feed(data):
            if isinstance(ev, Wind):
                self._deliver(ev)
            elif isinstance(ev, Reply):
                self._answered = True
                if self._reply is not None and not self._reply.done():
                    self._reply.set_result(ev)
            elif isinstance(ev, Stray):
                log.debug("stray line from the module: %r", ev.line)

    def _on_close(self, exc: BaseException | None) -> None:
        if self._closed is not None:
            return
        self._closed = ConnectionError(f"connection to the module closed: {exc or 'closed'}")
        self._closed.__cause__ = exc
        for fut in [self._reply, *(f for _, f in self._waiters), *(f for _, f in self._watchers)]:
            if fut is not None and not fut.done():
                fut.set_exception(self._closed)
        self._waiters.clear()
        self._watchers.clear()

    def _check_open(self) -> None:
        if self._closed is not None:
            raise self._closed
        if self._transport is None:
            raise ConnectionError("not connected")

    # --- commands ----------------------------------------------------------------------------

    async def command(
        self,
        line: str,
        data: bytes | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        raw_prefixes: dict[str, int] | None = None,
        expect_raw: Iterable[int] = (),
        check: bool = True,
    ) -> Reply:
        """Send ``line`` + CR (then ``data`` raw, if given) and return the module's answer.

        Raises :class:`AtCommandError` (or a subclass for result-line errors) when the answer is
        an error and ``check`` is true, :class:`TimeoutError` when no answer completes within
        ``timeout`` seconds (default ``self.timeout``), ConnectionError when the link drops.
        ``raw_prefixes``/``expect_raw``: see :meth:`Parser.start` / :meth:`Parser.expect_raw`.
        """
        async with self._lock:
            reply = await self._command(line, data, timeout, raw_prefixes, expect_raw)
        if check and not reply.ok:
            raise error_for(reply)
        return reply

    async def _command(
        self,
        line: str,
        data: bytes | None,
        timeout: float | None,  # noqa: ASYNC109
        raw_prefixes: dict[str, int] | None = None,
        expect_raw: Iterable[int] = (),
    ) -> Reply:
        """Send and wait; the caller holds the lock."""
        fut = self._send_start(line, raw_prefixes, expect_raw)
        try:
            # The write counts too: a flow-controlled port may stall.
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                await self._transport.write(encode(line) + b"\r" + (data or b""))  # type: ignore[union-attr]
                return await fut
        except TimeoutError:
            raise TimeoutError(f"no answer to {line!r}") from None
        finally:
            self._send_end(fut)

    def _send_start(
        self, line: str, raw_prefixes: dict[str, int] | None = None, expect_raw: Iterable[int] = ()
    ) -> asyncio.Future[Reply]:
        self._check_open()
        if "\r" in line or "\n" in line:
            raise ValueError(f"a command is one line: {line!r}")
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._parser.start(line, raw_prefixes)
        for n in expect_raw:
            self._parser.expect_raw(n)
        self._reply = fut
        return fut

    def _send_end(self, fut: asyncio.Future[Reply]) -> None:
        fut.cancel()  # no-op once answered
        if self._parser.pending is not None:
            # Timeout, cancellation, a lost link or a reboot: whatever comes of that answer
            # later is stray.
            self._parser.abandon()
        self._reply = None

    # --- WINDs -------------------------------------------------------------------------------

    def _deliver(self, wind: Wind) -> None:
        # An unexpected power-on (watchdog, brown-out, reset pin): the module dropped the
        # pending command; fail it now instead of at its timeout. Not before the first answer:
        # a console that kept the module's output while nobody was connected (atwifi serve,
        # a terminal server) replays the old boot lines to a new host, and the module answers.
        reply = self._reply
        if (
            wind.number == 1
            and self._answered
            and not self._rebooting
            and reply is not None
            and not reply.done()
        ):
            reply.set_exception(ModuleRebootedError(f"the module restarted: {wind.line}"))
        for fn in list(self._callbacks):
            try:
                res = fn(wind)
                if inspect.isawaitable(res):
                    task = asyncio.ensure_future(res)
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            except Exception:
                log.exception("WIND callback %r failed", fn)
        for entry in list(self._watchers):
            pred, fut = entry
            if not fut.done() and pred(wind):
                fut.set_result(wind)
                self._watchers.remove(entry)
        for entry in self._waiters:
            pred, fut = entry
            if not fut.done() and pred(wind):
                fut.set_result(wind)
                self._waiters.remove(entry)
                return  # taken
        if len(self._backlog) == self._backlog.maxlen:
            self.winds_dropped += 1
        self._backlog.append(wind)

    def on_wind(self, fn: WindCallback) -> Callable[[], None]:
        """Call ``fn(wind)`` for every WIND from now on (on the event loop; a coroutine it
        returns runs as a task). Returns a function that removes the callback."""
        self._callbacks.append(fn)
        return lambda: self._callbacks.remove(fn) if fn in self._callbacks else None

    async def wait_wind(self, match: WindMatch = None, timeout: float | None = None) -> Wind:  # noqa: ASYNC109
        """The oldest queued WIND that matches (a number, several numbers, a predicate, None
        for any), or the next one to arrive; TimeoutError after ``timeout`` seconds."""
        pred = _matcher(match)
        for w in self._backlog:
            if pred(w):
                self._backlog.remove(w)
                return w
        self._check_open()
        fut: asyncio.Future[Wind] = asyncio.get_running_loop().create_future()
        entry = (pred, fut)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                return await fut
        except BaseException:
            # Timed out or cancelled just as a WIND was handed over: do not lose it.
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self._backlog.appendleft(fut.result())
            raise
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def winds(self) -> AsyncIterator[Wind]:
        """Every WIND, queued ones first; ends when the connection closes."""
        while True:
            try:
                w = await self.wait_wind(None)
            except ConnectionError:
                return
            yield w

    def pending_winds(self) -> list[Wind]:
        """The queued WINDs nobody has taken yet (not removed)."""
        return list(self._backlog)

    def clear_winds(self) -> None:
        self._backlog.clear()

    def _watch(self, match: WindMatch) -> asyncio.Future[Wind]:
        """A future for the next matching WIND, which stays available to everyone else."""
        fut: asyncio.Future[Wind] = asyncio.get_running_loop().create_future()
        self._watchers.append((_matcher(match), fut))
        return fut

    def _unwatch(self, *futs: asyncio.Future[Wind]) -> None:
        self._watchers = [(p, f) for p, f in self._watchers if f not in futs]
        for f in futs:
            if f.done() and not f.cancelled():
                f.exception()  # seen: a lost link must not log "never retrieved" later
            f.cancel()

    # --- reboots -----------------------------------------------------------------------------

    async def _reboot(self, line: str, wait: bool, timeout: float | None) -> Reply | None:  # noqa: ASYNC109
        """Send a command after which the module may reboot, with or without AT-S.OK first
        (wire-notes: drivers accept either). With ``wait``, return once the module printed
        ``+WIND:0:Console active`` and ``+WIND:32:WiFi Hardware Started``. WINDs queued before
        are dropped: they describe the module before the reboot."""
        timeout = max(self.timeout, 10.0) if timeout is None else timeout
        async with self._lock:
            self._rebooting = True
            self.clear_winds()
            self._parser.forget_raw()  # what follows a reset is its boot lines
            booting = self._watch((1, 0))
            console = self._watch(0)
            hardware = self._watch(32)
            reply: Reply | None = None
            try:
                async with asyncio.timeout(timeout):
                    fut = self._send_start(line)
                    try:
                        await self._transport.write(encode(line) + b"\r")  # type: ignore[union-attr]
                        await asyncio.wait({fut, booting}, return_when=asyncio.FIRST_COMPLETED)
                        if fut.done():
                            reply = fut.result()
                    finally:
                        self._send_end(fut)
                    if reply is not None and not reply.ok:
                        raise error_for(reply)
                    if wait:
                        await console
                        await hardware
            except TimeoutError:
                raise TimeoutError(f"the module did not restart after {line!r}") from None
            finally:
                self._rebooting = False
                self._unwatch(booting, console, hardware)
        return reply


class _Basics:
    """Typed helpers for the console, configuration and status commands (manual 6.1-6.22)."""

    command: Callable[..., Any]
    _reboot: Callable[..., Any]
    _parser: Parser

    def _note_config(self, values: dict[str, str]) -> None:
        # The numbered WIND form (console_winds=1) has no text: the parser must know.
        winds = values.get("console_winds")
        if winds is not None:
            self._parser.wind_texts = winds.strip() != "1"

    async def get_config(
        self, name: str | None = None, *, typed: bool = False
    ) -> dict[str, Any] | Any:
        """``AT+S.GCFG``: every variable as a dict, or the value of ``name``. Values are the
        printed text; with ``typed``, INT variables become int and HEX ones int too."""
        reply = await self.command(f"AT+S.GCFG={name}" if name else "AT+S.GCFG")
        values = _vars(reply)
        self._note_config({k.lower(): v for k, v in values.items()})
        if typed:
            values = {k: _typed(k, v) for k, v in values.items()}
        if name is None:
            return values
        return _one(values, name, reply)

    async def set_config(self, name: str, value: str | int | bytes | bool) -> None:
        """``AT+S.SCFG=<name>,<value>``; ints of HEX variables are printed as 0x%08X, bytes as
        upper-case hex with colons (HEX[n]), bools as 1/0."""
        text = _format_value(name, value)
        await self.command(f"AT+S.SCFG={name},{text}")
        self._note_config({name.lower(): text})

    async def save_config(self) -> None:
        """``AT+S.WCFG``: save the configuration to flash."""
        await self.command("AT+S.WCFG")

    async def factory_reset(self, *, wait: bool = True, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """``AT+S.FCFG`` then the reset the manual makes mandatory after it. A module that
        reboots by itself on FCFG is accepted too."""
        reply = await self._reboot("AT+S.FCFG", wait=False, timeout=timeout)
        if reply is None:
            # It rebooted on its own: wait for the boot to finish.
            if wait:
                await self.wait_ready(timeout=timeout)
            return
        await self.reset(wait=wait, timeout=timeout)

    async def reset(self, wait: bool = True, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """``AT+S.RESET``; with ``wait``, return when the console is active again."""
        await self._reboot("AT+S.RESET", wait=wait, timeout=timeout)

    async def wait_ready(self, timeout: float | None = None, *, probe: float = 1.0) -> None:  # noqa: ASYNC109
        """Return once the console answers ``AT`` (probing every ``probe`` seconds at most, as
        a module still booting drops what it gets)."""
        timeout = max(self.timeout, 10.0) if timeout is None else timeout  # type: ignore[attr-defined]
        async with asyncio.timeout(timeout):
            while True:
                try:
                    await self.command("AT", timeout=probe)
                    return
                except (TimeoutError, ModuleRebootedError):
                    continue

    async def status(self, name: str | None = None) -> dict[str, str] | str:
        """``AT+S.STS``: every status variable as a dict, or the value of ``name``."""
        reply = await self.command(f"AT+S.STS={name}" if name else "AT+S.STS")
        values = _vars(reply)
        return values if name is None else _one(values, name, reply)

    async def peers(
        self, peer: int | None = None, name: str | None = None
    ) -> dict[int, dict[str, str]]:
        """``AT+S.PEERS``: {peer number: {variable: value}}."""
        line = "AT+S.PEERS"
        if peer is not None:
            line += f"={peer}" + (f",{name}" if name else "")
        reply = await self.command(line)
        out: dict[int, dict[str, str]] = {}
        for key, value in _vars(reply).items():
            num, sep, var = key.partition(".")
            if sep and num.isdigit():
                out.setdefault(int(num), {})[var] = value
        return out

    async def time(self) -> int:
        """The module's clock, seconds since 1970 UTC, from ``AT+S.TIME``."""
        reply = await self.command("AT+S.TIME")
        return _parse_time(reply)

    async def set_time(self, t: int) -> None:
        await self.command(f"AT+S.TIME={int(t)}")

    async def random(self) -> int:
        """``AT+S.RANDOM``: a 32-bit number from the module."""
        reply = await self.command("AT+S.RANDOM")
        return int(reply.value("AT-S.Number:").strip())

    async def help(self, keyword: str | None = None) -> list[str]:
        """``AT+S.HELP``: the ``<command> -- <help>`` lines."""
        reply = await self.command(f"AT+S.HELP={keyword}" if keyword else "AT+S.HELP")
        return [ln.removeprefix("AT-S.Command:").removeprefix("AT-S.") for ln in reply.lines]

    async def echo(self, on: bool) -> None:
        """Switch ``console_echo``; the client works either way."""
        await self.set_config("console_echo", 1 if on else 0)


def _one(values: dict[str, Any], name: str, reply: Reply) -> Any:
    if name in values:
        return values[name]
    lowered = {k.lower(): v for k, v in values.items()}
    if name.lower() in lowered:
        return lowered[name.lower()]
    if len(values) == 1:
        return next(iter(values.values()))
    raise KeyError(f"no value for {name!r} in the reply to {reply.command!r}: {reply.lines!r}")


@functools.cache
def _config_types() -> dict[str, str]:
    # Table 7 types; imported on first typed use only.
    from atwifi.spwf04.table.config_vars import CONFIG_VARS

    return {v.name: v.type.name for v in CONFIG_VARS}


def _typed(name: str, text: str) -> Any:
    kind = _config_types().get(name)
    try:
        if kind == "INT":
            return int(text)
        if kind == "HEX":
            return int(text, 16)
    except ValueError:
        pass  # a value the module printed in another shape stays text
    return text


def _format_value(name: str, value: str | int | bytes | bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return f"0x{value:08X}" if _config_types().get(name) == "HEX" else str(value)
    if isinstance(value, bytes | bytearray):
        return ":".join(f"{b:02X}" for b in value)
    return value


_DATE = re.compile(r"(\d+)\D(\d+)\D(\d+)")


def _parse_time(reply: Reply) -> int:
    """``AT-S.Date:yy.mm.dd[:wd]`` + ``AT-S.Time:hh:mm:ss`` (':' or '.'), as UTC seconds."""
    d = _DATE.match(reply.value("AT-S.Date:"))
    t = _DATE.match(reply.value("AT-S.Time:"))
    if not d or not t:
        raise ValueError(f"cannot read the time from {reply.lines!r}")
    year, month, day = (int(x) for x in d.groups())
    if year < 100:  # two-digit years: the clock starts at 1970 after power-on
        year += 1900 if year >= 70 else 2000
    hh, mm, ss = (int(x) for x in t.groups())
    return calendar.timegm((year, month, day, hh, mm, ss, 0, 0, 0))


class AsyncClient(*MIXINS, _Basics, _Core):  # type: ignore[misc]
    """An SPWF04Sx module over asyncio. ``async with await AsyncClient.open(url) as c: ...``"""
