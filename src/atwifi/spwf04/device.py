"""The virtual SPWF04SA: power-on, the console loop, command dispatch, WINDs, resets.

One command runs at a time, as on the module: the console reads the next line only when the
previous reply is complete. WINDs raised meanwhile are held by the OutputGate and follow the
reply. Services are reached through parts (spwf04/parts), which the device starts at every
boot and stops at every reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atwifi.codec import (
    CRLF,
    CommandLine,
    ConsoleDecoder,
    DataBlock,
    LineTooLong,
    OutputGate,
    format_error,
    format_ok,
    format_wind,
    wind_masked,
)
from atwifi.errors import AtError, AtResultLine
from atwifi.services.errors import ServiceError
from atwifi.services.flash import CorruptBlob, Flash
from atwifi.spwf04 import args as arguments
from atwifi.spwf04 import firmware
from atwifi.spwf04.clock import ModuleClock
from atwifi.spwf04.commands import lookup
from atwifi.spwf04.config import Config
from atwifi.spwf04.context import Context
from atwifi.spwf04.parts import load_parts
from atwifi.spwf04.status import Status
from atwifi.spwf04.table.errors import ERRORS
from atwifi.spwf04.table.winds import WINDS
from atwifi.spwf04.wording import word
from atwifi.statedir import private_folder

log = logging.getLogger("atwifi")

BUILD = "171117-0328fe3-SPWF04S"
NOT_BUILT = "Command not implemented in atwifi"
LINE_TOO_LONG = 32  # "Argument exceeds allowed size": the reply to a line over 512 bytes
INTERNAL = 111  # "Request failed": a handler crashed (a bug in atwifi), the module goes on

POWER_ON, SOFT_RESET = 0, 2  # reset_reason values of Table 8


@dataclass
class Options:
    """Settings from the command line that outlive resets."""

    state_dir: Path
    world: Path | None = None
    net: str = "loopback"  # "loopback" or "any": where the module may send packets
    port_map: dict[int, int] = field(default_factory=dict)  # module port -> host port
    bind_host: str = "127.0.0.1"  # where the module's servers listen on the host
    ext_folder: Path | None = None  # host folder behind volume 0 (external storage)
    timing: str | None = None  # radio timing profile ("fast", "real"); None: the world's
    # Where this module's console listens on the host: its sockets may not connect there.
    own_endpoints: list[tuple[str, int]] = field(default_factory=list)


class Device:
    def __init__(
        self,
        options: Options,
        write: Callable[[bytes], None] | None = None,
        trace: Any = None,
    ) -> None:
        self.options = options
        self.state_dir = options.state_dir
        private_folder(self.state_dir)
        self.flash = Flash(self.state_dir / "flash")
        self.config = Config(self.flash)
        self.status = Status()
        self.clock = ModuleClock()
        self.trace = trace
        self._write = write or (lambda data: None)
        self._drain: Callable[[], Coroutine[Any, Any, None]] | None = None
        self.decoder = ConsoleDecoder()
        self.gate = OutputGate()
        # Services, published by the parts.
        self.fs: Any = None
        self.radio: Any = None
        self.net: Any = None
        self.sockets: Any = None
        self.tls: Any = None
        self.http: Any = None
        self.world: Any = None
        self.tftp: Any = None  # parts/tftp.py: client timing and the module's TFTP server
        # Where the module's servers listen on the host ("tftp": "udp 127.0.0.1:40123"),
        # filled by the parts that start them; `atwifi serve` prints it, `ctl servers` lists it.
        self.endpoints: dict[str, str] = {}
        self._parts = [cls(self) for cls in load_parts()]
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wakeup = asyncio.Event()
        self._console_task: asyncio.Task[None] | None = None
        # The console task waits for input with nothing else to do (see feed()).
        self._parked = False
        # A console step begun in feed() that had to wait: the console task finishes it.
        self._pending: Awaitable[None] | None = None
        self._reboot_requested = False
        self._batch: bytearray | None = None
        self.reset_reason = POWER_ON
        self.booted = asyncio.Event()
        self._counters = {"power_cycles": 0, "reset_cycles": 0, "wdog_resets": 0}
        self._provide_live_status()

    # -- wiring -------------------------------------------------------------------------
    def attach(
        self,
        write: Callable[[bytes], None],
        drain: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self._write = write
        self._drain = drain

    def feed(self, data: bytes) -> None:
        """Bytes from the host. Never blocks.

        When the console is idle, the commands are run right here, inside the transport's
        callback, until one has to wait: most replies then go out without a trip through the
        event loop (a task wake-up costs as much as the command; see benchmarks/roundtrip.py).
        """
        self.decoder.feed(data)
        if self._parked and self._pending is None and self._run_eagerly():
            return  # all handled; the console task stays parked
        self._wakeup.set()

    def _emit(self, data: bytes) -> None:
        """Console output. During an eager batch it is gathered and leaves in one write when
        the batch ends, as a UART driver's DMA buffer sends a burst: one syscall, not one
        per reply, when a host pipelines commands."""
        batch = self._batch
        if batch is not None:
            batch += data
        else:
            self._write(data)

    def _end_batch(self) -> None:
        batch, self._batch = self._batch, None
        if batch:
            self._write(bytes(batch))

    def _run_eagerly(self) -> bool:
        self._batch = bytearray()
        try:
            return self._run_eagerly_batched()
        finally:
            self._end_batch()

    def _run_eagerly_batched(self) -> bool:
        """Run console steps now, as the console task would, until one has to wait (it is
        handed to the console task) or no complete input is left (returns True)."""
        task = self._console_task
        if task is None:
            return False
        try:
            if asyncio.current_task() is not None:
                return False  # fed from a task (in-process tests): the console task does it
        except RuntimeError:
            return False  # no running loop
        loop = task.get_loop()
        while (event := self.decoder.next_event()) is not None:
            step = self._handle(event)
            # Inside the step, current_task() is the console task, as in the normal path:
            # asyncio.timeout() and friends in handlers work, and the step can be continued
            # by that very task.
            _enter_task(loop, task)
            try:
                waiting_on = step.send(None)
            except StopIteration:
                continue
            except BaseException as exc:  # the console task would have died of it: so it does
                self._pending = _reraise(exc)
                return False
            finally:
                _leave_task(loop, task)
            self._pending = _Continue(step, waiting_on)
            return False
        return True

    def trace_note(self, text: str) -> None:
        if self.trace is not None:
            self.trace.note(text)
        log.debug("%s", text)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """A task that lives until the next reset or power-off."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("background task %s failed", task.get_name(), exc_info=exc)
            self.trace_note(f"background task {task.get_name()} failed: {exc!r}")

    # -- life cycle ---------------------------------------------------------------------
    async def power_on(self) -> None:
        """Boot as after power-up and start the console."""
        self.clock.power_on()
        await self._boot(POWER_ON)
        if self._console_task is None:
            self._console_task = asyncio.get_running_loop().create_task(
                self._console(), name="console"
            )

    async def shutdown(self) -> None:
        """Power-off: stop the console and every part."""
        if self._console_task is not None:
            self._console_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._console_task
            self._console_task = None
        pending, self._pending = self._pending, None
        if isinstance(pending, (_Continue, Coroutine)):
            pending.close()  # a step begun in feed() that the console task never took over
        await self._stop_parts()

    async def reboot(self) -> None:
        """AT+S.RESET: volatile state gone, saved configuration reloaded."""
        await self._stop_parts()
        self.decoder.reset()
        self.gate.clear()
        self.clock.reboot()
        await self._boot(SOFT_RESET)

    async def _stop_parts(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        for part in reversed(self._parts):
            try:
                await part.stop()
            except Exception:
                log.exception("part %s failed to stop", type(part).__name__)

    async def _boot(self, reason: int) -> None:
        self.booted.clear()
        self.reset_reason = reason
        self.status.clear()
        config_ok = self.config.load()
        # Two fsyncs: not for the event loop (a slow disk would stall every socket).
        await asyncio.to_thread(self._count_boot, reason)
        self.wind(1, await firmware.boot_loader(self))  # WIND:17 when an update waits
        self.wind(13, self.config.get("nv_model"))
        if not config_ok:
            self.wind(65, 1)
            self.trace_note("saved configuration failed its checksum: factory values loaded")
        for part in self._parts:
            await part.start()
        self.wind(0)
        self.wind(32)
        if self.status.get("wifi_state") == 0:
            self.status.set("wifi_state", 3)  # radio idle until a radio part says otherwise
        for part in self._parts:
            await part.after_boot()
        self.booted.set()

    def _count_boot(self, reason: int) -> None:
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
        self.flash.write("counters", json.dumps(self._counters).encode())

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

    def free_heap(self) -> int:
        # Plausible, and it moves the way the module's does: every open task costs memory.
        return 55200 - 512 * len(self._tasks)

    def random(self) -> int:
        value = secrets.randbits(32)
        self.status.set("random_number", value)
        return value

    # -- output ---------------------------------------------------------------------------
    def wind(self, number: int, *fields: object) -> None:
        """Raise +WIND:<number>; formatted per console_winds, silenced per the masks, held
        while a reply is in progress."""
        cfg = self.config
        if wind_masked(
            number,
            cfg.get("console_wind_off_low"),
            cfg.get("console_wind_off_medium"),
            cfg.get("console_wind_off_high"),
        ):
            return
        definition = WINDS.get(number)
        text = definition.text if definition else ""
        line = format_wind(cfg.get("console_winds"), number, text, fields)
        out = self.gate.wind(line)
        if out:
            self._emit(out)

    def _error(self, number: int) -> bytes:
        return format_error(self.config.get("console_errs"), number, ERRORS.get(number, ""))

    def _ok(self) -> bytes:
        verbose = self.config.get("console_verbose")
        if verbose < 2:
            return b"AT-S.OK\r\n"
        return format_ok(verbose, self.free_heap(), self.status.get("wifi_state"))

    async def flush_reply(self, out: bytearray) -> None:
        self._end_batch()
        if out:
            self._emit(bytes(out))
            out.clear()
        if self._drain is not None:
            await self._drain()

    # -- the console ----------------------------------------------------------------------
    async def _next_event(self) -> Any:
        while True:
            event = self.decoder.next_event()
            if event is not None:
                return event
            self._wakeup.clear()
            await self._wakeup.wait()

    async def _console(self) -> None:
        while True:
            pending = self._pending
            if pending is not None:
                self._pending = None
                await pending  # a step feed() began and could not finish
                continue
            event = self.decoder.next_event()
            if event is None:
                self._wakeup.clear()
                self._parked = True
                try:
                    await self._wakeup.wait()
                finally:
                    self._parked = False
                continue
            await self._handle(event)

    async def _handle(self, event: Any) -> None:
        """One console step: a command (with its data) or a dropped line, then any reboot."""
        if isinstance(event, CommandLine):
            await self._command(event.text)
        elif isinstance(event, LineTooLong):
            self.trace_note(f"line of {event.length} bytes dropped: over 512")
            self._emit(self._error(LINE_TOO_LONG))
        elif isinstance(event, DataBlock):  # cannot happen: blocks follow their command
            self.trace_note(f"stray data block of {len(event.data)} bytes")
        if self._reboot_requested:
            self._reboot_requested = False
            await self.reboot()

    def request_reboot(self) -> None:
        """Reboot once the current reply is out (AT+S.RESET answers before it reboots)."""
        self._reboot_requested = True

    async def _command(self, line: bytes) -> None:
        gate = self.gate
        gate.begin()
        # The echo goes out with the reply in one write; _dispatch sends it on its own first
        # when it has to wait for a {data} block, so the host sees it before sending data.
        out = bytearray(line + CRLF) if self.config.get("console_echo") else bytearray()
        try:
            await self._dispatch(line.decode("latin-1"), out)
        except Exception as e:
            # A bug outside the handlers (parsing, configuration) must not end the console
            # task: the module would go silent for good. Answer as for a crashed handler.
            log.exception("console failed on %r", line[:40])
            self.trace_note(f"console failed inside atwifi: {e!r}")
            out += self._error(INTERNAL)
        finally:
            self._emit(bytes(out))
            held = gate.end()
            if held:
                self._emit(held)

    async def _dispatch(self, text: str, out: bytearray) -> None:
        delimiter = chr(self.config.get("console_delimiter"))
        try:
            parsed = arguments.parse(text, delimiter)
        except AtError as e:
            self.trace_note(f"error {e.number}: {e.detail}")
            out += self._error(e.number)
            return
        data: bytes | None = None
        if parsed.data_len is not None:
            self.decoder.expect_data(parsed.data_len)
            block = self.decoder.next_event()
            if block is None:  # the data is still on its way: let the echo out first
                if out:
                    self._emit(bytes(out))
                    out.clear()
                block = await self._next_event()
            data = block.data
        if parsed.error is not None:
            self.trace_note(f"error {parsed.error.number}: {parsed.error.detail}")
            out += self._error(parsed.error.number)
            return
        cmd = parsed.command
        handler = lookup(cmd.name)
        if handler is None:
            self.trace_note(f"{cmd.at} is in the table but not built yet")
            out += format_error(self.config.get("console_errs"), 1, NOT_BUILT)
            return
        kwargs = dict(parsed.args)
        if cmd.data is not None:
            kwargs["data"] = data
        ctx = Context(self, cmd, out)
        try:
            try:
                await handler(ctx, **kwargs)
            except ServiceError as e:
                raise word(e) from e
        except AtError as e:
            if e.detail:
                self.trace_note(f"{cmd.at}: error {e.number}: {e.detail}")
            out += self._error(e.number)
        except AtResultLine as e:
            if e.detail:
                self.trace_note(f"{cmd.at}: {e.line}: {e.detail}")
            out += e.line.encode("latin-1") + CRLF
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.exception("handler of %s failed", cmd.at)
            self.trace_note(f"{cmd.at} failed inside atwifi: {e!r}")
            out += self._error(INTERNAL)
        else:
            out += self._ok()


class _Continue:
    """Continues, inside the console task, a coroutine that feed() began and that stopped at
    ``waiting_on`` (what it yielded: a future, or None for a bare yield). The task sees exactly
    what it would have seen had it run the coroutine from the start."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coro = coro
        self._first = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        coro, value = self._coro, self._first
        self._first = None
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation and throw() go on to the coroutine
                try:
                    value = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = coro.send(sent)
                except StopIteration:
                    return

    def close(self) -> None:
        self._coro.close()


async def _reraise(exc: BaseException) -> None:
    raise exc


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "atwifi" / "default"
