"""Support for the IP services tests: a real, small SNTP server (RFC 4330 server side,
loopback only) and its fixtures.
Import the fixtures by name."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from atwifi.services.net.sntp import PACKET, to_ntp


@dataclass
class SntpServer:
    """Answers every mode-3 request with ``now`` (unix seconds), stratum 1, refid LOCL.
    ``kiss`` turns it into a server that sends kiss-of-death (stratum 0, RATE)."""

    now: float
    port: int = 0
    kiss: bool = False
    requests: list[bytes] = field(default_factory=list)
    got_request: asyncio.Event = field(default_factory=asyncio.Event)

    def reply(self, data: bytes) -> bytes | None:
        if len(data) < PACKET.size or data[0] & 7 != 3:
            return None
        self.requests.append(data)
        self.got_request.set()
        version = (data[0] >> 3) & 7
        transmit = struct.unpack_from("!Q", data, 40)[0]
        stamp = to_ntp(self.now)
        if self.kiss:
            return PACKET.pack(
                (3 << 6) | (version << 3) | 4, 0, 0, -20, 0, 0, b"RATE", 0, transmit, 0, 0
            )
        return PACKET.pack(
            (version << 3) | 4, 1, 6, -20, 0, 0, b"LOCL", stamp, transmit, stamp, stamp
        )


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, server: SntpServer) -> None:
        self.server = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        out = self.server.reply(data)
        if out is not None:
            self.transport.sendto(out, addr)  # type: ignore[attr-defined]


# 2031-02-03 04:05:06 UTC, a Monday: far from the host's clock, so a pass means the server's
# time was used.
FIXED_TIME = 1_927_857_906.0


async def start_sntp_server(
    now: float = FIXED_TIME,
) -> tuple[SntpServer, asyncio.DatagramTransport]:
    loop = asyncio.get_running_loop()
    server = SntpServer(now=now)
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Proto(server), local_addr=("127.0.0.1", 0)
    )
    server.port = transport.get_extra_info("sockname")[1]
    return server, transport


def has_ipv6_loopback() -> bool:
    """Some CI containers run without IPv6; the ::1 tests skip there."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")


@pytest.fixture
async def sntp_server() -> AsyncIterator[SntpServer]:
    server, transport = await start_sntp_server()
    try:
        yield server
    finally:
        transport.close()


@pytest.fixture
async def closed_udp_port() -> int:
    """A loopback UDP port with nobody listening (bound, then released)."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    transport.close()
    return port
