"""The virtual SPWF04SA, the dialect's half: table, handlers, wording, WIND texts, boot.

The console loop, eager execution, the output gate, tasks and the power life cycle are the
runtime's (``atwifi.runtime``); this class is the ``Dialect`` it drives. It turns a
Request into a handler call with typed arguments, words failures (Table 10 numbers, result
lines, ``spwf04/wording.py`` for service error kinds), prints the boot WINDs, and starts and
stops the parts (spwf04/parts) that bind services to the life cycle.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atwifi.errors import AtError, AtResultLine
from atwifi.framings.uart import wind_masked
from atwifi.runtime.heap import Heap
from atwifi.runtime.items import Error, Ok, Request, ResultLine, Sink, Wind
from atwifi.runtime.runtime import Boot, Runtime
from atwifi.services.errors import ServiceError
from atwifi.services.flash import CorruptBlob, Flash
from atwifi.spwf04 import args as arguments
from atwifi.spwf04 import firmware
from atwifi.spwf04.clock import ModuleClock
from atwifi.spwf04.commands import _HANDLERS, BURSTS, SYNC_HANDLERS, lookup
from atwifi.spwf04.config import Config
from atwifi.spwf04.context import Context
from atwifi.spwf04.parts import load_parts
from atwifi.spwf04.status import Status
from atwifi.spwf04.table.errors import ERRORS
from atwifi.spwf04.table.winds import WINDS
from atwifi.spwf04.wording import word
from atwifi.statedir import private_folder

if TYPE_CHECKING:
    from atwifi.services.fs import FileSystem
    from atwifi.services.http import HttpClient
    from atwifi.services.httpd.server import WebServer
    from atwifi.services.radio import Radio, World
    from atwifi.services.sockets import Sockets
    from atwifi.services.tls import TlsService
    from atwifi.services.websocket import WebSockets
    from atwifi.spwf04.parts.net import Net
    from atwifi.spwf04.parts.tftp import Tftp

log = logging.getLogger("atwifi")

BUILD = "171117-0328fe3-SPWF04S"
NOT_BUILT = "Command not implemented in atwifi"
_NO_DATA = object()  # Device._plain: the command carries no {data}
_FAILED = object()  # Device._plain: the handler failed, its error is answered
HEADS_CACHED = 512  # command lines whose parse the device keeps (Device.head)
INTERNAL = 111  # "Request failed": a handler crashed (a bug in atwifi), the module goes on

# reset_reason values of Table 8, and the runtime's boot reasons they stand for.
POWER_ON, WATCHDOG, SOFT_RESET, LOW_POWER, HW_RESET = 0, 1, 2, 3, 4
_REASONS = {
    Boot.POWER_ON: POWER_ON,
    Boot.WATCHDOG: WATCHDOG,
    Boot.RESET: SOFT_RESET,
    Boot.WAKE: LOW_POWER,
    Boot.HW_RESET: HW_RESET,
}
_BOOTS = {code: boot for boot, code in _REASONS.items()}
# console_enabled (Table 7) -> framing (atwifi.framings.FRAMINGS). 2 and 3 are MicroPython
# (spwf04/parts/python.py) on the UART: 2 with AT commands, 3 the script alone.
CONSOLES = {0: "spi", 1: "uart", 2: "uart", 3: "uart"}
_OK = Ok()  # one item for every plain AT-S.OK
# The heap (docs/behaviour.md "Memory"): Table 8's free_heap default is the idle module's
# free heap, min_heap's what is left at the low point of a boot (2624 bytes briefly taken).
HEAP_TOTAL = 55200
HEAP_BOOT_LOW = 52576


@dataclass
class Options:
    """Settings from the command line that outlive resets."""

    state_dir: Path
    world: Path | None = None
    net: str = "loopback"  # "loopback" or "any": where the module may send packets
    port_map: dict[int, int] = field(default_factory=dict)  # module port -> host port
    bind_host: str = "127.0.0.1"  # where the module's servers listen on the host
    ext_folder: Path | None = None  # host folder behind volume 0 (external storage)
    straps: dict[int, int] = field(default_factory=dict)  # GPIO -> level held at power-on
    python_watchdog: float = 0.0  # s a MicroPython run may last (0: no limit, as the module)
    python_engine: str = "auto"  # MicroPython: "native" (unix port in bwrap), "wasm", "auto"
    timing: str | None = None  # radio timing profile ("fast", "real"); None: the world's
    # Where this module's console listens on the host: its sockets may not connect there.
    own_endpoints: list[tuple[str, int]] = field(default_factory=list)
    # Lazy state (a fleet's modules): nothing is made on disk until the module stores
    # something; a module whose state folder does not exist boots with no I/O at all.
    lazy_state: bool = False


class Device:
    """The SPWF04 dialect. Services are published here by the parts (spwf04/parts): each
    part names its attribute(s) in ``attr``; the device creates them (None until the part
    starts), so adding a service is one line in ``parts.PARTS``. The ones below are typed."""

    fs: FileSystem | None = None
    radio: Radio | None = None
    world: World | None = None
    net: Net | None = None
    sockets: Sockets | None = None
    tls: TlsService | None = None
    http: HttpClient | None = None
    tftp: Tftp | None = None
    websockets: WebSockets | None = None
    httpd: WebServer | None = None

    def __init__(
        self,
        options: Options,
        write: Callable[[bytes], None] | None = None,
        trace: Any = None,
    ) -> None:
        self.options = options
        self.state_dir = options.state_dir
        lazy = options.lazy_state
        if not lazy:
            private_folder(self.state_dir)
        # Lazy: nothing is made on disk until the module stores something; a module whose
        # state folder does not exist yet boots on factory values with no I/O at all.
        self.flash = Flash(self.state_dir / "flash", lazy=lazy)
        self.config = Config(self.flash)
        # Whether the state folder was absent at this boot's start: parts then skip their
        # loads (no configuration, volumes, certificates, spool to read). Set by prepare().
        self.fresh = False
        self.status = Status()
        self.clock = ModuleClock()
        self.trace = trace
        self.runtime = Runtime(self)
        # The module's heap (docs/behaviour.md "Memory"): free_heap and min_heap are read off it.
        self.heap = Heap(HEAP_TOTAL, HEAP_BOOT_LOW)
        self.heap.on_low = self._low_memory
        gate = self.runtime.gate
        gate.heap = self.heap
        gate.key = _wind_key
        gate.merge = _merge_winds
        # Device.head's cache: command line -> (console_delimiter, its parse).
        self._heads: dict[bytes, tuple[int, Any]] = {}
        if write is not None:
            self.runtime.attach(write)
        # The runtime's entry points, bound once (feed is on every transport callback).
        self.feed = self.runtime.feed
        self.spawn = self.runtime.spawn
        self.request_reboot = self.runtime.request_reboot
        self.booted = self.runtime.booted
        # Where the module's servers listen on the host ("tftp": "udp 127.0.0.1:40123"),
        # filled by the parts that start them; `atwifi serve` prints it, `ctl servers` lists it.
        self.endpoints: dict[str, str] = {}
        # Hooks for parts: called with the reset reason once the configuration is loaded,
        # before +WIND:1 (a serial line sets its rate, a power part its state).
        self.boot_hooks: list[Callable[[int], None]] = []
        self.line: Any = None  # the console line (rate, flow control) when a transport has one
        self._parts = []
        for cls in load_parts():
            names = getattr(cls, "attr", ())
            for name in (names,) if isinstance(names, str) else names:
                if name not in self.__dict__:
                    setattr(self, name, None)  # published by the part when it starts
            self._parts.append(cls(self))
        self.reset_reason = POWER_ON
        self._counters = {"power_cycles": 0, "reset_cycles": 0, "wdog_resets": 0}
        self._provide_live_status()

    # -- wiring and life cycle (the runtime's) -------------------------------------------------
    def attach(
        self,
        write: Callable[[bytes], None],
        drain: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self.runtime.attach(write, drain)

    async def power_on(self) -> None:
        """Boot as after power-up and start the console."""
        await self.runtime.power_on()

    async def shutdown(self) -> None:
        """Power-off: stop the console and every part."""
        await self.runtime.shutdown()
        if self.flash.deferred:
            # A fresh module that stored something elsewhere (a file) since: its counters too.
            await asyncio.to_thread(self._flush_if_stored)

    def _flush_if_stored(self) -> None:
        if self.state_dir.is_dir():
            self.flash.flush_deferred()

    async def reboot(self, reason: int = SOFT_RESET) -> None:
        """AT+S.RESET (or another reset: ``reason`` as reset_reason prints it): volatile
        state gone, saved configuration reloaded."""
        await self.runtime.reboot(_BOOTS.get(reason, Boot.RESET))

    async def _stop_parts(self, keep: tuple[str, ...] = ()) -> None:
        """Cancel the tasks and stop every part but those whose ``attr`` is in ``keep``
        (standby keeps what stays powered)."""
        await self.runtime.halt(keep)

    @property
    def input_gate(self) -> Callable[[bytes], bytes] | None:
        """Sees console input first (a sleeping module drops it): the runtime's."""
        return self.runtime.input_gate

    @input_gate.setter
    def input_gate(self, gate: Callable[[bytes], bytes] | None) -> None:
        self.runtime.input_gate = gate

    async def execute_request(self, request: Request, sink: Sink) -> None:
        """A Request carried out as a console would (WINDs gated, reboot after)."""
        await self.runtime.execute(request, sink)

    # The console's state, for tests and tools that look at it.
    @property
    def decoder(self) -> Any:
        """The UART console's byte decoder (``buffered``, ``unread``, ``reset()``); for a
        framing without one, the framing itself (``buffered``, ``reset()``)."""
        framing = self.runtime.framing
        return getattr(framing, "decoder", framing)

    @property
    def gate(self) -> Any:
        return self.runtime.gate

    @property
    def _console_task(self) -> asyncio.Task[None] | None:
        return self.runtime.console_task

    @property
    def _parked(self) -> bool:
        return self.runtime.parked

    @property
    def _pending(self) -> Any:
        return self.runtime.pending

    def trace_note(self, text: str) -> None:
        if self.trace is not None:
            self.trace.note(text)
        log.debug("%s", text)

    # -- the Dialect protocol: boot ----------------------------------------------------------
    def console_enabled(self) -> str:
        return CONSOLES.get(self.config.get("console_enabled"), "uart")

    async def prepare(self, reason: Boot) -> None:
        if reason is Boot.POWER_ON:
            self.clock.power_on()
        else:
            self.clock.reboot()
        code = _REASONS[reason]
        self.reset_reason = code
        self.status.clear()
        self.heap.boot()
        if self._preloaded == code:
            self._preloaded = None  # the fleet did this boot's flash work in its batch
        elif self._probe():
            self._load_flash(code)  # factory values; no system call
        else:
            # Reads and two fsyncs: not for the event loop (a slow disk would stall every
            # socket). One thread hop for the whole of the boot's disk work.
            await asyncio.to_thread(self._load_boot, code)
        for hook in list(self.boot_hooks):
            hook(code)

    _preloaded: int | None = None

    def _probe(self) -> bool:
        """One stat: a state folder that does not exist yet holds nothing to read. True when
        the module is fresh (the flash then answers reads without a system call)."""
        self.fresh = not self.state_dir.is_dir()
        if self.fresh:
            self.flash.absent = True
        return self.fresh

    def preload(self, reason: int = POWER_ON) -> bool:
        """The flash work of the next boot (reset_reason ``reason``), done now by the caller
        in a thread of its own (a fleet: one thread hop for a batch of modules). The boot
        counters are written without fsync: the caller calls ``syncfs`` once for the batch
        before the boots go on. Returns whether anything was written."""
        fresh = self._probe()
        if fresh:
            self._load_flash(reason)  # factory values; no system call
        else:
            self._load_boot(reason, sync=False)
        self._preloaded = reason
        return not fresh

    def _load_boot(self, code: int, sync: bool = True) -> None:
        """Blocking: every disk read and write of a boot of a module with a state folder
        (configuration, counters, pending firmware, volumes, certificates, spool)."""
        self._load_flash(code, sync)
        firmware.apply_blocking(self)
        for part in self._parts:
            fn = getattr(part, "preload", None)
            if fn is not None:
                fn()

    def _load_flash(self, code: int, sync: bool = True) -> None:
        """The boot's flash work: the configuration, the boot counters (blocking unless the
        state folder is absent). A fresh module's counters wait in RAM for its first write."""
        if not self.fresh:
            private_folder(self.state_dir)  # an existing state folder is made 0700
            self.flash.probe()
        self._config_ok = self.config.load()
        self._count_boot(code, sync)

    async def start(self) -> None:
        self.wind(1, await firmware.boot_loader(self))  # WIND:17 when an update waits
        self.wind(13, self.config.get("nv_model"))
        if not self._config_ok:
            self.wind(65, 1)
            self.trace_note("saved configuration failed its checksum: factory values loaded")
        for part in self._parts:
            await part.start()
        self.wind(0)
        self.runtime.console_active()  # the UART hears the host from here on
        self.wind(32)
        if self.status.get("wifi_state") == 0:
            self.status.set("wifi_state", 3)  # radio idle until a radio part says otherwise
        for part in self._parts:
            await part.after_boot()

    async def stop(self, keep: tuple[str, ...] = ()) -> None:
        for part in reversed(self._parts):
            names = getattr(part, "attr", ())
            if keep and set((names,) if isinstance(names, str) else names) & set(keep):
                continue
            try:
                await part.stop()
            except Exception:
                log.exception("part %s failed to stop", type(part).__name__)

    _config_ok = True
    boot_loader_done: Any = None  # firmware.apply_blocking's result for this boot

    def _count_boot(self, reason: int, sync: bool = True) -> None:
        try:
            blob = self.flash.read("counters")
            counters = json.loads(blob) if blob else {}
        except (CorruptBlob, ValueError):
            counters = {}
        if not isinstance(counters, dict):
            counters = {}
        for key in self._counters:
            value = counters.get(key, 0)
            self._counters[key] = value if isinstance(value, int) else 0
        self._counters["power_cycles" if reason == POWER_ON else "reset_cycles"] += 1
        blob = json.dumps(self._counters).encode()
        if self.fresh:
            # No state folder: kept in RAM, written with the module's first flash write, or
            # at power-off if by then the state folder exists (docs/behaviour.md, "Fleet").
            self.flash.defer("counters", blob)
        else:
            self.flash.write("counters", blob, sync=sync)

    def _provide_live_status(self) -> None:
        st = self.status
        st.provide("system_time", lambda: int(self.clock.now()))
        st.provide("system_uptime", lambda: int(self.clock.uptime()))
        st.provide("reset_reason", lambda: self.reset_reason)
        st.provide("nv_power_cycles", lambda: self._counters["power_cycles"])
        st.provide("nv_reset_cycles", lambda: self._counters["reset_cycles"])
        st.provide("nv_wdog_resets", lambda: self._counters["wdog_resets"])
        st.provide("wifi_own_macaddr", lambda: self.config.text("nv_wifi_macaddr"))
        st.provide("free_heap", self.free_heap)
        st.provide("min_heap", lambda: max(0, self.heap.low))

    def free_heap(self) -> int:
        # The heap ledger: the module's total less what it holds now (held WINDs of a large
        # MQTT message may take more than the heap for a moment: 0 then).
        return max(0, self.heap.free)

    def _low_memory(self) -> None:
        self.trace_note(f"low memory: {self.heap.free} bytes free ({self.heap.held})")
        self.wind(4)

    def random(self) -> int:
        import secrets  # at first use (random imports hashlib and more), not at boot

        value = secrets.randbits(32)
        self.status.set("random_number", value)
        return value

    # -- WINDs -------------------------------------------------------------------------------
    def wind(self, number: int, *fields: object) -> None:
        """Raise +WIND:<number>, silenced per the masks; the runtime holds it while a reply
        is in progress and the framing formats it (console_winds)."""
        cfg = self.config
        if wind_masked(
            number,
            cfg.get("console_wind_off_low"),
            cfg.get("console_wind_off_medium"),
            cfg.get("console_wind_off_high"),
        ):
            return
        definition = WINDS.get(number)
        self.runtime.wind(Wind(number, definition.text if definition else "", fields))

    # -- the Dialect protocol: commands --------------------------------------------------------
    def head(self, line: bytes) -> tuple[Request, int | None]:
        """A command line as a Request (typed arguments in ``parsed``) and its data length."""
        delimiter = self.config._values["console_delimiter"]  # (get() without the call)
        hit = self._heads.get(line)
        if hit is not None and hit[0] == delimiter:
            # A driver streaming data repeats the same line thousands of times.
            parsed = hit[1]
        else:
            try:
                parsed = arguments.parse(line.decode("latin-1"), chr(delimiter))
            except AtError as e:
                return Request(
                    None, line=line, error=e.number, detail=f"error {e.number}: {e.detail}"
                ), None
            except Exception as e:  # a bug in parsing: answer as for a crashed handler
                log.exception("console failed on %r", line[:40])
                return Request(
                    None, line=line, error=INTERNAL, detail=f"console failed inside atwifi: {e!r}"
                ), None
            if len(self._heads) >= HEADS_CACHED:
                self._heads.clear()
            self._heads[line] = (delimiter, parsed)
        return Request(parsed.command, parsed.params, None, line, None, "", parsed), parsed.data_len

    def _error(self, number: int) -> Error:
        return Error(number, ERRORS.get(number, ""))

    def internal_error(self) -> Error:
        return self._error(INTERNAL)

    def _ok(self) -> Ok:
        # The facts only when console_verbose prints them (OK is on every reply).
        if self.config._values["console_verbose"] < 2:
            return _OK
        return Ok(self.free_heap(), self.status.get("wifi_state"))

    async def execute(self, request: Request, sink: Sink) -> None:
        rest = self.execute_now(request, sink)
        if rest is not None:
            await rest

    def execute_now(self, request: Request, sink: Sink) -> Coroutine[Any, Any, None] | None:
        """Carry the command out as far as it goes without waiting: None when it is done
        (its reply sent to ``sink``), else a coroutine that finishes it. A plain ``def``
        handler (SOCKW, SOCKR...) runs with no coroutine at all; it may return an awaitable
        when it has to wait after all (a full send buffer), which the coroutine awaits."""
        if request.error is not None:
            if request.detail:
                self.trace_note(request.detail)
            sink.send(self._error(request.error))
            return None
        parsed = request.parsed
        if parsed is None:
            parsed = arguments.parse_params(request.command, request.params)  # type: ignore[arg-type]
            request.parsed = parsed
        cmd = parsed.command  # type: ignore[attr-defined]
        if parsed.error is not None:  # type: ignore[attr-defined]
            err = parsed.error  # type: ignore[attr-defined]
            self.trace_note(f"error {err.number}: {err.detail}")
            sink.send(self._error(err.number))
            return None
        handler = _HANDLERS.get(cmd.name) or lookup(cmd.name)  # (lookup() loads them once)
        if handler is None:
            self.trace_note(f"{cmd.at} is in the table but not built yet")
            sink.send(Error(1, NOT_BUILT))
            return None
        ctx = Context(self, cmd, sink)
        args = parsed.args  # type: ignore[attr-defined]
        if handler in SYNC_HANDLERS:
            rest = self._plain(
                cmd, sink, handler, ctx, args, _NO_DATA if cmd.data is None else request.data
            )
            if rest is None:
                self._oks(sink, 1)
            elif rest is not _FAILED:
                return self._finish(cmd, sink, rest, handler, ctx, args, request.repeats)
            if request.repeats:
                return self._repeat(cmd, sink, handler, ctx, args, request.repeats)
            return None
        if cmd.data is not None:
            args = dict(args, data=request.data)
        return self._finish(cmd, sink, None, handler, ctx, args)

    def repeatable(self, request: Request) -> bool:
        """Whether identical lines after this one may ride in ``request.repeats``: commands
        with ``{data}`` whose handler is a plain ``def`` (SOCKW, SOCKDW)."""
        parsed = request.parsed
        if parsed is None or parsed.error is not None:  # type: ignore[attr-defined]
            return False
        cmd = parsed.command  # type: ignore[attr-defined]
        handler = _HANDLERS.get(cmd.name) or lookup(cmd.name)
        return cmd.data is not None and handler in SYNC_HANDLERS

    def _repeat(
        self,
        cmd: Any,
        sink: Sink,
        handler: Any,
        ctx: Context,
        args: dict[str, Any],
        blocks: list[bytes],
    ) -> Coroutine[Any, Any, None] | None:
        """The repeated commands of a Request, each with its own reply, as if each had come
        on its own (same handler, same arguments, its own data); a coroutine for what is
        left once one of them has to wait. The handler's burst form, if it has one, takes
        them in one call; a block it leaves goes through the handler."""
        fast = BURSTS.get(handler)
        i, n = 0, len(blocks)
        while i < n:
            if fast is not None:
                todo = blocks[i:] if i else blocks
                done, rest = fast(ctx, todo, **args)
                self._oks(sink, done - (rest is not None))
                if rest is not None:
                    return self._finish(cmd, sink, rest, handler, ctx, args, todo[done:])
                i += done
                if i == n:
                    break
            rest = self._plain(cmd, sink, handler, ctx, args, blocks[i])
            i += 1
            if rest is None:
                self._oks(sink, 1)
            elif rest is not _FAILED:
                return self._finish(cmd, sink, rest, handler, ctx, args, blocks[i:])
        return None

    def _plain(
        self, cmd: Any, sink: Sink, handler: Any, ctx: Context, args: dict[str, Any], data: Any
    ) -> Any:
        """One call of a plain handler (``data``: its {data}, or _NO_DATA): what it left to
        wait for, None when it is done, or _FAILED once its failure is answered (worded as
        execute words it)."""
        try:
            try:
                if data is _NO_DATA:
                    return handler(ctx, **args)
                return handler(ctx, data=data, **args)
            except ServiceError as e:
                raise word(e) from e
        except Exception as e:  # noqa: BLE001
            self._failed(cmd, e, sink)
            return _FAILED

    def _oks(self, sink: Sink, n: int) -> None:
        send = sink.send
        if self.config._values["console_verbose"] < 2:
            for _ in range(n):
                send(_OK)
        else:
            for _ in range(n):
                send(self._ok())

    async def _finish(
        self,
        cmd: Any,
        sink: Sink,
        step: Awaitable[None] | None,
        handler: Any = None,
        ctx: Context | None = None,
        args: dict[str, Any] | None = None,
        repeats: list[bytes] | None = None,
    ) -> None:
        """The rest of a command: ``step`` (what a plain handler returned), or the whole
        of an ``async def`` handler; then its ``repeats``, if any."""
        try:
            try:
                if step is None:
                    step = handler(ctx, **args)  # type: ignore[arg-type]
                await step  # type: ignore[misc]
            except ServiceError as e:
                raise word(e) from e
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            self._failed(cmd, e, sink)
        else:
            sink.send(self._ok())
        if repeats:
            rest = self._repeat(cmd, sink, handler, ctx, args, repeats)  # type: ignore[arg-type]
            if rest is not None:
                await rest

    def _failed(self, cmd: Any, e: Exception, sink: Sink) -> None:
        """A handler's failure as the module answers it."""
        if isinstance(e, AtError):
            if e.detail:
                self.trace_note(f"{cmd.at}: error {e.number}: {e.detail}")
            sink.send(self._error(e.number))
        elif isinstance(e, AtResultLine):
            if e.detail:
                self.trace_note(f"{cmd.at}: {e.line}: {e.detail}")
            sink.send(ResultLine(e.line.removeprefix("AT-S.")))
        else:
            log.error("handler of %s failed", cmd.at, exc_info=e)
            self.trace_note(f"{cmd.at} failed inside atwifi: {e!r}")
            sink.send(self._error(INTERNAL))


def _wind_key(wind: Wind) -> tuple[object, ...] | None:
    """WINDs held together that merge: one socket's pending data (55), its drops (63)."""
    n, f = wind.number, wind.fields
    if ((n == 55 and len(f) == 4) or (n == 63 and len(f) == 3)) and isinstance(f[2], int):
        return (n, f[0], f[1])
    return None


def _merge_winds(old: Wind, new: Wind) -> Wind:
    """55: bytes received since the last one add up, the unread total is the latest;
    63: the dropped bytes add up."""
    if new.number == 55:
        sid, cid, received, unread = new.fields
        return Wind(55, new.text, (sid, cid, int(old.fields[2]) + int(received), unread))  # type: ignore[call-overload]
    sid, cid, dropped = new.fields
    return Wind(63, new.text, (sid, cid, int(old.fields[2]) + int(dropped)))  # type: ignore[call-overload]


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "atwifi" / "default"
