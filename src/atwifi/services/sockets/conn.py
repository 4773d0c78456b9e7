"""One connected socket of the module (a client, or a client of one of its servers).

The module keeps what the peer sent in a buffer of ``capacity`` bytes (``ip_sock_memsize`` x
1500) until the host reads it. TCP/TLS: when the buffer is full the socket stops reading from
the peer, so the peer's TCP window closes and nothing is lost; reading resumes as soon as the
host takes something. UDP: a datagram that does not fit is dropped and said so (WIND:63).

Receiving uses ``asyncio.BufferedProtocol`` with a buffer never larger than the room left, so
the module never holds more than ``capacity`` unread bytes, whatever the peer does.

With the module's heap attached (``reserve_heap``), the socket's control block and TLS
session are charged while it is in the table and its unread bytes as they come and go; the
buffer is then also bounded by the heap's free bytes (a full heap stops reading as a full
buffer does; a datagram that does not fit is dropped).
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from atwifi.services.errors import ServiceError
from atwifi.services.sockets.errors import Closure, Refusal, SockFault

if TYPE_CHECKING:
    from asyncio import BaseTransport

    from atwifi.runtime.heap import Heap
    from atwifi.services.faults.conn import ConnFaults

# How a connection ended, by its short names (services/sockets/errors.py).
FIN, RST, RETRANSMISSIONS, NETWORK, TIMEOUT, UNREACHABLE = (
    Closure.FIN,
    Closure.RST,
    Closure.RETRANSMISSIONS,
    Closure.NETWORK,
    Closure.TIMEOUT,
    Closure.UNREACHABLE,
)

# Heap accounts (atwifi.runtime.heap) and what a TLS session costs the module: mbedTLS's
# context, its record buffers cut to the module's fragment size, the session and the peer's
# certificate while verified (docs/behaviour.md "Memory").
SOCKETS, BUFFERS, TLS_SESSIONS = "sockets", "socket buffers", "TLS sessions"
SOCKET_BLOCK = 512  # a socket's control block (lwIP's PCB, the netconn, the table entry)
TLS_SESSION = 4096
MAX_DATAGRAM = 65507  # IPv4 UDP payload limit: one SOCKW is one datagram
OUT_FLUSH = 16384  # send at once when this much is collected
WRITE_TIMEOUT = 9.0  # drivers wait 10 s for SOCKW/SOCKDW: fail before they give up

# Received bytes land here first (one read at a time on the event loop, so one is enough),
# then are copied into the socket's buffer.
_SCRATCH = bytearray(65536)
_SCRATCH_VIEW = memoryview(_SCRATCH)


class Events(Protocol):
    """What sockets report; the dialect turns each into its indication (WIND)."""

    def pending(self, sid: int | None, cid: int, received: int, unread: int) -> None: ...
    def closed(self, cid: int, reason: Closure) -> None: ...
    def incoming(self, ip: str, port: int, sid: int, cid: int) -> None: ...
    def gone(self, ip: str, port: int, sid: int, cid: int, reason: Closure) -> None: ...
    def dropping(self, sid: int | None, cid: int, dropped: int) -> None: ...
    def refused(self, reason: Refusal) -> None: ...
    def broadcast(self, sid: int, ip: str, port: int, data: bytes) -> None: ...
    def note(self, text: str) -> None: ...


def reason_of(exc: BaseException | None) -> Closure:
    """How a connection ended, from the exception that ended it."""
    if exc is None:
        return FIN
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return RST
    if isinstance(exc, TimeoutError):
        return TIMEOUT
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ECONNREFUSED):
        return UNREACHABLE
    return NETWORK


def take_front(buf: bytearray, n: int) -> tuple[bytes, int]:
    """Up to ``n`` bytes (0: all) off the front of ``buf``; returns (them, len before)."""
    avail = len(buf)
    if n <= 0 or n >= avail:
        data = bytes(buf)
        buf.clear()
        return data, avail
    with memoryview(buf) as mv:
        data = bytes(mv[:n])
    del buf[:n]  # O(1) in CPython: the start pointer moves
    return data, avail


class Conn:
    """A socket's state: its buffer, its transport, whether the peer is still there."""

    def __init__(
        self,
        events: Events,
        sid: int | None,
        cid: int,
        kind: str,
        capacity: int,
        threshold: Callable[[], int],
    ) -> None:
        self.events = events
        self.sid = sid  # server id, None for a client socket
        self.cid = cid
        self.kind = kind  # "t", "u", "s" (client); "t", "u", "s1", "s2" (server side)
        self.capacity = max(1, capacity)
        self._threshold = threshold  # percent of capacity before WIND:55 (ip_sock_threshold)
        self.buf = bytearray()
        self.transport: BaseTransport | None = None
        self.ip = ""  # the peer, as the module shows it
        self.port = 0
        self.connected = False
        self.reason: Closure | None = None  # set once the peer has gone
        self.received = 0
        self.live = False  # announced to the host: events flow only once it knows the id
        self.on_gone: Callable[[Conn], None] | None = None  # server-side bookkeeping
        self.udp_addr: tuple[str, int] | None = None  # UDP server client: where replies go
        self._paused = False
        self._since = 0  # bytes arrived since the last WIND:55 (below the threshold)
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed_by_host = False
        self._out: bytearray | None = None  # bytes written by the host, not yet sent
        self.faults: ConnFaults | None = None  # faults on demand (services/faults), if any
        # What this socket holds of the module's heap (its buffer, a TLS session), given
        # back once when the socket goes (release_heap).
        self.heap: Heap | None = None
        self.charges: tuple[tuple[str, int], ...] = ()
        self._charged = 0  # bytes of buf charged to the heap

    # -- the module's heap ------------------------------------------------------------
    def reserve_heap(self, heap: Heap | None, tls: bool) -> bool:
        """Charge the socket's control block and, for TLS, a session; False if the heap has
        no room (nothing charged then). Received bytes are charged as they arrive."""
        if heap is None:
            return True
        charges = [(SOCKETS, SOCKET_BLOCK)] + ([(TLS_SESSIONS, TLS_SESSION)] if tls else [])
        done: list[tuple[str, int]] = []
        for account, n in charges:
            if not heap.reserve(account, n):
                for a, m in done:
                    heap.release(a, m)
                return False
            done.append((account, n))
        self.heap, self.charges = heap, tuple(done)
        return True

    def release_heap(self) -> None:
        heap, self.heap = self.heap, None
        if heap is not None:
            for account, n in self.charges:
                heap.release(account, n)
            heap.release(BUFFERS, self._charged)
            self.charges, self._charged = (), 0

    def _charge_buf(self) -> None:
        # At every change of the buffer's size (an arrival, a read): what it holds now.
        heap = self.heap
        if heap is not None:
            n = len(self.buf)
            if n > self._charged:
                heap.charge(BUFFERS, n - self._charged)
            else:
                heap.release(BUFFERS, self._charged - n)
            self._charged = n

    # -- state ---------------------------------------------------------------------------
    def unread(self) -> int:
        return len(self.buf)

    def room(self) -> int:
        held = self.faults.held if self.faults is not None else 0  # held back by a fault
        room = self.capacity - len(self.buf) - held
        heap = self.heap
        if heap is not None:  # the socket's buffer is the module's heap: no more than it has
            free = heap.total - heap.used
            if free < room:
                return max(0, free)
        return room

    def go_live(self) -> None:
        """The host now knows this socket: report what happened before it did."""
        self.live = True
        if self.buf:
            self._announce(force=True)
        if self.reason is not None:
            self._report_gone()

    # -- data from the peer --------------------------------------------------------------
    def deliver(self, data: bytes | memoryview) -> None:
        """Stream bytes from the peer (never more than ``room()``)."""
        n = len(data)
        self.buf += data
        self.received += n
        self._since += n
        if self.heap is not None:
            self._charge_buf()
            if self.room() <= 0:
                self._pause()  # the heap is full: the peer waits, as for a full buffer
        if len(self.buf) >= self.capacity:
            self._pause()
        self._announce()

    def deliver_datagram(self, data: bytes) -> bool:
        """One datagram; False (and WIND:63) if it does not fit in the buffer."""
        n = len(data)
        if n > self.room():
            if self.live:
                self.events.dropping(self.sid, self.cid, n)
            return False
        self.buf += data
        self.received += n
        self._since += n
        if self.heap is not None:
            self._charge_buf()
        self._announce()
        return True

    def _threshold_bytes(self) -> int:
        pct = self._threshold()
        if pct <= 0:
            return 1
        return min(self.capacity, max(1, self.capacity * pct // 100))

    def _announce(self, force: bool = False) -> None:
        # A WIND:55 for every arrival once the unread total reaches ip_sock_threshold:
        # "<received since the last one>:<unread>" (three 10-byte segments: 10:10, 10:20,
        # 10:30). Nothing waits for the host to read first, so a WIND the host masked never
        # holds back the next ones. A flood cannot flood the console: arrivals stop while
        # the buffer is full, and each read lets in one more.
        if not self.live or self._quiet:
            return
        if len(self.buf) < self._threshold_bytes() and not force:
            return
        self.events.pending(self.sid, self.cid, self._since, len(self.buf))
        self._since = 0

    def _catch_up(self) -> None:
        # What the peer sent and the host's kernel already holds is what has arrived: a
        # module's stack has it as it comes, while our event loop, busy with the console's
        # burst, has not run its read yet. One non-blocking read of the transport's own
        # (its EOF and errors handled as the loop would), never past the room; unannounced,
        # as the host reads it now. Plain TCP on asyncio's transport only.
        t = self.transport
        pull = getattr(t, "_read_ready", None)
        if (
            pull is None
            or self.kind == "u"
            or self._paused
            or not self.connected
            or t.is_closing()  # type: ignore[union-attr]
            or (self.faults is not None and self.faults.stalled)
            or self.room() <= 0
        ):
            return
        self._quiet = True
        try:
            pull()
        finally:
            self._quiet = False

    _quiet = False  # arrivals now are not announced (the host is reading them)
    _loop: asyncio.AbstractEventLoop | None = None  # the transport's, once attached

    def _pause(self) -> None:
        t = self.transport
        if not self._paused and t is not None and not t.is_closing():
            self._paused = True
            t.pause_reading()  # type: ignore[attr-defined]

    def _resume(self) -> None:
        t = self.transport
        if self.faults is not None and self.faults.stalled:
            return  # a stall fault: the peer's bytes stay where they are
        if self._paused and t is not None and not t.is_closing():
            self._paused = False
            t.resume_reading()  # type: ignore[attr-defined]

    # -- the host reads ------------------------------------------------------------------
    def read(self, n: int = 0) -> tuple[bytes, int]:
        """Take up to ``n`` bytes (0: all); returns (data, unread before the read)."""
        if self._out is not None:
            self._flush_out()  # what the host wrote goes out before it reads the answer
        self._catch_up()
        data, avail = take_front(self.buf, n)
        n = len(data)
        if self.heap is not None:
            self._charge_buf()
        # What was read needs no announcing: "received" never exceeds "unread".
        self._since = min(self._since, len(self.buf))
        if self.buf and n:
            # A partial read: say what is left, or a host that reads in pieces on each
            # WIND:55 would wait forever for bytes that already arrived.
            self._announce(force=True)
        if len(self.buf) < self.capacity:
            self._resume()
        return data, avail

    # -- the host writes -----------------------------------------------------------------
    async def write(self, data: bytes) -> None:
        rest = self.write_now(data)
        if rest is not None:
            await rest

    def write_now(self, data: bytes) -> Coroutine[Any, Any, None] | None:
        """``write()`` without a coroutine when nothing has to wait (the usual case): None
        once the bytes are queued, or a coroutine that waits for room in the send buffer."""
        t = self.transport
        if not self.connected or t is None or t.is_closing():
            raise ServiceError(SockFault.NOT_CONNECTED, "peer has closed the socket")
        if not data:
            return None
        try:
            if self.kind == "u":
                if len(data) > MAX_DATAGRAM:
                    raise ServiceError(
                        SockFault.WRITE_FAILED, f"{len(data)} bytes do not fit in one UDP datagram"
                    )
                if self.udp_addr is not None:
                    t.sendto(data, self.udp_addr)  # type: ignore[attr-defined]
                else:
                    t.sendto(data)  # type: ignore[attr-defined]
                return None
            out = self._out
            if out is not None and len(out) + len(data) < OUT_FLUSH:
                out += data  # the usual case, inline: a burst of SOCKWs being collected
            else:
                self._queue_out(t, data)
        except (OSError, RuntimeError, ValueError) as e:
            raise ServiceError(SockFault.WRITE_FAILED, str(e)) from None
        if not self._writable.is_set():
            return self._wait_writable()
        return None

    def write_each(self, blocks: list[bytes]) -> tuple[int, Coroutine[Any, Any, None] | None]:
        """``write_now()`` for each block in turn (a burst of writes): how many were taken
        and, if the last of them waits for room, that wait. Stops before a block that
        fails, leaving it to the caller to say why."""
        write = self.write_now
        i, n = 0, len(blocks)
        while i < n:
            out = self._out
            if out is not None and self.kind != "u" and self.connected and self._writable.is_set():
                # The blocks that write_now() would only append (no send before the next
                # flush, so none of them waits): appended at once. Bursts have one length.
                k = min(n - i, (OUT_FLUSH - 1 - len(out)) // max(1, len(blocks[i])))
                if k > 0:
                    out += b"".join(blocks[i : i + k])
                    i += k
                    continue
            try:
                rest = write(blocks[i])
            except ServiceError:
                return i, None
            i += 1
            if rest is not None:
                return i, rest
        return n, None

    async def _wait_writable(self) -> None:
        try:
            await asyncio.wait_for(self._writable.wait(), WRITE_TIMEOUT)
        except TimeoutError:
            raise ServiceError(
                SockFault.WRITE_FAILED, "peer does not read: send buffer still full"
            ) from None
        if not self.connected and self.reason not in (None, FIN):
            raise ServiceError(SockFault.WRITE_FAILED, "connection lost while sending")

    def _queue_out(self, t: BaseTransport, data: bytes) -> None:
        # Commands that arrive together (a driver pipelining SOCKWs) leave in one send: the
        # bytes are collected and written once the console has handled what it has, like
        # the module's TCP stack filling a segment. Large writes go at once.
        if self._out is None:
            if len(data) >= OUT_FLUSH:
                t.write(data)  # type: ignore[attr-defined]
                return
            self._out = bytearray(data)
            (self._loop or asyncio.get_running_loop()).call_soon(self._flush_out)
        else:
            self._out += data
            if len(self._out) >= OUT_FLUSH:
                self._flush_out()

    def _flush_out(self) -> None:
        out, self._out = self._out, None
        t = self.transport
        if out and t is not None and not t.is_closing():
            t.write(out)  # type: ignore[attr-defined]  (ours no more: no copy needed)

    # -- life ----------------------------------------------------------------------------
    def attach(self, transport: BaseTransport) -> None:
        self.transport = transport
        # Kept: get_running_loop() costs a getpid() system call on Python 3.11.
        self._loop = asyncio.get_running_loop()
        self.connected = True
        peer = transport.get_extra_info("peername")
        if peer and not self.ip:
            self.ip, self.port = peer[0], peer[1]

    def peer_gone(self, reason: Closure) -> None:
        if self.reason is not None or self._closed_by_host:
            return
        self.reason = reason
        self.connected = False
        self._writable.set()
        if self.live:
            self._report_gone()

    def _report_gone(self) -> None:
        assert self.reason is not None
        if self.sid is None:
            self.events.closed(self.cid, self.reason)
        else:
            self.events.gone(self.ip, self.port, self.sid, self.cid, self.reason)
        if self.on_gone is not None:
            self.on_gone(self)

    def close(self, abort: bool = False) -> None:
        """The host closes (SOCKC/SOCKDC) or the module resets: no indication."""
        self._closed_by_host = True
        self.release_heap()
        self.connected = False
        if self.faults is not None:
            self.faults.close()
        self._writable.set()
        t = self.transport
        if t is not None and self.udp_addr is None:  # a UDP server's endpoint is shared
            if not abort:
                self._flush_out()
            if abort:
                t.abort()  # type: ignore[attr-defined]
            else:
                t.close()


class StreamProtocol(asyncio.BufferedProtocol):
    """TCP/TLS receive path of one Conn."""

    def __init__(self, conn: Conn | None = None) -> None:
        self.conn = conn

    def connection_made(self, transport: BaseTransport) -> None:  # type: ignore[override]
        assert self.conn is not None
        self.conn.attach(transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        assert self.conn is not None
        room = self.conn.room()
        # room is never 0 here: reading is paused as soon as the buffer is full.
        return _SCRATCH_VIEW[: max(1, min(room, len(_SCRATCH)))]

    def buffer_updated(self, nbytes: int) -> None:
        conn = self.conn
        assert conn is not None
        if conn.faults is None:
            conn.deliver(_SCRATCH_VIEW[:nbytes])
        else:
            conn.faults.stream(conn, _SCRATCH_VIEW[:nbytes])

    def eof_received(self) -> bool:
        if self.conn is not None:
            self.conn.peer_gone(FIN)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.conn.peer_gone(reason_of(exc))

    def pause_writing(self) -> None:
        if self.conn is not None:
            self.conn._writable.clear()

    def resume_writing(self) -> None:
        if self.conn is not None:
            self.conn._writable.set()


class DatagramProtocol(asyncio.DatagramProtocol):
    """A UDP client socket: datagrams from the one peer it is connected to."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    def connection_made(self, transport: BaseTransport) -> None:  # type: ignore[override]
        self.conn.attach(transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.conn.faults is None:
            self.conn.deliver_datagram(data)
        else:
            self.conn.faults.datagram(self.conn, data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and friends: UDP has no connection to lose; note it only.
        self.conn.events.note(f"socket {self.conn.cid}: UDP error {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.conn.peer_gone(reason_of(exc))
