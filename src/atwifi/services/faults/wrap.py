"""Faults in front of any client's own protocol: the receive path of HTTP, WebSocket, MQTT,
SMTP and TFTP connections runs through a ``ConnFaults`` plan as the socket service's does.

``FaultyStream`` is the protocol the transport talks to; the client's protocol (``inner``)
sees a ``_Proxy`` of the transport, so its own flow control (``pause_reading``) still works
and combines with the plan's (a stall, a full hold). What the peer sends goes through the
plan (reset after N bytes, stall, delay/jitter, bandwidth) before the inner protocol gets it;
a reset ends the connection with a real RST and the inner protocol sees
``ConnectionResetError``. The end of the stream (EOF, a close) reaches the inner protocol
only after the bytes the plan still holds, in order.

``FaultyDatagram`` does the same for a datagram endpoint (loss, delay, bandwidth).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atwifi.services.faults.conn import ConnFaults

HOLD = 256 * 1024  # bytes a plan may hold back for a client before reading from the peer pauses

_NOTHING = object()


class _Proxy:
    """The transport as the inner protocol sees it: everything goes to the real transport
    but reading, which is paused while either the inner protocol or the plan wants it."""

    def __init__(self, real: Any, owner: FaultyStream) -> None:
        self._real = real
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def pause_reading(self) -> None:
        self._owner.inner_paused = True
        self._owner.update_reading()

    def resume_reading(self) -> None:
        self._owner.inner_paused = False
        self._owner.inner_resumed()

    def is_reading(self) -> bool:
        return not self._owner.inner_paused

    def close(self) -> None:
        self._owner.by_inner = True
        self._real.close()

    def abort(self) -> None:
        self._owner.by_inner = True
        self._real.abort()

    def set_protocol(self, protocol: Any) -> None:  # loop.start_tls hands the stream on
        self._owner.inner = protocol

    def get_protocol(self) -> Any:
        return self._owner.inner


class FaultyStream(asyncio.Protocol):
    """A TCP/TLS connection's protocol with a fault plan in front of ``inner``."""

    def __init__(self, inner: Any, plan: ConnFaults) -> None:
        self.inner = inner
        self.plan = plan
        plan.drained = self._drained
        self.transport: Any = None  # the real one (the plan pauses and aborts it)
        self.proxy: _Proxy | None = None
        self.inner_paused = False
        self._paused = False  # the plan holds too much
        self._reading = True
        self.connected = False
        self.reason: Any = None  # a reset done by the plan
        self._end: Any = _NOTHING  # "eof" or the exception of connection_lost, held back
        self._finished = False
        self.by_inner = False  # the inner protocol closed: nothing waits for it
        # Bytes due to the inner protocol that it has no room for yet: a buffered protocol
        # takes what its get_buffer() sizes and pauses reading when full, as it would from
        # the transport; the rest waits here, reading from the peer paused meanwhile.
        self._pending = bytearray()

    # -- what the plan calls (its receiver) ----------------------------------------------
    def room(self) -> int:
        return HOLD - self.plan.held - len(self._pending)

    def _pause(self) -> None:
        self._paused = True
        self.update_reading()

    def _resume(self) -> None:
        self._paused = False
        self.update_reading()

    def deliver(self, data: bytes | memoryview) -> None:
        if self._finished or self.by_inner:
            return
        if self._pending or self.inner_paused:
            self._pending += data  # in order, after what waits already
            self.update_reading()
            return
        self._give(bytes(data))

    def _give(self, data: bytes) -> None:
        inner = self.inner
        if not isinstance(inner, asyncio.BufferedProtocol):
            inner.data_received(data)
            return
        view = memoryview(data)
        while view and not self.inner_paused and not self._finished:
            buf = inner.get_buffer(len(view))
            n = min(len(buf), len(view))
            if n <= 0:
                raise RuntimeError("get_buffer() returned an empty buffer")
            buf[:n] = view[:n]
            inner.buffer_updated(n)
            view = view[n:]
        if view:
            self._pending += view
            self.update_reading()

    def inner_resumed(self) -> None:
        """The inner protocol has room again: what waits for it first, then the peer."""
        while self._pending and not self.inner_paused and not self._finished:
            data = bytes(self._pending)
            self._pending.clear()
            self._give(data)
        if self._paused and self.room() > 0:
            self._paused = False  # the plan's hold, counted with _pending, has room again
        if not self._pending:
            self._drained()
        self.update_reading()

    def deliver_datagram(self, data: bytes, *extra: Any) -> None:  # pragma: no cover
        raise RuntimeError("a stream has no datagrams")

    def peer_gone(self, reason: Any) -> None:
        """The plan reset the connection: the inner protocol sees a reset."""
        self.reason = reason

    # -- reading -------------------------------------------------------------------------
    def update_reading(self) -> None:
        t = self.transport
        if t is None or t.is_closing():
            return
        want = not (self.inner_paused or self._paused or self.plan.stalled or self._pending)
        if want and not self._reading:
            self._reading = True
            t.resume_reading()
        elif not want and self._reading:
            self._reading = False
            t.pause_reading()

    # -- the transport's calls -----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        self.transport = transport
        self.connected = True
        self.proxy = _Proxy(transport, self)
        self.inner.connection_made(self.proxy)

    def data_received(self, data: bytes) -> None:
        self.plan.stream(self, data)

    def eof_received(self) -> bool | None:
        if self.plan.held or self.plan._queue or self._pending:
            self._end = "eof"  # after what the plan and _pending still hold
            return True
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.reason is not None:
            exc = ConnectionResetError(104, "connection reset (fault)")
        if not self.by_inner and (
            self._pending or (exc is None and self.plan._queue and not self.plan.stalled)
        ):
            self._end = exc  # after what the plan and _pending still hold
            return
        self._finish(exc)

    def _drained(self) -> None:
        if self._pending or self._end is _NOTHING:
            return
        end, self._end = self._end, _NOTHING
        if end == "eof":
            keep = self.inner.eof_received()
            t = self.transport
            if not keep and t is not None and not t.is_closing():
                t.close()
            return
        self._finish(end)

    def _finish(self, exc: Exception | None) -> None:
        if self._finished:
            return
        self._end = _NOTHING
        self._finished = True
        self.connected = False
        self.plan.close()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class FaultyDatagram(asyncio.DatagramProtocol):
    """A datagram endpoint's protocol with a fault plan in front of ``inner``."""

    def __init__(self, inner: Any, plan: ConnFaults) -> None:
        self.inner = inner
        self.plan = plan
        self.transport: Any = None
        self.connected = False
        self.reason: Any = None
        self._paused = False

    def room(self) -> int:
        return HOLD - self.plan.held

    def _pause(self) -> None:
        return None

    def _resume(self) -> None:
        return None

    def deliver_datagram(self, data: bytes, *extra: Any) -> None:
        if self.connected:  # a delayed datagram after the endpoint closed: gone
            self.inner.datagram_received(data, *extra)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        self.transport = transport
        self.connected = True
        self.inner.connection_made(transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.plan.datagram(self, data, addr)

    def error_received(self, exc: Exception) -> None:
        self.inner.error_received(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connected = False
        self.plan.close()
        self.inner.connection_lost(exc)
