"""The client library's WebSocket objects against the virtual module over a TCP console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atwifi.client import AsyncClient, WebSocketClientError
from atwifi.spwf04.device import Device, Options
from ws_peers import ws_server


class Console:
    """The in-process module behind one TCP console connection on 127.0.0.1."""

    def __init__(self, state: Path) -> None:
        self.device = Device(Options(state_dir=state))
        self.device.attach(self._write)
        self.writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()

    def _write(self, data: bytes) -> None:
        if self.writer is not None:
            self.writer.write(data)

    async def _serve(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.writer = w
        self.connected.set()
        while data := await r.read(65536):
            self.device.feed(data)

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"socket://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.server.close()
        await self.device.shutdown()


@pytest.fixture
async def client(tmp_path) -> AsyncIterator[AsyncClient]:
    console = Console(tmp_path / "state")
    url = await console.start()
    c = await AsyncClient.open(url, timeout=10)
    await asyncio.wait_for(console.connected.wait(), 10)
    await console.device.power_on()
    await c.wait_wind(32, timeout=10)
    await c.wait_wind(24, timeout=30)
    await c.command("AT+S.SCFG=console_echo,0")
    yield c
    await c.close()
    await console.close()


async def test_messages_whole_and_fragmented(client):
    async with ws_server() as peer:
        ws = await client.ws_open("127.0.0.1", peer.port, "/echo")
        await ws.send("hello")
        assert await ws.recv_message(timeout=10) == b"hello"
        big = ("é" * 1000).encode()  # 2000 bytes: sent as fragments, echoed as one message
        await ws.send(big)
        await ws.send(b"\x00" * 3, binary=True)
        assert await ws.recv_message(timeout=10) == big
        assert await ws.recv_message(timeout=10) == b"\x00" * 3
        assert len(await client.ws_list()) == 1
        await ws.close()
        assert await client.ws_list() == []


async def test_server_close_and_errors(client):
    async with ws_server() as peer:
        ws = await client.ws_open("127.0.0.1", peer.port, "/close/1001")
        await ws.send("bye")
        await ws.wait_closed(timeout=10)
        assert await ws.recv(timeout=10) == b""
        await ws.close()
        with pytest.raises(WebSocketClientError) as e:
            await client.ws_open("127.0.0.1", peer.port, "/reject/403")
        assert e.value.number == 4
