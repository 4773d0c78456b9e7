"""Fixtures for the IP services: a real SNTP server on 127.0.0.1, started and stopped by the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from netsupport import SntpServer, start_sntp_server


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
