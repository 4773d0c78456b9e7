"""The dialect-free WebSocket service against a real server (websockets on 127.0.0.1)."""

from __future__ import annotations

import asyncio

import pytest

from atwifi.services.errors import ServiceError
from atwifi.services.websocket import SLOTS, WebSockets, WsFault, close_code
from ws_peers import free_port, ws_server


class Events:
    def __init__(self) -> None:
        self.reports: list[tuple[int, bool, bool, int, int]] = []
        self.closes: list[tuple[int, int | None, str]] = []
        self.notes: list[str] = []

    def data(self, cid: int, last_frame: bool, last_frag: bool, received: int, unread: int) -> None:
        self.reports.append((cid, last_frame, last_frag, received, unread))

    def closed(self, cid: int, code: int | None, reason: str) -> None:
        self.closes.append((cid, code, reason))

    def note(self, text: str) -> None:
        self.notes.append(text)


async def test_echo_text_and_binary_as_a_byte_stream() -> None:
    ev = Events()
    async with ws_server() as peer:
        ws = WebSockets(ev)
        c = await ws.open("127.0.0.1", peer.port, "/echo")
        assert (c.id, c.connected, ws.free_slots()) == (0, True, SLOTS - 1)
        await c.send("héllo".encode())
        assert await c.recv() == "héllo".encode()
        await c.send(b"\x00\xff", binary=True)
        assert await c.recv() == b"\x00\xff"
        assert ev.reports[0] == (0, True, True, 6, 6)
        await ws.close(c.id)
        assert ws.free_slots() == SLOTS and ev.closes == []


async def test_reserved_slot_for_mqtt_and_too_many() -> None:
    async with ws_server() as peer, ws_server() as other:
        ws = WebSockets(Events())
        slot = ws.reserve("mqtt")
        mine = Events()
        c = await ws.open("127.0.0.1", peer.port, "/echo", slot=slot, events=mine)
        assert c.id == slot and slot not in ws.clients
        host = await ws.open("127.0.0.1", other.port, "/echo")
        assert host.id != slot
        with pytest.raises(ServiceError) as e:
            ws.reserve()
        assert e.value.kind is WsFault.TOO_MANY
        await c.send(b"\x10\x00", binary=True)
        assert await c.recv() == b"\x10\x00" and mine.reports
        ws.release(slot)
        assert ws.free_slots() == 1
        ws.close_all()
        assert ws.free_slots() == SLOTS


async def test_refused_and_same_server() -> None:
    ws = WebSockets(Events())
    with pytest.raises(ServiceError) as e:
        await ws.open("127.0.0.1", free_port())
    assert e.value.kind is WsFault.REFUSED and ws.free_slots() == SLOTS
    async with ws_server() as peer:
        await ws.open("127.0.0.1", peer.port, "/echo")
        with pytest.raises(ServiceError) as e:
            await ws.open("127.0.0.1", peer.port, "/echo")
        assert e.value.kind is WsFault.SAME_SERVER
        ws.close_all()


def test_close_codes() -> None:
    assert [close_code(s) for s in (0, 1, 2, 3, 7, 11, 1000, 1001, 3000, 4999)] == [
        1000,
        1001,
        1002,
        1003,
        1007,
        1011,
        1000,
        1001,
        3000,
        4999,
    ]
    for bad in (4, 5, 6, 15, 1004, 1005, 1006, 1015, 2000, 5000):
        with pytest.raises(ServiceError):
            close_code(bad)


async def test_reserved_server_counts_as_in_use() -> None:
    async with ws_server() as peer:
        ws = WebSockets(Events())
        slot = ws.reserve("mqtt", server=("127.0.0.1", peer.port))
        with pytest.raises(ServiceError) as e:
            await ws.open("127.0.0.1", peer.port, "/echo")
        assert e.value.kind is WsFault.SAME_SERVER and ws.free_slots() == 1
        ws.release(slot)
        c = await ws.open("127.0.0.1", peer.port, "/echo")
        await ws.close(c.id)


async def test_recv_ends_after_either_side_closes() -> None:
    ev = Events()
    async with ws_server() as peer:
        ws = WebSockets(ev)
        c = await ws.open("127.0.0.1", peer.port, "/close/4003")
        await c.send(b"bye")
        assert await c.recv() == b""  # the server closed; nothing was sent before
        await c.wait_closed()
        assert (c.gone, c.close_code, c.close_reason) == (True, 4003, "bye")
        assert ev.closes == [(0, 4003, "bye")]
        await ws.close(c.id)
        await peer.done.wait()
        peer.done.clear()
        slot = ws.reserve()
        c = await ws.open("127.0.0.1", peer.port, "/echo", slot=slot, events=Events())
        waiter = asyncio.ensure_future(c.recv())
        await c.close(1001)
        assert await waiter == b""
        assert await c.recv() == b""
        ws.release(slot)
        await peer.done.wait()
        assert peer.closed_codes[-1] == 1001
