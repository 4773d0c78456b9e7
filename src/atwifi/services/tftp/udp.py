"""A UDP endpoint that hands datagrams to a coroutine, with a bounded queue (floods drop)."""

from __future__ import annotations

import asyncio
import socket
from collections import deque

QUEUE = 64  # datagrams waiting; more are dropped (a TFTP peer sends one at a time)

Addr = tuple[str, int]


class Endpoint(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self._queue: deque[tuple[bytes, Addr]] = deque()
        self._more = asyncio.Event()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(self._queue) < QUEUE:
            self._queue.append((data, (addr[0], addr[1])))
            self._more.set()

    def error_received(self, exc: Exception) -> None:
        # ICMP errors on an unconnected socket say little; the retransmission timer decides.
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._more.set()

    async def recv(self, timeout: float) -> tuple[bytes, Addr] | None:
        """The next datagram, None when ``timeout`` passes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._queue:
            if self.closed:
                return None
            left = deadline - loop.time()
            if left <= 0:
                return None
            self._more.clear()
            try:
                async with asyncio.timeout(left):
                    await self._more.wait()
            except TimeoutError:
                return None
        return self._queue.popleft()

    def send(self, data: bytes, addr: Addr) -> None:
        if self.transport is not None and not self.closed:
            self.transport.sendto(data, addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])


async def open_endpoint(host: str, port: int = 0) -> Endpoint:
    """A UDP endpoint bound to ``host:port`` (port 0: a free one)."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    _, proto = await loop.create_datagram_endpoint(Endpoint, local_addr=(host, port), family=family)
    return proto


def wildcard_for(ip: str) -> str:
    return "::" if ":" in ip else "0.0.0.0"
