"""The runtime: one console, one command at a time, WINDs gated, tasks, the power life cycle.

It owns what every dialect's module has in common and knows no dialect: the console loop,
eager execution, the output gate, spawned tasks, and power-on / reset (with hooks for sleep
and standby). The dialect (``Dialect`` in ``atwifi.runtime``) carries commands out and says
what boots print; the active framing (``atwifi.framings``) turns bytes into Requests and
items into bytes.

Eager execution: bytes fed from a transport's callback, while the console is idle, are run
right there, inside the callback, until a command has to wait: most replies then go out
without a trip through the event loop (a task wake-up costs as much as the command; see
benchmarks/roundtrip.py), and the output of the whole burst leaves in one write. A command
that must wait (network, thread) is continued by the console task, which sees exactly what it
would have seen had it run the command from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from atwifi.framings import DEFAULT, FRAMINGS, make_framing
from atwifi.runtime import Dialect, Framing
from atwifi.runtime.gate import OutputGate
from atwifi.runtime.items import Item, Request, Sink, Wind

log = logging.getLogger("atwifi")

# Host bytes kept waiting while a command runs before the transport stops reading the host.
INPUT_HIGH = 64 * 1024


class Boot(enum.Enum):
    """Why the module boots (a dialect maps these to its reset reasons)."""

    POWER_ON = "power-on"
    RESET = "reset"  # a soft reset (AT+S.RESET)
    WAKE = "wake"  # out of standby: a boot that keeps what standby keeps
    WATCHDOG = "watchdog"
    HW_RESET = "hw-reset"  # the reset line


class PowerState(enum.Enum):
    OFF = "off"
    BOOTING = "booting"
    ON = "on"
    SLEEP = "sleep"  # hook: filled by the power-management work
    STANDBY = "standby"  # hook: filled by the power-management work


class _ConsoleSink:
    """The console as a Sink: items go straight into the framing's output buffer."""

    __slots__ = ("send", "flush")

    def __init__(self, send: Callable[[Item], None], flush: Callable[[], Awaitable[None]]):
        self.send = send
        self.flush = flush


class Runtime:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.gate = OutputGate()
        self.framing: Framing | None = None  # chosen at boot (console_enabled)
        self.framing_name: str | None = None
        self.sink: Sink | None = None  # the console's sink, for the active framing
        self.tasks: set[asyncio.Task[Any]] = set()
        self.power_state = PowerState.OFF
        self.booted = asyncio.Event()
        self._write: Callable[[bytes], None] = lambda data: None
        self._drain: Callable[[], Coroutine[Any, Any, None]] | None = None
        # A UART hears nothing until the firmware has set it up: from a reset or power-on
        # until the dialect says its console is active (the SPWF04's +WIND:0), host bytes
        # are dropped, every time, whatever their timing.
        self.listening = False
        self._deaf_bytes = 0
        self._wakeup = asyncio.Event()
        self.console_task: asyncio.Task[None] | None = None
        # The console task waits for input with nothing else to do (see feed()).
        self.parked = False
        # A console step begun in feed() that had to wait: the console task finishes it.
        self.pending: Awaitable[None] | None = None
        self._reboot_requested = False
        self._batching = False
        # The console's host takes no output now (its queue is over the high-water mark):
        # WINDs wait in the gate, bounded there, until it does (output_blocked).
        self.blocked = False
        # Stops (True) and resumes (False) the reading of the console's host: the transport's.
        self.input_control: Callable[[bool], None] | None = None
        self._held_in = False
        # Sees host bytes first and returns what the console gets (a sleeping module
        # drops input): a hook for the power work.
        self.input_gate: Callable[[bytes], bytes] | None = None

    # -- wiring ---------------------------------------------------------------------------------
    def attach(
        self,
        write: Callable[[bytes], None],
        drain: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        """The transport: ``write`` never blocks; ``drain`` waits while the host is slow."""
        self._write = write
        self._drain = drain

    def feed(self, data: bytes) -> None:
        """Bytes from the host. Never blocks; runs complete commands eagerly when it can."""
        gate = self.input_gate
        if gate is not None:
            data = gate(data)
            if not data:
                return
        framing = self.framing
        if not self.listening or framing is None:
            self._deaf_bytes += len(data)
            return
        framing.feed(data)
        if self.parked and self.pending is None and self._run_eagerly():
            return  # all handled; the console task stays parked
        self._wakeup.set()
        # A command is running: what the host sends meanwhile waits in the framing. Past
        # INPUT_HIGH the transport stops reading it (the host's writes block), until the
        # console has taken what it has.
        if framing.buffered > INPUT_HIGH and self.input_control is not None and not self._held_in:
            self._held_in = True
            self.input_control(True)
            self.dialect.trace_note(
                f"console busy with {framing.buffered} bytes of input waiting: host not read"
            )

    def _push(self) -> None:
        """Hand the framing's output to the transport, unless an eager batch gathers it (one
        write per burst, as a UART driver's DMA buffer sends it)."""
        framing = self.framing
        if framing is not None and not self._batching:
            out = framing.out
            if out:
                data = bytes(out)
                out.clear()
                self._write(data)

    async def flush(self) -> None:
        """The console sink's flush: what is buffered goes out now; waits for room."""
        self._batching = False  # a long output ends the eager batch
        self._push()
        if self._drain is not None:
            await self._drain()

    # -- commands ---------------------------------------------------------------------------
    async def execute(self, request: Request, sink: Sink) -> None:
        """Carry out one Request; its reply items go to ``sink`` as they come (a long output
        streams through ``sink.flush()``). WINDs raised meanwhile are held and follow it on
        the console. The entry point of every console and script."""
        await self._execute(request, sink, None)

    async def _execute(self, request: Request, sink: Sink, rest: Awaitable[None] | None) -> None:
        """``execute``; ``rest``: what the dialect's ``execute_now`` left to finish (the gate
        is then already closed)."""
        self.gate.busy = True  # gate.begin(), without the call (this is the hot path)
        try:
            if rest is None:
                await self.dialect.execute(request, sink)
            else:
                await rest
        except Exception as e:
            self._crashed(request, sink, e)
        finally:
            self._end_reply()
        if self._reboot_requested:
            await self._reboot_now()

    def _crashed(self, request: Request, sink: Sink, e: Exception) -> None:
        # A bug outside the handlers must not end the console task: the module would go
        # silent for good. Answer as for a crashed handler.
        log.error("console failed on %r", request.line[:40], exc_info=e)
        self.dialect.trace_note(f"console failed inside atwifi: {e!r}")
        sink.send(self.dialect.internal_error())

    def _end_reply(self) -> None:
        """The reply is complete: the WINDs held meanwhile follow it (unless the host takes
        no output: they wait, bounded, until it does)."""
        gate = self.gate
        gate.busy = False
        if gate.held and not self.blocked:
            self._release_winds()
        if not self._batching:
            self._push()

    def _release_winds(self) -> None:
        """The WINDs the gate held go out (what it merged or dropped meanwhile noted first)."""
        gate = self.gate
        if gate.dropped or gate.merged:
            self._note_gate()
        held = gate.end()
        framing = self.framing
        if framing is not None:
            for wind in held:
                framing.send(wind)

    async def _reboot_now(self) -> None:
        self._reboot_requested = False
        await self.reboot()

    def _note_gate(self) -> None:
        """What the gate merged or dropped to stay bounded while this reply was in progress."""
        gate = self.gate
        parts = []
        if gate.merged:
            parts.append(f"{gate.merged} merged into held ones")
        if gate.dropped:
            kinds = ", ".join(f"{n} x{c}" for n, c in sorted(gate.dropped.items()))
            parts.append(f"{sum(gate.dropped.values())} oldest dropped over the cap ({kinds})")
        self.dialect.trace_note(f"held WINDs bounded ({gate.limit} bytes): " + "; ".join(parts))
        gate.dropped.clear()
        gate.merged = 0

    def _release_input(self) -> None:
        self._held_in = False
        if self.input_control is not None:
            self.input_control(False)

    def output_blocked(self, blocked: bool) -> None:
        """The transport's word: its host stopped taking output (True), or takes it again.
        Meanwhile WINDs are held (merged and capped as during a reply), not queued without
        bound towards a host that does not read; replies need no such care, as the host's
        input is not read meanwhile."""
        self.blocked = blocked
        gate = self.gate
        if blocked or gate.busy or not gate.held:
            return
        self._release_winds()
        self._push()

    def request_reboot(self) -> None:
        """Reboot once the current reply is out (a reset command answers before it reboots)."""
        self._reboot_requested = True

    def wind(self, wind: Wind) -> None:
        """An asynchronous indication: held while a reply is in progress, else sent now."""
        gate = self.gate
        if gate.busy or self.blocked:
            gate.keep(wind)
            return
        framing = self.framing
        if framing is None:
            return  # no console yet (before the first boot): nobody could hear it
        framing.send(wind)
        self._push()

    # -- tasks ------------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """A task that lives until the next reset or power-off."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("background task %s failed", task.get_name(), exc_info=exc)
            self.dialect.trace_note(f"background task {task.get_name()} failed: {exc!r}")

    # -- power ------------------------------------------------------------------------------
    async def power_on(self) -> None:
        """Boot as after power-up and start the console."""
        await self._boot(Boot.POWER_ON)
        if self.console_task is None:
            self.console_task = asyncio.get_running_loop().create_task(
                self._console(), name="console"
            )

    async def reboot(self, reason: Boot = Boot.RESET) -> None:
        """A reset: every task and service stopped, input forgotten, boot again."""
        await self.halt()
        if self.framing is not None:
            self.framing.reset()
        self.gate.clear()
        if self._held_in:
            self._release_input()
        await self._boot(reason)

    async def shutdown(self) -> None:
        """Power-off: stop the console and every service."""
        if self.console_task is not None:
            self.console_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.console_task
            self.console_task = None
        pending, self.pending = self.pending, None
        if isinstance(pending, (_Continue, Coroutine)):
            pending.close()  # a step begun in feed() that the console task never took over
        await self.halt()
        self.power_state = PowerState.OFF

    async def sleep(self) -> None:
        """Hook for the power-management work: enter sleep (the console and services stay;
        a dialect decides what wakes the module). Today it only records the state."""
        self.power_state = PowerState.SLEEP

    async def standby(self, keep: tuple[str, ...] = ()) -> None:
        """Hook for the power-management work: enter standby (services stopped but those
        named in ``keep``, the console deaf until ``wake()``). Today: services stopped and
        the state recorded."""
        await self.halt(keep)
        self.power_state = PowerState.STANDBY

    async def wake(self) -> None:
        """Hook: out of sleep (back on) or out of standby (a boot with reason WAKE)."""
        if self.power_state is PowerState.STANDBY:
            if self.framing is not None:
                self.framing.reset()
            self.gate.clear()
            await self._boot(Boot.WAKE)
        elif self.power_state is PowerState.SLEEP:
            self.power_state = PowerState.ON

    async def halt(self, keep: tuple[str, ...] = ()) -> None:
        """Every spawned task cancelled, every service stopped (but those in ``keep``)."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        if keep:
            await self.dialect.stop(keep)  # type: ignore[call-arg]
        else:
            await self.dialect.stop()

    async def _boot(self, reason: Boot) -> None:
        self.power_state = PowerState.BOOTING
        self.listening = False
        self.booted.clear()
        await self.dialect.prepare(reason)
        self._select_framing()
        await self.dialect.start()
        self.console_active()  # a dialect that never said so: at the end of its boot
        self.power_state = PowerState.ON
        self.booted.set()

    def new_host(self, console: str = "uart") -> None:
        """Another host took ``console``: it starts clean (a partial line or the {data} a
        command of the old host still waited for would otherwise become the new host's)."""
        framing = self.framing
        if framing is None or self.framing_name != console:
            return
        framing.reset()
        self.dialect.trace_note("new host: the console's partial input forgotten")
        if self._held_in:
            self._release_input()

    def console_active(self) -> None:
        """The dialect's console now hears the host (the SPWF04 calls it as it prints
        +WIND:0); what came before, since the reset, was dropped."""
        if self.listening:
            return
        self.listening = True
        if self._deaf_bytes:
            n, self._deaf_bytes = self._deaf_bytes, 0
            self.dialect.trace_note(f"{n} bytes dropped: the console was not active yet (boot)")

    def _select_framing(self) -> None:
        """At every boot: the framing the dialect's console_enabled() names."""
        name = self.dialect.console_enabled()
        if name not in FRAMINGS:
            self.dialect.trace_note(f"console {name!r} is not built in atwifi: using {DEFAULT}")
            name = DEFAULT
        if name == self.framing_name and self.framing is not None:
            return
        if self.framing is not None:
            self._push()  # what the old console still had to say
        self.blocked = False  # the other console's host, if it took no output, is not this one's
        framing = make_framing(name, self.dialect)
        self.framing, self.framing_name = framing, name
        self.sink = _ConsoleSink(framing.send, self.flush)

    # -- the console ------------------------------------------------------------------------
    async def _console(self) -> None:
        while True:
            pending = self.pending
            if pending is not None:
                self.pending = None
                await pending  # a step feed() began and could not finish
                continue
            framing = self.framing
            request = framing.next_request() if framing is not None else None
            if request is None:
                if framing is not None and framing.awaiting_data:
                    self.gate.begin()  # the command's data is on its way: hold WINDs
                self._push()  # e.g. the echo, which the host waits for before its data
                if self._held_in:
                    self._release_input()
                self._wakeup.clear()
                self.parked = True
                try:
                    await self._wakeup.wait()
                finally:
                    self.parked = False
                continue
            await self.execute(request, self.sink)  # type: ignore[arg-type]

    def _run_eagerly(self) -> bool:
        self._batching = True
        try:
            return self._run_eagerly_batched()
        finally:
            self._batching = False
            self._push()

    def _run_eagerly_batched(self) -> bool:
        """Run console steps now, as the console task would, until one has to wait (it is
        handed to the console task) or no complete input is left (returns True).

        A dialect with ``execute_now`` (the SPWF04's) carries a command out without any
        coroutine when its handler does not wait (SOCKW, SOCKR: the bulk data's hot path);
        only what is left to wait for becomes a step."""
        task = self.console_task
        if task is None:
            return False
        loop = task.get_loop()
        # (current_task(loop), not current_task(): asking for the running loop costs a
        # getpid() system call per burst on Python 3.11.)
        if not loop.is_running() or asyncio.current_task(loop) is not None:
            return False  # no loop, or fed from a task (in-process tests): the console task does it
        now = getattr(self.dialect, "execute_now", None)
        gate = self.gate
        # Inside the steps, current_task() is the console task, as in the normal path:
        # asyncio.timeout() and friends in handlers work, and a step can be continued by
        # that very task. Entered once for the whole burst.
        _enter_task(loop, task)
        try:
            while True:
                framing = self.framing  # a reset inside a step may have chosen another
                assert framing is not None
                request = framing.next_request()
                if request is None:
                    if framing.awaiting_data:
                        gate.begin()  # the command's data is on its way: hold WINDs
                    return True
                sink = self.sink
                if now is None:
                    step = self._execute(request, sink, None)  # type: ignore[arg-type]
                else:
                    gate.busy = True
                    try:
                        rest = now(request, sink)
                    except Exception as e:
                        self._crashed(request, sink, e)  # type: ignore[arg-type]
                        rest = None
                    if rest is not None:
                        step = self._execute(request, sink, rest)  # type: ignore[arg-type]
                    else:
                        if gate.held or not self._batching:
                            self._end_reply()
                        else:
                            gate.busy = False  # _end_reply() inline: nothing held, batching
                        if not self._reboot_requested:
                            continue  # done without a coroutine
                        step = self._reboot_now()
                try:
                    waiting_on = step.send(None)
                except StopIteration:
                    continue
                except BaseException as exc:  # the console task would have died of it: so it does
                    self.pending = _reraise(exc)
                    return False
                self.pending = _Continue(step, waiting_on)
                return False
        finally:
            _leave_task(loop, task)


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
