"""The faults of one connected socket: what happens to the bytes its peer sends.

A ``ConnFaults`` sits in a connection's receive path: the protocol hands it each chunk
instead of delivering it. The socket service's ``Conn`` (services/sockets/conn.py) takes it in
directly; every other client's protocol gets it through ``FaultyStream``/``FaultyDatagram``
(services/faults/wrap.py), which the one connection path (services/net/dial.py) puts in
front. Bytes it holds back (delay, bandwidth cap, stall) count against the receiver's room
(``held``), so memory stays bounded: reading from the peer pauses as with a full buffer.

What it calls on the receiver (``conn``): ``deliver(data)``, ``deliver_datagram(data,
*extra)``, ``room()``, ``_pause()``/``_resume()``, ``_paused``, ``transport`` (the real one),
``connected``, ``reason``, ``peer_gone(reason)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atwifi.services.faults import Rule

_RESET = object()  # a queue item: send the RST here, once what came before is delivered


class ConnFaults:
    def __init__(self, rules: list[Rule], where: str, note: Callable[[str], None]) -> None:
        self.rules: list[Rule] = []
        self.where = where
        self.note = note
        self.received = 0  # bytes the peer sent, as this plan saw them
        self.held = 0  # bytes received but not yet delivered to the socket's buffer
        self.stalled = False
        self.finished = False  # reset done: nothing more is delivered
        self._queue: deque[tuple[float, Any]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._last = 0.0  # release time of the last queued chunk (keeps order)
        self._rng: dict[int, random.Random] = {}
        self._at: dict[int, int] = {}  # reset/stall rule id -> byte count where it acts
        self.conn: Any = None
        self.drained: Callable[[], None] | None = None  # called when the queue empties
        for r in rules:
            self.add(r)

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)
        self._rng[rule.id] = random.Random(rule.seed)
        p = rule.params
        if rule.kind == "delay":
            self.note(
                f"fault #{rule.id} delay: {p['ms']:g} ms (+ up to {p['jitter_ms']:g} ms jitter)"
                f" on {self.where}"
            )
        elif rule.kind == "bandwidth":
            self.note(f"fault #{rule.id} bandwidth: {p['bps']:g} bytes/s on {self.where}")
        elif rule.kind == "loss":
            self.note(
                f"fault #{rule.id} loss: datagrams dropped at rate {p['rate']:g} on {self.where}"
            )
        elif rule.kind in ("reset", "stall"):
            self.note(
                f"fault #{rule.id} {rule.kind}: armed after {p['after']} more bytes on {self.where}"
            )
            self._at[rule.id] = self.received + int(p["after"])
        if self.conn is not None and rule.kind in ("reset", "stall"):
            self._check_limits(self.conn)

    def attach(self, conn: Any) -> None:
        """The socket is connected: a reset/stall armed at 0 bytes acts now."""
        self.conn = conn
        self._check_limits(conn)

    def _of(self, kind: str) -> list[Rule]:
        return [r for r in self.rules if r.kind == kind and r.active]

    @property
    def cert(self) -> tuple[int, str] | None:
        """(rule id, "unknown" | "expired") when the TLS verification must see a bad cert."""
        for r in self._of("tls_cert"):
            return r.id, str(r.params["cert"])
        return None

    # -- stream ----------------------------------------------------------------------------
    def stream(self, conn: Any, data: bytes | memoryview) -> None:
        """A chunk from a TCP/TLS peer (at most the room the socket has)."""
        self.conn = conn
        if self.finished:
            return
        data = bytes(data)
        if self.stalled:
            self.held += len(data)
            self.received += len(data)
            return
        start = self.received
        self.received += len(data)
        cut, action = len(data), None
        for r in self.rules:
            if r.kind in ("reset", "stall") and r.active:
                at = self._at[r.id]
                if start <= at <= self.received and at - start <= cut:
                    cut, action = at - start, r
        if action is None:
            self._queue_chunk(conn, data)
            return
        if cut:
            self._queue_chunk(conn, data[:cut])
        self._act(conn, action, data[cut:])

    def _check_limits(self, conn: Any) -> None:
        for r in self.rules:
            if r.kind in ("reset", "stall") and r.active and self._at[r.id] <= self.received:
                self._act(conn, r, b"")
                return

    def _act(self, conn: Any, rule: Rule, rest: bytes) -> None:
        self.rules.remove(rule)
        if rule.kind == "reset":
            self.note(
                f"fault #{rule.id} reset: RST after {self.received - len(rest)} bytes on {self.where}"
            )
            self._enqueue(conn, self._last, _RESET)
            return
        self.note(
            f"fault #{rule.id} stall: {self.where} stops delivering after {self.received - len(rest)} bytes"
        )
        self.stalled = True
        self.held += len(rest)
        t = conn.transport
        if t is not None and not t.is_closing():
            t.pause_reading()

    def _release_time(self, size: int) -> float:
        loop = asyncio.get_running_loop()
        t = loop.time()
        for r in self._of("delay"):
            jitter = r.params["jitter_ms"]
            t += (r.params["ms"] + (self._rng[r.id].uniform(0, jitter) if jitter else 0)) / 1000
        t = max(t, self._last)
        for r in self._of("bandwidth"):
            t += size / r.params["bps"]
        return t

    def _queue_chunk(self, conn: Any, data: bytes) -> None:
        if not data:
            return
        if not self._queue and not self._of("delay") and not self._of("bandwidth"):
            conn.deliver(data)  # nothing to wait for
            return
        when = self._release_time(len(data))
        if not self._queue and when <= asyncio.get_running_loop().time():
            self._last = when
            conn.deliver(data)  # due already (a 0 ms delay): no trip through the timer
            return
        self.held += len(data)
        self._enqueue(conn, when, data)
        if conn.room() <= 0 and not conn._paused:
            self.note(f"faults on {self.where}: {self.held} bytes held, reading paused")
            conn._pause()

    def _enqueue(self, conn: Any, when: float, item: Any) -> None:
        self._last = max(self._last, when)
        self._queue.append((self._last, item))
        if self._timer is None:
            self._arm(conn)

    def _arm(self, conn: Any) -> None:
        if not self._queue:
            self._timer = None
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(self._queue[0][0], self._release, conn)

    def _release(self, conn: Any) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        while self._queue and self._queue[0][0] <= loop.time():
            _, item = self._queue.popleft()
            if item is _RESET:
                self._queue.clear()
                self._reset(conn)
                return
            self.held -= len(item)
            if conn.connected or conn.reason is not None:
                conn.deliver(item)
        if conn.room() > 0:
            conn._resume()
        self._arm(conn)
        if not self._queue and self.drained is not None:
            self.drained()

    def _reset(self, conn: Any) -> None:
        self.finished = True
        self.held = 0
        t = conn.transport
        from atwifi.services.sockets.conn import RST

        conn.peer_gone(RST)
        if t is not None and not t.is_closing():
            sock = t.get_extra_info("socket")
            if sock is not None:
                # linger 0: closing sends a TCP RST to the peer, not a FIN
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            t.abort()

    def rule_gone(self) -> None:
        """A rule was removed: once no delay or bandwidth rule is left, what the plan holds
        back is due now (in order), not at the time the removed rule gave it."""
        if self.conn is None or not self._queue or self._of("delay") or self._of("bandwidth"):
            return
        now = asyncio.get_running_loop().time()
        self._queue = deque((min(t, now), item) for t, item in self._queue)
        self._last = min(self._last, now)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._arm(self.conn)

    # -- datagrams ---------------------------------------------------------------------------
    def datagram(self, conn: Any, data: bytes, *extra: Any) -> None:
        """A datagram from the peer; ``extra`` (e.g. its address) is handed on with it."""
        self.conn = conn
        for r in self._of("loss"):
            if self._rng[r.id].random() < r.params["rate"]:
                self.note(
                    f"fault #{r.id} loss: datagram of {len(data)} bytes dropped on {self.where}"
                )
                return
        if self._of("delay") or self._of("bandwidth"):
            when = self._release_time(len(data))
            self._last = max(self._last, when)
            asyncio.get_running_loop().call_at(self._last, conn.deliver_datagram, data, *extra)
            return
        conn.deliver_datagram(data, *extra)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
