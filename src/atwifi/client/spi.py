"""The client over SPI: a bus host for ``atwifi serve --spi`` (docs/spi.md).

``spi+unix:///path/to/bus.sock`` or ``spi://host:port`` in ``AsyncClient.open``: every
helper works unchanged. The transport turns each text command the client writes
(``AT+S.SOCKW=0,5`` CR ``hello``) into a master packet, drives the bus as a driver does
(IRQ, sync byte, chip select), and hands the module's slave packets back to the client's
parser in the UART's words: ``AT-S.<text>`` lines, raw data, ``AT-S.OK``,
``AT-S.ERROR:<n>:<text>``, ``+WIND:<n>:<text>:<fields>``. Over SPI there is no echo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

from atwifi.client.transport import OnClose, OnData, Transport
from atwifi.framings.spi import (
    IND_DATA,
    IND_MESSAGE,
    IND_OK,
    IND_RESULT_LINE,
    KIND_ERROR,
    KIND_RESULT,
    KIND_WIND,
    SlaveDecoder,
    SlavePacket,
    encode_master,
    head_size,
)
from atwifi.transports.spi import (
    CS,
    FAULT,
    HELLO,
    IRQ,
    MISO,
    RESET,
    SELECT_XFER,
    MessageReader,
    message,
)

log = logging.getLogger(__name__)

READ_CHUNK = 64  # bytes clocked per read transfer when the packet's length is not known yet
CRLF = b"\r\n"
# SCAN's network lines are the one kind of reply line the UART prints without "AT-S.".
_BARE_LINE = re.compile(rb"\d+:\t")


def command_packet(text: bytes, data: bytes = b"") -> bytes:
    """A text command (``AT+S.SCAN=d,/scan.txt``) as its master packet. A command the
    table does not know goes out with id 0x00, so that the module answers it (error 1)."""
    from atwifi.errors import AtError
    from atwifi.spwf04.args import split_line
    from atwifi.spwf04.table.commands import BY_NAME

    line = text.decode("latin-1")
    try:
        name, rest = split_line(line)
    except AtError:
        return encode_master(0x00, (), data)
    cmd = BY_NAME.get(name)
    if cmd is None:
        return encode_master(0x00, (), data)
    if rest is None:
        params: list[str] = []
    elif cmd.params and cmd.params[-1].rest:
        params = rest.split(",", len(cmd.params) - 1)
    else:
        params = rest.split(",")
    return encode_master(cmd.id, params, data)


def uart_words(packet: SlavePacket) -> bytes:
    """What the UART console would have printed for this slave packet."""
    from atwifi.spwf04.table.errors import ERRORS
    from atwifi.spwf04.table.winds import WINDS

    payload = packet.payload
    if packet.kind == KIND_WIND:
        definition = WINDS.get(packet.indication)
        text = definition.text if definition else ""
        line = b"+WIND:%d:%s" % (packet.indication, text.encode("latin-1"))
        return line + (b":" + payload if payload else b"") + CRLF
    if packet.kind != KIND_RESULT:
        return b""
    ind = packet.indication
    if ind == IND_DATA:
        return payload
    if ind in (IND_MESSAGE, IND_RESULT_LINE) or payload:
        if ind == IND_MESSAGE and _BARE_LINE.match(payload):
            return payload + CRLF
        return b"AT-S." + payload + CRLF
    if ind == IND_OK:
        return b"AT-S.OK\r\n"
    return b"AT-S.ERROR:%d:%s\r\n" % (ind, ERRORS.get(ind, "").encode("latin-1"))


class BusHost:
    """The host's end of the bus protocol: transfers, chip select, reset, IRQ."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._miso: deque[asyncio.Future[bytes]] = deque()
        self.irq = 0
        self.rises = 0  # IRQ low-to-high edges seen (a driver waits for one after {data})
        self.idle = 0xFF
        self.version = 0
        self._changed = asyncio.Event()
        self.closed: BaseException | None = None
        self.on_close: Callable[[BaseException | None], None] | None = None
        self._hello = asyncio.get_running_loop().create_future()
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(cls, url: str) -> BusHost:
        parts = urlsplit(url)
        if parts.scheme == "spi+unix":
            path = parts.path or parts.netloc
            if not path:
                raise ValueError(f"spi+unix:// URL needs a path: {url!r}")
            reader, writer = await asyncio.open_unix_connection(path)
        elif parts.scheme == "spi":
            if not parts.hostname or not parts.port:
                raise ValueError(f"spi:// URL needs host and port: {url!r}")
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        else:
            raise ValueError(f"not an SPI bus URL: {url!r}")
        host = cls(reader, writer)
        await host._hello
        return host

    async def _read_loop(self) -> None:
        exc: BaseException | None = None
        messages = MessageReader()
        try:
            while data := await self._reader.read(65536):
                for kind, body in messages.feed(data):
                    self._message(kind, body)
        except (OSError, ConnectionError) as e:
            exc = e
        except asyncio.CancelledError:
            pass
        self._lost(exc)

    def _message(self, kind: int, body: bytes) -> None:
        if kind == HELLO and len(body) >= 3:
            self.version, self.idle, self.irq = body[0], body[1], body[2]
            self._changed.set()
            if not self._hello.done():
                self._hello.set_result(None)
        elif kind == MISO and self._miso:
            fut = self._miso.popleft()
            if not fut.done():
                fut.set_result(body)
        elif kind == IRQ and body:
            if body[0] and not self.irq:
                self.rises += 1
            self.irq = body[0]
            self._changed.set()
        elif kind == FAULT:
            log.error("SPI bus: the module refused a message: %s", body.decode(errors="replace"))

    def _lost(self, exc: BaseException | None) -> None:
        if self.closed is not None:
            return
        self.closed = ConnectionError(f"SPI bus closed: {exc or 'closed'}")
        for fut in [self._hello, *self._miso]:
            if not fut.done():
                fut.set_exception(self.closed)
        self._miso.clear()
        self._changed.set()
        if self.on_close is not None:
            self.on_close(exc)

    def _send(self, data: bytes) -> None:
        if self.closed is not None:
            raise self.closed
        self._writer.write(data)

    async def transfer(self, mosi: bytes) -> bytes:
        """Chip select low, clock ``mosi``, chip select high: the MISO bytes."""
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._miso.append(fut)
        self._send(message(SELECT_XFER, mosi))
        return await fut

    def chip_select(self, asserted: bool) -> None:
        self._send(message(CS, b"\x00" if asserted else b"\x01"))

    def reset_line(self, low: bool) -> None:
        self._send(message(RESET, b"\x00" if low else b"\x01"))

    async def wait_irq(self, level: int) -> None:
        while self.irq != level:
            if self.closed is not None:
                raise self.closed
            self._changed.clear()
            await self._changed.wait()

    @property
    def changed(self) -> asyncio.Event:
        """Set on every IRQ change (and when the bus closes); the caller clears it."""
        return self._changed

    async def close(self) -> None:
        self._task.cancel()
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
        await asyncio.gather(self._task, return_exceptions=True)


class SpiTransport(Transport):
    """The client's byte pipe over the SPI bus: text commands in, UART words out."""

    def __init__(self, bus: BusHost, on_data: OnData, on_close: OnClose) -> None:
        self.bus = bus
        self._on_data = on_data
        self._on_close = on_close
        self._queue: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._decoder = SlaveDecoder()
        self.bus_errors: list[SlavePacket] = []  # kind-2 packets (critical error notes)
        bus.on_close = self._lost
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(self._drive())

    @classmethod
    async def connect(cls, url: str, on_data: OnData, on_close: OnClose) -> SpiTransport:
        return cls(await BusHost.connect(url), on_data, on_close)

    def _lost(self, exc: BaseException | None) -> None:
        if not self._closed:
            self._closed = True
            self._wake.set()
            self._on_close(exc)

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise ConnectionError("the SPI bus is closed")
        line, _, rest = data.partition(b"\r")
        self._queue.append(command_packet(line, rest))
        self._wake.set()

    def _deliver(self, miso: bytes) -> None:
        for packet in self._decoder.feed(miso):
            if packet.kind == KIND_ERROR:
                log.warning(
                    "SPI: the module reports error %d: %r", packet.indication, packet.payload
                )
                self.bus_errors.append(packet)
                continue
            words = uart_words(packet)
            if words:
                self._on_data(words)

    async def _drive(self) -> None:
        bus = self.bus
        try:
            while not self._closed:
                if bus.irq == 0 or self._decoder.in_packet:
                    need = self._decoder.need() if self._decoder.in_packet else READ_CHUNK
                    self._deliver(await bus.transfer(b"\x00" * max(need, 1)))
                elif self._queue:
                    await self._write_packet(self._queue[0])
                else:
                    # Clear, then look again, then wait: no change can slip in between.
                    self._wake.clear()
                    bus.changed.clear()
                    if bus.irq == 0 or self._queue or self._closed:
                        continue
                    changed = asyncio.ensure_future(bus.changed.wait())
                    woken = asyncio.ensure_future(self._wake.wait())
                    try:
                        await asyncio.wait({changed, woken}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        changed.cancel()
                        woken.cancel()
        except ConnectionError:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("SPI bus host failed")
            self._lost(None)

    async def _write_packet(self, packet: bytes) -> None:
        """One master packet as a driver writes it; on a collision (the module answers the
        sync byte with 0x02) the packet stays queued and what came back is read."""
        head = head_size(packet[3:])
        head_end = 3 + (head if head is not None else len(packet) - 3)
        first = packet[:head_end] if head_end < len(packet) else packet
        miso = await self.bus.transfer(first)
        if miso[:1] == b"\x02":
            self._deliver(miso)
            return
        if len(first) < len(packet):
            await self.bus.wait_irq(0)  # the module asks for the data
            await self.bus.transfer(packet[len(first) :])
        self._queue.popleft()

    async def close(self) -> None:
        self._closed = True
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.bus.close()
