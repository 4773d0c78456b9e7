"""The console as a UART line (transports/line.py): pacing, overrun, flow control, rates."""

from __future__ import annotations

import asyncio
import os
import termios

import pytest

from atwifi.transports.base import Transport
from atwifi.transports.line import QUANTUM, Line, garble, garble_table, rates_match
from atwifi.transports.pty import PtyTransport
from harness import InProcessModule

SAFETY = 20.0
BOOT = (
    b"+WIND:1:Poweron:171117-0328fe3-SPWF04S\r\n"
    b"+WIND:13:Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved:SPWF04SA\r\n"
    b"+WIND:0:Console active\r\n"
    b"+WIND:32:WiFi Hardware Started\r\n"
)


class FakeHost(Transport):
    """The host end of a line: records what it receives, says what rate and RTS it has."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.writes: list[bytes] = []
        self.rate: int | None = None
        self.rts = True
        self.paused = False
        self.settings: list[tuple[int, bool]] = []
        self.notes: list[str] = []
        self._changed = asyncio.Event()
        self.feed = None

    async def start(self, feed) -> None:
        self.feed = feed

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.out += data
        self._changed.set()

    async def drain(self) -> None:
        pass

    def describe(self) -> str:
        return "fake host"

    async def close(self) -> None:
        pass

    def host_rate(self, direction: str) -> int | None:
        return self.rate

    def host_rts(self) -> bool:
        return self.rts

    def pause_input(self) -> None:
        self.paused = True

    def resume_input(self) -> None:
        self.paused = False

    def set_line(self, rate: int, hwfc: bool) -> None:
        self.settings.append((rate, hwfc))

    async def wait_out(self, n: int) -> bytes:
        async with asyncio.timeout(SAFETY):
            while len(self.out) < n:
                self._changed.clear()
                await self._changed.wait()
        return bytes(self.out)


class Module:
    """The module end: collects what the line delivers."""

    def __init__(self) -> None:
        self.got = bytearray()
        self._changed = asyncio.Event()

    def feed(self, data: bytes) -> None:
        self.got += data
        self._changed.set()

    async def wait_for(self, n: int) -> bytes:
        async with asyncio.timeout(SAFETY):
            while len(self.got) < n:
                self._changed.clear()
                await self._changed.wait()
        return bytes(self.got)


async def paced(rate: int = 115200) -> tuple[Line, FakeHost, Module, list[str]]:
    host, module = FakeHost(), Module()
    line = Line(host, pace=True, rate=rate)
    notes: list[str] = []
    line.on_note = notes.append
    await line.start(module.feed)
    line.configure(rate, False)
    return line, host, module, notes


# -- garbage at the wrong rate ----------------------------------------------------------------


def test_same_rate_carries_bytes_unchanged():
    data = bytes(range(256))
    assert garble(data, 115200, 115200) == data
    assert rates_match(115200, 113000) and not rates_match(115200, 9600)


@pytest.mark.parametrize(("a", "b"), [(115200, 9600), (9600, 115200), (115200, 57600)])
def test_wrong_rate_is_garbage(a, b):
    text = b"AT-S.OK\r\n+WIND:1:Poweron\r\n"
    seen = garble(text, a, b)
    assert seen != text
    assert len(seen) <= len(text)
    assert garble(text, a, b) == seen  # the same wire, the same garbage
    table, lost = garble_table(a, b)
    assert len(table) == 256


# -- pacing --------------------------------------------------------------------------------------


async def test_output_leaves_in_order_in_chunks_no_bigger_than_the_bucket():
    line, host, _, _ = await paced(115200)
    data = bytes(range(256)) * 8
    line.write(data)
    assert await host.wait_out(len(data)) == data
    burst = line._tx_bucket.burst
    assert len(host.writes) > 1
    assert max(len(w) for w in host.writes) <= burst
    await line.close()


async def test_output_to_a_host_at_another_rate_is_garbled():
    line, host, _, notes = await paced(115200)
    host.rate = 9600
    text = b"+WIND:0:Console active\r\n"
    expected = garble(text, 115200, 9600)
    line.write(text)
    assert await host.wait_out(len(expected)) == expected
    assert any("garbage" in n for n in notes)
    await line.close()


async def test_input_is_taken_at_the_line_rate_and_pushes_back():
    line, host, module, _ = await paced(921600)
    data = os.urandom(3000)
    host.feed(data)
    assert host.paused  # more than a FIFO's worth: the transport stops reading
    assert await module.wait_for(len(data)) == data
    assert not host.paused
    await line.close()


async def test_receive_overrun_without_flow_control_loses_bytes():
    line, host, module, notes = await paced(921600)
    line.rx_waiting = lambda: 4096  # the console is busy: its buffer is full
    host.feed(b"x" * 100)
    for _ in range(4000):  # until the line has carried them (to nowhere)
        if line.overruns == 100:
            break
        await asyncio.sleep(QUANTUM)
    assert line.overruns == 100
    assert any("overrun" in n for n in notes)
    line.rx_waiting = lambda: 0
    host.feed(b"AT\r")
    assert await module.wait_for(3) == b"AT\r"  # the lost bytes never arrive
    assert any("100 bytes were lost" in n for n in notes)
    await line.close()


async def test_a_late_timer_loses_nothing_when_the_console_keeps_up():
    """Under load the line's timer fires late and hands over tens of milliseconds of line time
    at once, more than the receive buffer: a console that reads as bytes come keeps up."""
    line, host, module, notes = await paced(921600)
    bucket = line._rx_bucket
    take = bucket.take
    bucket.take = lambda want: min(want, int(bucket.burst))  # every timer is late
    data = os.urandom(20000)
    host.feed(data)
    assert await module.wait_for(len(data)) == data
    assert line.overruns == 0 and not any("overrun" in n for n in notes)
    bucket.take = take
    await line.close()


async def test_hardware_flow_control_holds_input_until_the_console_reads():
    line, host, module, _ = await paced(921600)
    line.configure(921600, True)
    full = True
    line.rx_waiting = lambda: 4096 if full else 0
    host.feed(b"y" * 100)
    await asyncio.sleep(QUANTUM * 5)  # the line would have carried them by now
    assert module.got == b""
    full = False
    assert await module.wait_for(100) == b"y" * 100
    assert line.overruns == 0
    await line.close()


async def test_hardware_flow_control_waits_for_the_hosts_rts():
    line, host, _, _ = await paced(921600)
    line.configure(921600, True)
    host.rts = False
    line.write(b"held")
    await asyncio.sleep(QUANTUM * 5)
    assert host.out == b""
    host.rts = True
    assert await host.wait_out(4) == b"held"
    await line.close()


async def test_without_flow_control_rts_is_ignored():
    line, host, _, _ = await paced(921600)
    host.rts = False
    line.write(b"sent")
    assert await host.wait_out(4) == b"sent"
    await line.close()


# -- console_speed: after WCFG and a reset ---------------------------------------------------


async def test_console_speed_takes_effect_after_wcfg_and_reset(tmp_path):
    host = FakeHost()
    line = Line(host, pace=False)
    m = InProcessModule(tmp_path / "state")
    m.device.line = line
    await m.boot()
    assert host.settings[-1] == (115200, False)
    assert await m.cmd("AT+S.SCFG=console_speed,9600") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.SCFG=console_hwfc,1") == b"AT-S.OK\r\n"
    assert line.rate == 115200  # SCFG alone changes nothing on the line
    assert await m.cmd("AT+S.WCFG") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.RESET") == b"AT-S.OK\r\n"
    await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    assert host.settings[-1] == (9600, True)
    assert (line.rate, line.hwfc) == (9600, True)
    await m.device.shutdown()


def _set_speed(fd: int, speed: int) -> None:
    mode = termios.tcgetattr(fd)
    mode[4] = mode[5] = speed
    termios.tcsetattr(fd, termios.TCSANOW, mode)


class PtyHost:
    """The host's end of the pty, read from the event loop."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.rx = bytearray()
        self._more = asyncio.Event()
        asyncio.get_running_loop().add_reader(fd, self._readable)

    def _readable(self) -> None:
        self.rx += os.read(self.fd, 65536)
        self._more.set()

    async def _wait(self, ready) -> int:
        async with asyncio.timeout(SAFETY):
            while (end := ready()) < 0:
                self._more.clear()
                await self._more.wait()
        return end

    async def read_exactly(self, n: int) -> bytes:
        end = await self._wait(lambda: n if len(self.rx) >= n else -1)
        out = bytes(self.rx[:end])
        del self.rx[:end]
        return out

    async def read_until(self, marker: bytes) -> bytes:
        def ready() -> int:
            i = self.rx.find(marker)
            return i + len(marker) if i >= 0 else -1

        end = await self._wait(ready)
        out = bytes(self.rx[:end])
        del self.rx[:end]
        return out

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)
        os.close(self.fd)


async def test_pty_host_at_the_old_rate_sees_garbage_after_the_baud_change(tmp_path):
    """A paced pty: the module comes back at 9600; the host at 115200 reads garbage, then
    sets its end to 9600 and talks to the module again."""
    from atwifi.spwf04.device import Device, Options

    pty = PtyTransport(baudrate=115200)
    line = Line(pty, pace=True, rate=115200)
    device = Device(Options(state_dir=tmp_path / "state"))
    device.line = line
    device.attach(line.write, line.drain)
    await line.start(device.feed)
    fd = os.open(pty.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    host = PtyHost(fd)
    try:
        await device.power_on()
        assert await host.read_exactly(len(BOOT)) == BOOT
        for cmd in (b"AT+S.SCFG=console_speed,9600", b"AT+S.WCFG", b"AT+S.RESET"):
            os.write(fd, cmd + b"\r")
            assert (await host.read_until(b"AT-S.OK\r\n")).endswith(cmd + b"\r\nAT-S.OK\r\n")
        garbage = garble(BOOT, 9600, 115200)
        assert await host.read_exactly(len(garbage)) == garbage
        await asyncio.wait_for(device.booted.wait(), SAFETY)
        _set_speed(fd, termios.B9600)
        os.write(fd, b"AT\r")
        assert (await host.read_until(b"AT-S.OK\r\n")).endswith(b"AT\r\nAT-S.OK\r\n")
    finally:
        host.close()
        await device.shutdown()
        await line.close()


# -- console_repeater ------------------------------------------------------------------------


async def test_repeater_key_runs_the_last_command_again(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.GPIOC=3,out") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.GPIOR=3") == b"AT-S.Value:3:0:1\r\n".replace(b":1\r", b":0\r") + (
        b"AT-S.OK\r\n"
    )
    assert await m.cmd("!") == b"AT-S.Value:3:0:0\r\nAT-S.OK\r\n"
    assert await m.cmd("AT+S.SCFG=console_repeater,0x40") == b"AT-S.OK\r\n"
    assert await m.cmd("@") == b"AT-S.OK\r\n"  # the SCFG, again
    assert await m.cmd("!") == b"AT-S.ERROR:1:Command not found\r\n"


# -- power-on when a host opens the pty ------------------------------------------------------


def test_pty_module_powers_on_when_the_host_opens_it(tmp_path):
    """pyserial empties its input while it opens a port: the boot lines must come after."""
    import re
    import subprocess
    import sys

    import serial

    from harness import SRC

    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "atwifi", "serve", "--state", str(tmp_path / "state")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        path = None
        for _ in range(20):
            m = re.search(rb"(/dev/pts/\d+)", proc.stdout.readline())
            if m:
                path = m.group(1).decode()
                break
        assert path, proc.stderr.read() if proc.stderr else b""
        port = serial.Serial(path, 115200, timeout=SAFETY)
        try:
            out = port.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
        finally:
            port.close()
        assert out.startswith(b"+WIND:1:Poweron:"), out
    finally:
        proc.terminate()
        proc.wait(10)


# -- RFC 2217 and a real serial port ---------------------------------------------------------


def _rfc_open(port: int, baud: int):
    import serial

    return serial.serial_for_url(
        f"rfc2217://127.0.0.1:{port}?timeout={SAFETY}", baudrate=baud, timeout=SAFETY
    )


async def _rfc_module(tmp_path, hwfc: bool = False):
    from atwifi.spwf04.device import Device, Options
    from atwifi.transports.rfc2217 import Rfc2217Transport

    rfc = Rfc2217Transport("127.0.0.1", 0)
    line = Line(rfc, pace=True, rate=115200)
    device = Device(Options(state_dir=tmp_path / "state"))
    if hwfc:
        device.config.set("console_hwfc", "1")
        device.config.save()
    device.line = line
    device.attach(line.write, line.drain)
    await line.start(device.feed)
    return rfc, line, device


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_rfc2217_host_at_another_rate_reads_garbage(tmp_path):
    rfc, line, device = await _rfc_module(tmp_path)
    port = await asyncio.to_thread(_rfc_open, rfc.port, 9600)
    try:
        await device.power_on()
        garbage = garble(BOOT, 115200, 9600)
        got = await asyncio.to_thread(port.read, len(garbage))
        assert got == garbage
    finally:
        await asyncio.to_thread(port.close)
        await device.shutdown()
        await line.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_rfc2217_rts_holds_output_with_hardware_flow_control(tmp_path):
    rfc, line, device = await _rfc_module(tmp_path, hwfc=True)
    port = await asyncio.to_thread(_rfc_open, rfc.port, 115200)
    try:
        await device.power_on()
        assert line.hwfc
        boot = await asyncio.to_thread(port.read_until, b"+WIND:32:WiFi Hardware Started\r\n")
        assert boot.startswith(b"+WIND:1:Poweron")
        await asyncio.to_thread(setattr, port, "rts", False)
        for _ in range(2000):
            if not rfc.rts:
                break
            await asyncio.sleep(QUANTUM)
        await asyncio.to_thread(port.write, b"AT+S.GCFG=nv_model\r")
        for _ in range(2000):  # the module has answered: its reply waits on the line
            if b"AT-S.OK" in line._tx:
                break
            await asyncio.sleep(QUANTUM)
        assert b"AT-S.OK" in line._tx
        await asyncio.sleep(QUANTUM * 5)
        assert b"AT-S.OK" in line._tx  # still held: RTS is down
        await asyncio.to_thread(setattr, port, "rts", True)
        out = await asyncio.to_thread(port.read_until, b"AT-S.OK\r\n")
        assert out.endswith(b"AT-S.Var:nv_model=SPWF04SA\r\nAT-S.OK\r\n"), out
    finally:
        await asyncio.to_thread(port.close)
        await device.shutdown()
        await line.close()


async def test_a_real_port_follows_console_speed_and_hwfc():
    from atwifi.transports.serial import SerialTransport

    controller, follower = os.openpty()
    path = os.ttyname(follower)
    t = SerialTransport(path, 115200)
    try:
        await t.start(lambda data: None)
        line = Line(t, pace=False)
        line.configure(9600, True)
        mode = termios.tcgetattr(follower)
        assert mode[5] == termios.B9600
        assert mode[2] & termios.CRTSCTS
        line.configure(921600, False)
        mode = termios.tcgetattr(follower)
        assert mode[5] == termios.B921600
        assert not mode[2] & termios.CRTSCTS
    finally:
        await t.close()
        os.close(controller)
        os.close(follower)


def test_a_data_block_in_progress_is_not_the_receive_buffers_fill():
    from atwifi.framings.uart import ConsoleDecoder

    d = ConsoleDecoder()
    d.feed(b"AT+S.FSC=x,10\r")
    assert d.next_event() is not None
    d.expect_data(10)
    d.feed(b"123456")
    assert d.waiting == 0  # owed to the FSC: read as it comes
    d.feed(b"7890AT\r")
    assert d.unread == 13 and d.waiting == 3  # "AT\r" waits for the console
