"""The client library's MQTT helpers against a real `atwifi serve` process and mosquitto."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from mqtt_peers import Broker, Certs, Peer

from atwifi.client import AsyncClient, AtCommandError
from atwifi.client.protocol import Parser


@pytest.fixture
async def client(served) -> AsyncIterator[AsyncClient]:
    await served.disconnect()  # one host at a time: the client takes the console
    async with await AsyncClient.open(f"socket://127.0.0.1:{served.port}", timeout=10) as c:
        await c.echo(False)
        yield c


async def test_connect_subscribe_publish_iterate(client: AsyncClient, broker: Broker) -> None:
    conn = await client.mqtt_connect("127.0.0.1", broker.ports["plain"], client_id="lib-1")
    assert conn.session_present is False
    await conn.subscribe("lib/in", qos=1)
    peer = Peer(broker.ports["plain"])
    try:
        peer.subscribe("lib/out", 1)
        blob = b"line 1\r\nline 2:\x00\xff" * 100  # 1500 bytes: three WIND pieces
        await conn.publish("lib/out", blob, qos=1)
        assert (await peer.next()).payload == blob
        peer.publish("lib/in", blob, qos=1)
        peer.publish("lib/in", b"second", qos=0)
        got = []
        async for msg in conn.messages():
            got.append(msg)
            if len(got) == 2:
                break
        assert [(m.topic, m.payload, m.qos) for m in got] == [
            ("lib/in", blob, 1),
            ("lib/in", b"second", 0),
        ]
    finally:
        peer.close()
    await conn.disconnect()
    assert await conn.next_message() is None


async def test_messages_end_when_the_broker_closes(client: AsyncClient, broker: Broker) -> None:
    conn = await client.mqtt_connect("127.0.0.1", broker.ports["ws"], path="/mqtt")
    other = Peer(broker.ports["plain"], client_id="SPWF04SA")  # takes the module's session
    try:
        assert [m async for m in conn.messages()] == []
        assert conn.closed_reason == 0
    finally:
        other.close()


async def test_tls_with_device_certificate(client: AsyncClient, broker: Broker, certs: Certs):
    await client.tls_load_all(certs.ca, certs.device_cert, certs.device_key)
    with pytest.raises(AtCommandError) as e:  # the module's clock was never set
        await client.mqtt_connect("localhost", broker.ports["mtls"], tls=2)
    assert e.value.line == "AT-S.Certificate Error:21"
    await client.set_time(int(time.time()))
    conn = await client.mqtt_connect("localhost", broker.ports["mtls"], tls=2)
    await conn.subscribe("sec/#")
    await conn.publish("sec/x", "over mutual TLS")
    msg = await conn.next_message(timeout=10)
    assert msg is not None and msg.payload == b"over mutual TLS"


def test_parser_reads_payloads_by_size() -> None:
    p = Parser()
    wire = b"+WIND:86:MQTT Published:0:a:b:1:0:0:9:9:x\r\n+WIND:\r\n+WIND:86:0:t:0:0:0:0:0:\r\n"
    events = []
    for i in range(len(wire)):  # byte by byte
        events += p.feed(wire[i : i + 1])
    assert [e.line for e in events] == [
        "+WIND:86:MQTT Published:0:a:b:1:0:0:9:9:x\r\n+WIND:",
        "+WIND:86:0:t:0:0:0:0:0:",
    ]


async def test_will_when_ctl_drops_the_link(client: AsyncClient, broker: Broker, tmp_path):
    """`atwifi ctl --state DIR link.drop kind=deauth` on the served module: its broker
    connection dies with the link (WIND:87 reason 0) and the broker publishes the will."""
    import asyncio
    import subprocess
    import sys

    from harness import SRC

    peer = Peer(broker.ports["plain"])
    try:
        peer.subscribe("wills/#", 1)
        conn = await client.mqtt_connect(
            "127.0.0.1",
            broker.ports["plain"],
            will_qos=1,
            will_topic="wills/dev",
            will_message="bye",
        )
        ctl = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "atwifi",
            "ctl",
            "--state",
            str(tmp_path / "state"),
            "link.drop",
            "kind=deauth",
            env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.DEVNULL,
        )
        assert await ctl.wait() == 0
        assert [m async for m in conn.messages()] == []
        assert conn.closed_reason == 0
        msg = await peer.next()
        assert (msg.topic, msg.payload) == ("wills/dev", b"bye")
    finally:
        peer.close()
