"""The runtime alone, driven by a toy dialect: it knows no SPWF04, and a console is one
framing registration. Bytes in, bytes out, as a host sees them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from atwifi import framings
from atwifi.runtime import Boot, PowerState, Runtime
from atwifi.runtime.items import Error, Info, ListSink, Ok, Raw, Request, ResultLine, Sink, Wind


@dataclass(frozen=True)
class ToyCommand:
    name: str
    data: str | None = None


class ToyConfig:
    def __init__(self) -> None:
        self.values = {
            "console_echo": 0,
            "console_errs": 2,
            "console_verbose": 1,
            "console_winds": 2,
        }

    def get(self, name: str) -> int:
        return self.values[name]


class ToyDialect:
    """PING; PUT=<n> then n bytes (echoed back raw); SLOW (waits for ``go``); STREAM=<n>
    (n flushed chunks); BOOM (a crash outside any handler); CERT (a result line)."""

    def __init__(self, console: str = "uart") -> None:
        self.config = ToyConfig()
        self.console = console
        self.runtime = Runtime(self)
        self.notes: list[str] = []
        self.boots: list[Boot] = []
        self.stops = 0
        self.go = asyncio.Event()
        self.started_stream = asyncio.Event()

    def head(self, line: bytes) -> tuple[Request, int | None]:
        name, _, rest = line.decode("latin-1").partition("=")
        params = tuple(rest.split(",")) if rest else ()
        if name == "PUT":
            return Request(ToyCommand("PUT", "n"), params, line=line), int(params[0])
        if name in ("PING", "SLOW", "STREAM", "BOOM", "CERT", "RESET"):
            return Request(ToyCommand(name), params, line=line), None
        return Request(None, line=line, error=1, detail=f"no command {name}"), None

    def console_enabled(self) -> str:
        return self.console

    async def prepare(self, reason: Boot) -> None:
        self.boots.append(reason)

    async def start(self) -> None:
        self.runtime.wind(Wind(0, "Console active"))

    async def stop(self) -> None:
        self.stops += 1

    async def execute(self, request: Request, sink: Sink) -> None:
        if request.error is not None:
            sink.send(Error(request.error, "Command not found"))
            return
        name = request.command.name  # type: ignore[union-attr]
        if name == "PUT":
            sink.send(Raw(request.data or b""))
        elif name == "SLOW":
            await self.go.wait()
            sink.send(Info("Slow:done"))
        elif name == "STREAM":
            for i in range(int(request.params[0])):
                sink.send(Info(f"Chunk:{i}"))
                await sink.flush()
                self.started_stream.set()
                await self.go.wait()
        elif name == "BOOM":
            raise ZeroDivisionError
        elif name == "CERT":
            sink.send(ResultLine("Certificate Error:21"))
            return
        elif name == "RESET":
            self.runtime.request_reboot()
        sink.send(Ok())

    def internal_error(self) -> Error:
        return Error(111, "Request failed")

    def trace_note(self, text: str) -> None:
        self.notes.append(text)


class Wire:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.more = asyncio.Event()

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.more.set()

    @property
    def rx(self) -> bytes:
        return b"".join(self.writes)

    async def until(self, marker: bytes) -> bytes:
        async def wait() -> bytes:
            while marker not in self.rx:
                self.more.clear()
                await self.more.wait()
            return self.rx

        return await asyncio.wait_for(wait(), 10)


@pytest.fixture
async def toy() -> AsyncIterator[tuple[ToyDialect, Wire]]:
    d = ToyDialect()
    wire = Wire()
    d.runtime.attach(wire.write)
    await d.runtime.power_on()
    yield d, wire
    await d.runtime.shutdown()


def test_the_runtime_imports_no_dialect() -> None:
    code = (
        "import sys, atwifi.runtime, atwifi.runtime.runtime, atwifi.framings.uart\n"
        "bad = [m for m in sys.modules if m.startswith('atwifi.spwf04')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_a_toy_dialect_on_the_uart_framing(toy) -> None:
    d, wire = toy
    assert await wire.until(b"+WIND:0:Console active\r\n")
    wire.writes.clear()
    d.runtime.feed(b"PING\rNOPE\rPUT=3\rabcCERT\r")
    out = await wire.until(b"Certificate Error:21\r\n")
    assert out == (
        b"AT-S.OK\r\nAT-S.ERROR:1:Command not found\r\nabcAT-S.OK\r\nAT-S.Certificate Error:21\r\n"
    )
    assert d.runtime.power_state is PowerState.ON


async def test_winds_wait_for_the_data_block_and_the_reply(toy) -> None:
    d, wire = toy
    await wire.until(b"Console active\r\n")
    wire.writes.clear()
    d.config.values["console_echo"] = 1
    d.runtime.feed(b"PUT=4\rab")
    await wire.until(b"PUT=4\r\n")  # the echo goes out before the data comes
    d.runtime.wind(Wind(55, "Pending Data", (0, 4)))
    assert b"WIND" not in wire.rx  # held: the command is still reading its data
    d.runtime.feed(b"cd")
    out = await wire.until(b"+WIND:55")
    assert out.endswith(b"PUT=4\r\nabcdAT-S.OK\r\n+WIND:55:Pending Data:0:4\r\n")


async def test_a_long_reply_streams_and_holds_winds_until_it_ends(toy) -> None:
    d, wire = toy
    await wire.until(b"Console active\r\n")
    wire.writes.clear()
    d.runtime.feed(b"STREAM=2\r")
    await asyncio.wait_for(d.started_stream.wait(), 10)
    assert wire.rx == b"AT-S.Chunk:0\r\n"  # out before the reply is complete
    d.runtime.wind(Wind(1, "Poweron"))
    d.go.set()
    out = await wire.until(b"+WIND:1")
    assert out == b"AT-S.Chunk:0\r\nAT-S.Chunk:1\r\nAT-S.OK\r\n+WIND:1:Poweron\r\n"


async def test_a_crash_outside_the_handlers_is_answered_and_the_console_goes_on(toy) -> None:
    d, wire = toy
    await wire.until(b"Console active\r\n")
    wire.writes.clear()
    d.runtime.feed(b"BOOM\rPING\r")
    out = await wire.until(b"AT-S.OK\r\n")
    assert out == b"AT-S.ERROR:111:Request failed\r\nAT-S.OK\r\n"
    assert any("ZeroDivisionError" in n for n in d.notes)


async def test_a_script_executes_requests_and_gets_items(toy) -> None:
    d, wire = toy
    sink = ListSink()
    await d.runtime.execute(Request(ToyCommand("PUT", "n"), ("2",), b"hi"), sink)
    await d.runtime.execute(Request(None, error=1), sink)
    assert sink.items == [Raw(b"hi"), Ok(), Error(1, "Command not found")]


async def test_reset_after_the_reply_and_power_hooks(toy) -> None:
    d, wire = toy
    await wire.until(b"Console active\r\n")
    d.runtime.feed(b"RESET\r")
    await wire.until(b"AT-S.OK\r\n+WIND:0:Console active\r\n")  # answered, then rebooted
    assert d.boots == [Boot.POWER_ON, Boot.RESET] and d.stops == 1
    await d.runtime.sleep()
    assert d.runtime.power_state is PowerState.SLEEP
    await d.runtime.wake()
    assert d.runtime.power_state is PowerState.ON
    await d.runtime.standby()
    assert d.runtime.power_state is PowerState.STANDBY and d.stops == 2
    await d.runtime.wake()
    assert d.boots[-1] is Boot.WAKE and d.runtime.power_state is PowerState.ON


async def test_an_unbuilt_console_falls_back_to_uart() -> None:
    d = ToyDialect(console="nowhere")
    wire = Wire()
    d.runtime.attach(wire.write)
    await d.runtime.power_on()
    try:
        assert d.runtime.framing_name == "uart"
        assert any("nowhere" in n for n in d.notes)
    finally:
        await d.runtime.shutdown()


class ShoutFraming:
    """A second framing, registered with one line: requests are lines, replies shouted."""

    def __init__(self, dialect: ToyDialect) -> None:
        self.dialect = dialect
        self.out = bytearray()
        self._buf = bytearray()
        self.awaiting_data = False

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_request(self) -> Request | None:
        line, sep, rest = bytes(self._buf).partition(b"\n")
        if not sep:
            return None
        self._buf[:] = rest
        return self.dialect.head(line)[0]

    def send(self, item: object) -> None:
        self.out += type(item).__name__.upper().encode() + b"!\n"

    def reset(self) -> None:
        self._buf.clear()


async def test_a_framing_plugs_in_with_one_registration(monkeypatch) -> None:
    monkeypatch.setitem(framings.FRAMINGS, "shout", f"{__name__}:ShoutFraming")
    d = ToyDialect(console="shout")
    wire = Wire()
    d.runtime.attach(wire.write)
    await d.runtime.power_on()
    d.runtime.feed(b"PING\n")
    try:
        assert await wire.until(b"OK!\n") == b"WIND!\nOK!\n"
    finally:
        await d.runtime.shutdown()


async def test_bytes_before_the_console_is_active_are_dropped() -> None:
    # A UART hears nothing until the firmware sets it up: not kept, however many.
    d = ToyDialect()
    wire = Wire()
    d.runtime.attach(wire.write)
    d.runtime.feed(b"x" * 100_000)
    d.runtime.feed(b"PING\r")
    await d.runtime.power_on()
    try:
        assert any("100005 bytes dropped" in n for n in d.notes), d.notes
        d.runtime.feed(b"PING\r")
        assert (await wire.until(b"AT-S.OK\r\n")).endswith(b"AT-S.OK\r\n")
        assert wire.rx.count(b"AT-S.OK") == 1  # the PING typed before power-on was lost
    finally:
        await d.runtime.shutdown()
