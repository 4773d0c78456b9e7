"""The SPI bus stand-in: the module's SPI slave port on a Unix socket or TCP (docs/spi.md).

The host (a test, the client library, a bridge to a USB-SPI adapter or an emulator) sends bus
messages: full-duplex transfers, chip-select and reset edges; the module answers each
transfer with as many MISO bytes, and pushes its IRQ line's changes. The bytes that cross
the console boundary are whole packets: master packets in (``feed``), slave packets out
(``write``); the bus rules themselves are ``atwifi.framings.spibus``.

Every message, both ways: ``type`` (1 byte), ``length`` (2 bytes, high first), ``body``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
from collections.abc import Callable
from pathlib import Path

from atwifi.framings.spibus import IDLE, SpiSlave
from atwifi.transports.base import HIGH_WATER, Transport

VERSION = 1

# host -> module
XFER = 0x01  # body: MOSI bytes; answered by MISO with as many bytes
CS = 0x02  # body: 0x00 chip select asserted (low), 0x01 released (high)
RESET = 0x03  # body: 0x00 reset line low (module held in reset), 0x01 released
SELECT_XFER = 0x04  # CS low, XFER, CS high in one message; answered by MISO
# module -> host
HELLO = 0x80  # body: version, idle MISO byte, IRQ level
MISO = 0x81  # body: the bytes clocked back by one XFER / SELECT_XFER
IRQ = 0x82  # body: 0x00 IRQ low (the module wants the host), 0x01 high
FAULT = 0x8F  # body: text; the module closes the connection after it

MAX_BODY = 0xFFFF


def message(kind: int, body: bytes = b"") -> bytes:
    return struct.pack(">BH", kind, len(body)) + body


class MessageReader:
    """Splits a byte stream into (type, body) messages."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self._buf
        buf += data
        out: list[tuple[int, bytes]] = []
        while len(buf) >= 3:
            n = (buf[1] << 8) | buf[2]
            if len(buf) < 3 + n:
                break
            out.append((buf[0], bytes(buf[3 : 3 + n])))
            del buf[: 3 + n]
        return out


def parse_address(text: str) -> tuple[str, str | int]:
    """``unix:PATH``, a path (anything with a ``/``), or ``HOST:PORT`` / ``PORT``:
    ("unix", path) or (host, port)."""
    if text.startswith("unix:"):
        return "unix", text[5:]
    if "/" in text:
        return "unix", text
    from atwifi.transports import parse_hostport

    return parse_hostport(text)


def _remove_stale_socket(path: str) -> None:
    """A socket left by an earlier run would make the bind fail; anything else is kept."""
    with contextlib.suppress(FileNotFoundError):
        if Path(path).is_socket():
            os.unlink(path)


class _Host(asyncio.Protocol):
    def __init__(self, owner: SpiBusTransport) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.reader = MessageReader()
        self.peer = "?"
        # While the host's bytes are handled, what the module answers is gathered and leaves
        # in one write (the MISO of a transfer and the IRQ edge of the reply it triggered).
        self._batch: bytearray | None = None

    @property
    def alive(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "unix socket"
        self.owner._attach(self)

    def data_received(self, data: bytes) -> None:
        if self.owner._host is not self:
            return
        self._batch = bytearray()
        try:
            self.owner._messages(self, self.reader.feed(data))
        finally:
            batch, self._batch = self._batch, None
            if batch:
                self.send(bytes(batch))

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._detach(self)

    # A host that sends transfers and does not read their MISO: stop reading its messages
    # until it has (every transfer is answered, so memory stays bounded).
    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def flush(self) -> None:
        """Send what the current batch gathered now."""
        batch = self._batch
        if batch:
            self._batch = bytearray()
            if self.alive:
                assert self.transport is not None
                self.transport.write(bytes(batch))

    def send(self, data: bytes) -> None:
        if self._batch is not None:
            self._batch += data
        elif self.alive:
            assert self.transport is not None
            self.transport.write(data)


class SpiBusTransport(Transport):
    """The module's SPI port on ``address`` (see parse_address). One host at a time: a new
    connection replaces the old one. ``on_reset(low)`` is called on reset-line edges."""

    kind = "spi"

    def __init__(self, address: str, idle: int = IDLE) -> None:
        self.address = address
        self.where = parse_address(address)
        self.bus = SpiSlave(idle=idle)
        self.on_reset: Callable[[bool], None] | None = None
        self._feed: Callable[[bytes], None] | None = None
        self._server: asyncio.Server | None = None
        self._host: _Host | None = None
        self._room = asyncio.Event()
        self._room.set()
        self._blocked = False  # on_output(True) said: a master that does not clock MISO out

    # -- Transport API ------------------------------------------------------------------------

    async def start(self, feed: Callable[[bytes], None]) -> None:
        self._feed = feed
        loop = asyncio.get_running_loop()
        host, port = self.where
        if host == "unix":
            path = str(port)
            await asyncio.to_thread(_remove_stale_socket, path)
            self._server = await loop.create_unix_server(lambda: _Host(self), path)
        else:
            self._server = await loop.create_server(
                lambda: _Host(self), host, int(port), reuse_address=True
            )
            self.where = (host, int(self._server.sockets[0].getsockname()[1]))

    def endpoints(self) -> list[tuple[str, int]]:
        port = self.port
        return [] if port is None else [(str(self.where[0]), port)]

    @property
    def port(self) -> int | None:
        host, port = self.where
        return None if host == "unix" else int(port)

    @property
    def path(self) -> str | None:
        host, port = self.where
        return str(port) if host == "unix" else None

    def url(self) -> str:
        """The client library's URL for this bus."""
        host, port = self.where
        if host == "unix":
            return f"spi+unix://{os.path.abspath(str(port))}"
        return f"spi://[{host}]:{port}" if ":" in str(host) else f"spi://{host}:{port}"

    def write(self, data: bytes) -> None:
        self.bus.push(data)
        self._after()
        if not self._blocked and self.bus.pending > HIGH_WATER and self.on_output is not None:
            host = self._host
            if host is not None and host.alive:
                # The master takes no output: the module holds its WINDs (bounded) rather
                # than have the MISO backlog drop packets.
                self._blocked = True
                self.on_output(True)

    def _unblock(self) -> None:
        if self._blocked:
            self._blocked = False
            if self.on_output is not None:
                self.on_output(False)

    async def drain(self) -> None:
        while self._host is not None and self._host.alive and self.bus.pending > HIGH_WATER:
            self._room.clear()
            await self._room.wait()

    def describe(self) -> str:
        return (
            f"SPI bus on {self.address} (protocol: docs/spi.md)\n"
            f"  client: AsyncClient.open({self.url()!r})"
        )

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        if self._host is not None and self._host.transport is not None:
            self._host.transport.abort()
        await self._server.wait_closed()
        self._server = None
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    # -- the console switch ---------------------------------------------------------------

    def set_active(self, active: bool) -> None:
        """The module's console is SPI (console_enabled=0) from this boot on, or not."""
        self.bus.set_active(active)
        self._after()

    def set_wifi_state(self, fn: Callable[[], int]) -> None:
        self.bus._wifi_state = fn

    # -- machinery ------------------------------------------------------------------------

    def _attach(self, host: _Host) -> None:
        old = self._host
        self._host = host
        if old is not None and old.alive and old.transport is not None:
            self.note(f"SPI host {old.peer} replaced by {host.peer}")
            old.transport.abort()
        self.note(f"SPI host connected ({host.peer})")
        self.bus.host_changed()
        self.bus.take_irq()
        host.send(message(HELLO, bytes((VERSION, self.bus.idle, self.bus.irq))))
        self._after()

    def _detach(self, host: _Host) -> None:
        if host is self._host:
            self._host = None
            self.bus.deselect()
            self.note("SPI host disconnected")
            self._room.set()
            self._unblock()

    def _messages(self, host: _Host, messages: list[tuple[int, bytes]]) -> None:
        bus = self.bus
        for kind, body in messages:
            if kind in (XFER, SELECT_XFER):
                if kind == SELECT_XFER:
                    bus.select()
                miso = bus.transfer(body)
                if kind == SELECT_XFER:
                    bus.deselect()
                host.send(message(MISO, miso))
            elif kind == CS and len(body) == 1 and body[0] in (0, 1):
                if body[0] == 0:
                    bus.select()
                else:
                    bus.deselect()
            elif kind == RESET and len(body) == 1 and body[0] in (0, 1):
                low = body[0] == 0
                if low != bus.in_reset:
                    bus.set_reset(low)
                    self.note("SPI: reset line " + ("low: module held in reset" if low else "high"))
                    if self.on_reset is not None:
                        self.on_reset(low)
            else:
                text = f"bad bus message type 0x{kind:02X} ({len(body)} bytes): see docs/spi.md"
                self.note(f"SPI: {text}")
                host.send(message(FAULT, text.encode()))
                host.flush()
                if host.transport is not None:
                    host.transport.close()
                return
            self._after()

    def _after(self) -> None:
        """Hand complete master packets to the module, IRQ edges and notes to the host."""
        bus = self.bus
        for text in bus.take_notes():
            self.note(text)
        packets = bus.take_packets()
        changes = bus.take_irq()
        host = self._host
        if host is not None and changes:
            host.send(b"".join(message(IRQ, bytes((level,))) for level in changes))
        if packets and self._feed is not None:
            for packet in packets:
                self._feed(packet)
        if bus.pending <= HIGH_WATER:
            self._room.set()
            if self._blocked:
                self._unblock()
