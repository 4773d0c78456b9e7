"""One host at a time on a listening socket, with a UART-like backlog while nobody listens.

Shared by the raw TCP and the RFC 2217 transports, which differ only in how bytes are framed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import cast

from atwifi.transports.base import BACKLOG_LIMIT, HIGH_WATER, Backlog, Transport, miniterm

CONSOLE_RCVBUF = 256 * 1024  # the kernel's share of a host's unread input (it doubles it)


def format_hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# Why a host's input is not read (HostConnection.stop_reading): bits.
OUTPUT_FULL = 1  # its output is over the high-water mark (it does not read)
LINE_FULL = 2  # the paced line's receive side is full (transports/line.py)
CONSOLE_BUSY = 4  # the console has more of its input waiting than it keeps (runtime)

# Bytes one read may take from the host (asyncio's own read size for a plain Protocol).
READ_SIZE = 256 * 1024


class HostConnection(asyncio.BufferedProtocol):
    """One accepted host. The owner decides what its bytes mean.

    A BufferedProtocol: every read lands in one buffer of its own, and the owner gets an
    exact-size copy. (A plain Protocol's transport allocates a fresh 256 KiB buffer for every
    read and shrinks it: for a console of short lines that costs as much as the command;
    benchmarks/roundtrip.py.)"""

    def __init__(self, owner: SocketHostTransport) -> None:
        self.owner = owner
        self._rbuf = memoryview(bytearray(READ_SIZE))
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.paused = False
        self._resumed = asyncio.Event()
        self._resumed.set()
        # While held, output goes to the owner's backlog instead of the socket (RFC 2217 keeps
        # it until the host has finished opening the port; flow control suspends it).
        self.held = False
        # Why the host's bytes are not read now (a bit each): its output is full, the line
        # (transports/line.py) holds it, or the console is busy with what it has. Reading
        # resumes when no reason is left.
        self._stopped = 0

    @property
    def alive(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (not isinstance(transport, asyncio.Transport): uvloop's transports are not
        # subclasses of it, and they have every method used here)
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # A fixed receive buffer: left to autotune, the kernel takes up to tcp_rmem's
            # maximum (32 MiB here) of a host's flood the module is not reading, and the
            # host never feels the backpressure a UART's small FIFO gives.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CONSOLE_RCVBUF)
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer = format_hostport(str(peer[0]), int(peer[1]))
        self.owner._attach(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._rbuf

    def buffer_updated(self, nbytes: int) -> None:
        self.owner._received(self, self._rbuf[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        """Bytes from the host (a loop without BufferedProtocol support calls this)."""
        self.owner._received(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._resumed.set()
        self.owner._detach(self)

    def pause_writing(self) -> None:
        # The host does not read: stop reading what it sends, or the replies to it would pile
        # up here without bound (the natural backpressure: its writes block in turn).
        self.paused = True
        self._resumed.clear()
        self.stop_reading(OUTPUT_FULL)
        self.owner._output(self, True)

    def resume_writing(self) -> None:
        self.paused = False
        self._resumed.set()
        self.start_reading(OUTPUT_FULL)
        self.owner._output(self, False)

    def stop_reading(self, reason: int) -> None:
        was = self._stopped
        self._stopped |= reason
        t = self.transport
        if not was and t is not None and not t.is_closing():
            t.pause_reading()

    def start_reading(self, reason: int) -> None:
        was = self._stopped
        self._stopped &= ~reason
        t = self.transport
        if was and not self._stopped and t is not None and not t.is_closing():
            t.resume_reading()

    def send_raw(self, data: bytes) -> None:
        if self.alive:
            assert self.transport is not None
            self.transport.write(data)

    async def wait_resumed(self) -> None:
        await self._resumed.wait()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class SocketHostTransport(Transport):
    """Listens on host:port; a new connection replaces the current one."""

    kind = "tcp"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._feed: Callable[[bytes], None] | None = None
        self._conn: HostConnection | None = None
        self._backlog = Backlog(BACKLOG_LIMIT)
        self._dropping = False

    # -- hooks for subclasses -------------------------------------------------------------------

    def _encode(self, data: bytes) -> bytes:
        """Frame module output for the wire."""
        return data

    def _connected(self, conn: HostConnection) -> None:
        """A host arrived; it may set conn.held to keep output back for a while."""

    def _data(self, conn: HostConnection, data: bytes) -> None:
        """Bytes from the host."""
        self._deliver(data)

    def _disconnected(self, conn: HostConnection) -> None:
        """The host left (its state may be dropped)."""

    # -- transport API --------------------------------------------------------------------------

    async def start(self, feed: Callable[[bytes], None]) -> None:
        self._feed = feed
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: HostConnection(self), self.host, self.port, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    def endpoints(self) -> list[tuple[str, int]]:
        return [(self.host, self.port)]

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.alive

    @property
    def pending(self) -> int:
        """Bytes of module output waiting for a (ready) host."""
        return len(self._backlog)

    @property
    def backpressured(self) -> bool:
        """True while the connected host takes bytes slower than the module writes them."""
        return self.connected and self._conn is not None and self._conn.paused

    def write(self, data: bytes) -> None:
        if not data:
            return
        conn = self._conn
        if conn is not None and conn.alive and not conn.held:
            conn.send_raw(self._encode(data))
            return
        if self._backlog.append(data) and not self._dropping:
            self._dropping = True
            why = "host not ready" if conn is not None else "no host"
            self.note(f"{why}: keeping the newest {BACKLOG_LIMIT} bytes of output")

    async def drain(self) -> None:
        conn = self._conn
        while conn is not None and conn.alive and conn.paused and conn is self._conn:
            await conn.wait_resumed()

    def describe(self) -> str:
        where = format_hostport(self.host, self.port)
        return (
            f"console on raw TCP {where}\n"
            f"  connect: socat -,raw,echo=0,escape=0x1d TCP:{where}   (Ctrl-] quits)\n"
            f"       or: {miniterm(f'socket://{where}')}"
        )

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        if self._conn is not None:
            self._conn.abort()
        await self._server.wait_closed()
        self._server = None

    # -- shared machinery -----------------------------------------------------------------------

    def _deliver(self, data: bytes) -> None:
        if data and self._feed is not None:
            self._feed(data)

    def release(self, conn: HostConnection) -> None:
        """Let output flow to conn: first what waited in the backlog, then live output."""
        conn.held = False
        if conn is not self._conn or not conn.alive:
            return
        if self._dropping:
            self._dropping = False
            self.note(f"dropped {self._backlog.take_dropped()} bytes: no host")
        pending = self._backlog.take()
        if pending:
            conn.send_raw(self._encode(pending))

    def pause_input(self) -> None:
        """Stop taking host bytes (the line is full): TCP pushes back on the host."""
        conn = self._conn
        if conn is not None and conn.alive:
            conn.stop_reading(LINE_FULL)

    def resume_input(self) -> None:
        conn = self._conn
        if conn is not None and conn.alive:
            conn.start_reading(LINE_FULL)

    def hold_input(self, held: bool) -> None:
        """The console is busy with what it has (True) or ready again (False)."""
        conn = self._conn
        if conn is not None and conn.alive:
            if held:
                conn.stop_reading(CONSOLE_BUSY)
            else:
                conn.start_reading(CONSOLE_BUSY)

    def hold(self, conn: HostConnection) -> None:
        conn.held = True

    def purge_output(self) -> int:
        """Forget module output that has not been sent yet."""
        return self._backlog.clear()

    def _attach(self, conn: HostConnection) -> None:
        old = self._conn
        self._conn = conn
        if old is not None and old.alive:
            self.note(f"host {old.peer} replaced by {conn.peer}")
            old.abort()
        if old is not None and old.paused and self.on_output is not None:
            self.on_output(False)  # the new host starts with an empty queue
        self.note(f"host connected from {conn.peer}")
        if self.on_new_host is not None:
            self.on_new_host()  # a clean console: nothing of the last host's half-typed line
        self._connected(conn)
        if not conn.held:
            self.release(conn)

    def _output(self, conn: HostConnection, blocked: bool) -> None:
        if conn is self._conn and self.on_output is not None:
            self.on_output(blocked)

    def _received(self, conn: HostConnection, data: bytes) -> None:
        if conn is self._conn:
            self._data(conn, data)

    def _detach(self, conn: HostConnection) -> None:
        self._disconnected(conn)
        if conn is self._conn:
            self._conn = None
            self.note(f"host {conn.peer} disconnected")
            if conn.paused and self.on_output is not None:
                self.on_output(False)  # output goes to the backlog again
