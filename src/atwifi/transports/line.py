"""The console as a UART line: pacing at the module's rate, flow control, wrong-rate garbage.

``Line`` wraps any transport. Without pacing it only passes the module's line settings
(``console_speed``, ``console_hwfc``, applied at every boot) to the transport that has a rate
(a real serial port is reconfigured). With pacing (``atwifi serve --pace``) it behaves as the
wire between two UARTs at 8N1, 10 bits a byte:

* Both directions move at ``rate / 10`` bytes per second, through token buckets on the event
  loop's clock: bytes leave in chunks of at most a few milliseconds' worth, never one by one.
* Host -> module: host bytes are taken off the transport only as fast as the line carries
  them (the transport stops reading, so a pty or socket writer blocks as on a real UART).
  They land in the module's receive buffer (RX_BUFFER bytes not yet read by the console).
  When that buffer is full, ``console_hwfc=1`` holds the line (CTS down: nothing more is
  taken); ``console_hwfc=0`` loses the bytes, as a UART overrun does (a trace note counts them).
* Module -> host: with ``console_hwfc=1`` output waits while the host holds RTS down (RFC 2217
  SET-CONTROL RTS off); without flow control RTS is ignored.
* A host whose end is set to another rate (pty termios, RFC 2217 SET-BAUDRATE) differing by
  more than RATE_TOLERANCE sees each byte as the other UART would sample it (``garble``):
  the wrong bytes, some lost to false start bits, as on a wire.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from atwifi.transports.base import Transport

BITS_PER_BYTE = 10  # 8N1: start, 8 data, stop
QUANTUM = 0.004  # seconds of line time per chunk (the timer's step)
CATCH_UP = 0.05  # seconds of line time a late timer may send at once
RX_HOST_QUEUE = 256  # host bytes taken off the transport ahead of the line, at least...
RX_HOST_AHEAD = 0.03  # ...and this many seconds of line time (so a slow host never starves it)
RX_BUFFER = 2048  # the module's receive buffer: bytes the console has not read yet
TX_HIGH = 4096  # drain() waits while more than this waits for the line
TX_LIMIT = 1 << 20  # output queued beyond this is dropped (a host that never reads)
RATE_TOLERANCE = 0.03  # a UART samples correctly within a few percent


@functools.lru_cache(maxsize=64)
def garble_table(sender: int, receiver: int) -> tuple[bytes, bytes]:
    """(translate table, bytes to delete): what a UART at ``receiver`` baud reads when one
    8N1 frame is sent at ``sender`` baud (the line idles high after it). Sampling mid-bit from
    the start bit's falling edge; a start bit that reads high is a false start (no byte)."""
    table = bytearray(256)
    lost = bytearray()
    for b in range(256):
        frame = [0] + [(b >> i) & 1 for i in range(8)] + [1]

        def level(t: float, frame: list[int] = frame) -> int:
            i = int(t * sender)
            return frame[i] if i < len(frame) else 1

        if level(0.5 / receiver):
            lost.append(b)
            continue
        value = 0
        for k in range(8):
            value |= level((k + 1.5) / receiver) << k
        table[b] = value
    return bytes(table), bytes(lost)


def garble(data: bytes, sender: int, receiver: int) -> bytes:
    table, lost = garble_table(sender, receiver)
    return data.translate(table, lost)


def rates_match(a: int, b: int) -> bool:
    return abs(a - b) <= RATE_TOLERANCE * max(a, b)


class _Bucket:
    """Bytes a line may carry now: ``rate`` bytes/s, at most ``burst`` saved up."""

    def __init__(self, loop: asyncio.AbstractEventLoop, rate: float) -> None:
        self.loop = loop
        self.set_rate(rate)
        self.tokens = 0.0
        self.last = loop.time()

    def set_rate(self, rate: float) -> None:
        self.rate = max(1.0, rate)
        # What a late timer may catch up on at once (an event loop under load), no more.
        self.burst = max(16.0, self.rate * CATCH_UP)

    def take(self, want: int) -> int:
        now = self.loop.time()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        n = min(want, int(self.tokens))
        self.tokens -= n
        return n

    def idle(self) -> None:
        """The line was idle: a UART saves nothing up, the next byte starts now."""
        self.tokens = 0.0
        self.last = self.loop.time()

    def wait_for(self, want: int) -> float:
        """Seconds until ``want`` bytes (at most a quantum's worth) can go."""
        need = min(float(want), max(1.0, self.rate * QUANTUM)) - self.tokens
        return max(need / self.rate, 0.0005)


class Line(Transport):
    """See the module docstring. ``pace``: emulate the wire; else only pass settings on."""

    def __init__(self, inner: Transport, *, pace: bool = False, rate: int = 115200) -> None:
        self.inner = inner
        self.pace = pace
        self.rate = rate
        self.hwfc = False
        self.overruns = 0  # bytes lost to receive overruns since start
        self.rx_waiting: Callable[[], int] = lambda: 0  # module bytes received, not yet read
        self._feed: Callable[[bytes], None] | None = None
        self._tx = bytearray()
        self._rx = bytearray()
        self._tx_timer: asyncio.TimerHandle | None = None
        self._rx_timer: asyncio.TimerHandle | None = None
        self._tx_bucket: _Bucket | None = None
        self._rx_bucket: _Bucket | None = None
        self._input_paused = False
        self._progress: asyncio.Event | None = None
        self._overrun_noted = 0
        self._mismatch_noted: tuple[int, int] | None = None
        self._closed = False
        inner.on_note = self.note
        if not pace:
            self.write = inner.write  # type: ignore[method-assign]  # no cost unpaced

    # -- Transport -----------------------------------------------------------------------------
    async def start(self, feed: Callable[[bytes], None]) -> None:
        if not self.pace:
            await self.inner.start(feed)
            return
        loop = asyncio.get_running_loop()
        self._feed = feed
        self._tx_bucket = _Bucket(loop, self.rate / BITS_PER_BYTE)
        self._rx_bucket = _Bucket(loop, self.rate / BITS_PER_BYTE)
        self._progress = asyncio.Event()
        await self.inner.start(self._from_host)

    def write(self, data: bytes) -> None:
        if not data or self._closed:
            return
        if len(self._tx) + len(data) > TX_LIMIT:
            self.note(f"line output over {TX_LIMIT} bytes: dropping {len(data)} bytes")
            return
        if not self._tx and self._tx_bucket is not None:
            self._tx_bucket.idle()
        self._tx += data
        if self._tx_timer is None:
            self._pump_tx()

    async def drain(self) -> None:
        if self.pace and self._progress is not None:
            while len(self._tx) > TX_HIGH and not self._closed:
                self._progress.clear()
                await self._progress.wait()
        await self.inner.drain()

    def endpoints(self) -> list[tuple[str, int]]:
        return self.inner.endpoints()

    def describe(self) -> str:
        text = self.inner.describe()
        if self.pace:
            text += f"\n  paced as a UART at console_speed (now {self.rate} baud, 8N1)"
        return text

    async def close(self) -> None:
        self._closed = True
        for timer in (self._tx_timer, self._rx_timer):
            if timer is not None:
                timer.cancel()
        self._tx_timer = self._rx_timer = None
        if self._progress is not None:
            self._progress.set()
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    # -- the module's settings -----------------------------------------------------------------
    def configure(self, rate: int, hwfc: bool) -> None:
        """console_speed / console_hwfc as loaded at a boot."""
        if rate != self.rate or hwfc != self.hwfc:
            self.note(f"line: {rate} baud, 8N1, flow control {'RTS/CTS' if hwfc else 'off'}")
            if self._tx and rate != self.rate:
                # The UART finishes sending at the old rate before it is set up anew.
                pending = bytes(self._tx)
                self._tx.clear()
                self.inner.write(self._convert(pending, "out"))
        self.rate, self.hwfc = rate, bool(hwfc)
        for bucket in (self._tx_bucket, self._rx_bucket):
            if bucket is not None:
                bucket.set_rate(rate / BITS_PER_BYTE)
        set_line = getattr(self.inner, "set_line", None)
        if set_line is not None:
            set_line(rate, bool(hwfc))

    def _host_rate(self, direction: str) -> int | None:
        fn = getattr(self.inner, "host_rate", None)
        return fn(direction) if fn is not None else None

    def _convert(self, data: bytes, direction: str) -> bytes:
        host = self._host_rate(direction)
        if host is None or rates_match(host, self.rate):
            return data
        pair = (host, self.rate)
        if self._mismatch_noted != pair:
            self._mismatch_noted = pair
            self.note(f"host at {host} baud, module at {self.rate}: the line carries garbage")
        if direction == "out":
            return garble(data, self.rate, host)
        return garble(data, host, self.rate)

    # -- module -> host ------------------------------------------------------------------------
    def _pump_tx(self) -> None:
        self._tx_timer = None
        bucket = self._tx_bucket
        if bucket is None or self._closed:
            return
        if self.hwfc and not self._host_ready():
            self._tx_timer = bucket.loop.call_later(QUANTUM, self._pump_tx)
            return
        n = bucket.take(len(self._tx))
        if n:
            chunk = bytes(self._tx[:n])
            del self._tx[:n]
            self.inner.write(self._convert(chunk, "out"))
            if self._progress is not None and len(self._tx) <= TX_HIGH:
                self._progress.set()
        if self._tx:
            self._tx_timer = bucket.loop.call_later(bucket.wait_for(len(self._tx)), self._pump_tx)

    def _host_ready(self) -> bool:
        fn = getattr(self.inner, "host_rts", None)
        return True if fn is None else bool(fn())

    # -- host -> module ------------------------------------------------------------------------
    def _from_host(self, data: bytes) -> None:
        if not self._rx and self._rx_bucket is not None:
            self._rx_bucket.idle()
        self._rx += data
        if len(self._rx) >= self._rx_ahead() and not self._input_paused:
            self._set_input_paused(True)
        if self._rx_timer is None:
            self._pump_rx()

    def _rx_ahead(self) -> int:
        return max(RX_HOST_QUEUE, int(self.rate / BITS_PER_BYTE * RX_HOST_AHEAD))

    def _set_input_paused(self, paused: bool) -> None:
        fn = getattr(self.inner, "pause_input" if paused else "resume_input", None)
        if fn is not None:
            fn()
        self._input_paused = paused

    def _deliver(self, chunk: bytes) -> int:
        """Hand ``chunk`` to the console as far as its receive buffer takes it; how many
        bytes went in. A late timer hands over many milliseconds of line time at once, more
        than the buffer holds, though a console reading as they come would have kept up: so
        the chunk goes in buffer-sized pieces, and only what finds the buffer full is left."""
        pos = 0
        while pos < len(chunk):
            room = RX_BUFFER - self.rx_waiting()
            if room <= 0:
                break
            piece = chunk[pos : pos + room]
            pos += len(piece)
            if self._feed is not None:
                self._feed(self._convert(piece, "in"))
        return pos

    def _pump_rx(self) -> None:
        self._rx_timer = None
        bucket = self._rx_bucket
        if bucket is None or self._closed:
            return
        room = RX_BUFFER - self.rx_waiting()
        if self.hwfc and room <= 0:
            # CTS down: nothing more crosses the line until the console reads.
            self._rx_timer = bucket.loop.call_later(QUANTUM, self._pump_rx)
            return
        n = bucket.take(len(self._rx))
        if n:
            chunk = bytes(self._rx[:n])
            del self._rx[:n]
            rest = chunk[self._deliver(chunk) :]
            if rest and self.hwfc:
                # CTS went down mid-chunk: the rest waits on the host's side of the line.
                self._rx[:0] = rest
            elif rest:
                if not self._overrun_noted:
                    self.note("receive overrun: the console's buffer is full, bytes are lost")
                self._overrun_noted += len(rest)
                self.overruns += len(rest)
            elif self._overrun_noted:
                self.note(f"receive overrun over: {self._overrun_noted} bytes were lost")
                self._overrun_noted = 0
        if self._input_paused and len(self._rx) < self._rx_ahead() // 2:
            self._set_input_paused(False)
        if self._rx:
            self._rx_timer = bucket.loop.call_later(bucket.wait_for(len(self._rx)), self._pump_rx)
