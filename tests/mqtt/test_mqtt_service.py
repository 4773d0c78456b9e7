"""The MQTT service alone, without the SPWF04 dialect: kinds and events, as a second dialect
(GS2200M) would use it. Also its own WebSocket link (used when no WebSocket service exists)."""

from __future__ import annotations

import asyncio

import pytest
from mqtt_peers import Broker, Peer

from atwifi.services.errors import ServiceError
from atwifi.services.mqtt import CloseReason, ConnectParams, MqttFault, MqttService
from atwifi.services.sockets import literal_resolve


class Events:
    def __init__(self) -> None:
        self.messages: asyncio.Queue = asyncio.Queue()
        self.closes: asyncio.Queue = asyncio.Queue()
        self.notes: list[str] = []

    def message(self, cid, topic, qos, retain, dup, payload) -> None:
        self.messages.put_nowait((topic, payload, qos, retain))

    def closed(self, cid, reason) -> None:
        self.closes.put_nowait(reason)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def backlog(self) -> int:
        return 0


@pytest.fixture
async def service():
    tasks: set[asyncio.Task] = set()

    def spawn(coro):
        t = asyncio.get_running_loop().create_task(coro)
        tasks.add(t)
        return t

    ev = Events()
    svc = MqttService(ev, resolve=literal_resolve, check=lambda ip, port: None, spawn=spawn)
    yield svc, ev
    svc.close_all()
    for t in tasks:
        t.cancel()


@pytest.mark.parametrize("listener,path", [("plain", None), ("ws", "/mqtt")])
async def test_round_trip(service, broker: Broker, listener: str, path: str | None) -> None:
    svc, ev = service
    p = ConnectParams("127.0.0.1", broker.ports[listener], path=path, client_id=b"svc")
    assert await svc.connect(p) == (0, False)
    assert await svc.subscribe(0, b"s/#", 2) == 2
    await svc.publish(0, b"s/1", b"\r\n\x00", qos=2, retain=True)
    assert await asyncio.wait_for(ev.messages.get(), 10) == (b"s/1", b"\r\n\x00", 2, False)
    other = Peer(broker.ports["plain"], client_id="svc")  # takes the session over
    try:
        assert await asyncio.wait_for(ev.closes.get(), 10) is CloseReason.CONNECTION
    finally:
        other.close()
    with pytest.raises(ServiceError) as e:
        await svc.publish(0, b"s/1", b"x")
    assert e.value.kind is MqttFault.NOT_CONNECTED


async def test_kinds(service, broker: Broker) -> None:
    svc, ev = service
    bad = ConnectParams(
        "127.0.0.1", broker.ports["auth"], username=b"alice", password=b"no", client_id=b"k"
    )
    with pytest.raises(ServiceError) as e:
        await svc.connect(bad)
    assert e.value.kind is MqttFault.BROKER_REFUSED and e.value.info["code"] in (4, 5)
    await svc.connect(ConnectParams("127.0.0.1", broker.ports["plain"]))  # empty id: clean
    for call, kind in (
        (svc.publish(0, b"a/+", b""), MqttFault.BAD_TOPIC),
        (svc.subscribe(0, b"a/#/b"), MqttFault.BAD_TOPIC),
        (svc.subscribe(1, b"a"), MqttFault.BAD_ID),
        (
            svc.connect(ConnectParams("127.0.0.1", broker.ports["plain"])),
            MqttFault.ALREADY_CONNECTED,
        ),
    ):
        with pytest.raises(ServiceError) as e:
            await call
        assert e.value.kind is kind
    await svc.disconnect(0)
    assert ev.closes.empty()  # a disconnect asked for raises no event
