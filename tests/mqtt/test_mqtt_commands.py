"""MQTTCONN/SUB/UNSUB/PUB/DISC through the bytes a host sends, against a real mosquitto and a
paho-mqtt client on the same broker."""

from __future__ import annotations

import asyncio

import pytest
from mqtt_peers import Broker, Peer, free_port

from atwifi.services.mqtt import codec

ON = b"AT-S.On:0:0\r\nAT-S.OK\r\n"
OK = b"AT-S.OK\r\n"


@pytest.fixture
def peer(broker: Broker):
    p = Peer(broker.ports["plain"])
    yield p
    p.close()


async def read_exact(m, n: int) -> bytes:
    """Exactly n bytes of what the module sent (payloads may hold any byte)."""
    async with asyncio.timeout(20):
        while len(m.rx) < n:
            m._more.clear()
            await m._more.wait()
    out = bytes(m.rx[:n])
    del m.rx[:n]
    return out


async def conn(m, broker: Broker, tail: str = ",,,,,,,,,,", listener: str = "plain") -> None:
    assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{broker.ports[listener]}{tail}") == ON


async def test_every_parameter_and_auth(quiet_module, broker: Broker, peer: Peer) -> None:
    m = quiet_module
    port = broker.ports["auth"]
    bad = f"AT+S.MQTTCONN=127.0.0.1,{port},,0,alice,wrong,cl-1,30,5,1,will/cl-1,gone"
    assert await m.cmd(bad) == b"AT-S.ERROR:111:Request failed\r\n"
    good = f"AT+S.MQTTCONN=127.0.0.1,{port},,0,alice,s3cret,cl-1,30,5,1,will/cl-1,gone"
    assert await m.cmd(good) == ON
    # the client id is the one given: the broker's log names it
    # client id, MQTT 3.1.1 (p2), clean session 0, keep-alive 30, user name: the broker's view
    assert "as cl-1 (p2, c0, k30, u'alice')" in await broker.wait_log(" as cl-1 ")
    assert await m.cmd("AT+S.MQTTDISC=0") == OK
    assert await m.cmd("AT+S.MQTTDISC=0") == b"AT-S.ERROR:78:Socket not connected\r\n"


async def test_default_client_id_is_nv_model(quiet_module, broker: Broker) -> None:
    m = quiet_module
    await conn(m, broker)
    assert await broker.wait_log(" as SPWF04SA ")


async def test_websocket_transport(quiet_module, broker: Broker, peer: Peer) -> None:
    m = quiet_module
    # the field's form: AT+S.MQTTCONN=broker,8080,/mqtt,,,,SPWF04S,,,,,
    await conn(m, broker, ",/mqtt,,,,SPWF04S,,,,,", listener="ws")
    assert await m.cmd("AT+S.MQTTSUB=0,ws/in,2") == OK
    peer.subscribe("ws/out", 2)
    assert await m.cmd("AT+S.MQTTPUB=0,ws/out,2,0,3", b"abc") == OK
    msg = await peer.next()
    assert (msg.topic, msg.payload, msg.qos) == ("ws/out", b"abc", 2)
    peer.publish("ws/in", b"xyz", qos=2)
    assert await m.read_until(b"xyz\r\n") == b"+WIND:86:MQTT Published:0:ws/in:2:0:0:3:3:xyz\r\n"


async def test_websocket_path_on_a_plain_listener(quiet_module, broker: Broker) -> None:
    m = quiet_module
    port = broker.ports["plain"]
    # Over WebSocket the WebSocket service answers (Table 11): the broker dropped the upgrade.
    reply = await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port},/mqtt")
    assert reply in (b"AT-S.WebSocket Client Error:1\r\n", b"AT-S.WebSocket Client Error:4\r\n")
    assert await m.cmd("AT") == OK


async def test_qos_flows_both_ways(quiet_module, broker: Broker, peer: Peer) -> None:
    m = quiet_module
    await conn(m, broker)
    assert await m.cmd("AT+S.MQTTSUB=0,q/#,2") == OK
    peer.subscribe("p/#", 2)
    for qos in (0, 1, 2):
        assert await m.cmd(f"AT+S.MQTTPUB=0,p/{qos},{qos},0,1", str(qos).encode()) == OK
        msg = await peer.next()
        assert (msg.topic, msg.payload, msg.qos) == (f"p/{qos}", str(qos).encode(), qos)
        peer.publish(f"q/{qos}", b"v%d" % qos, qos=qos)
        want = b"+WIND:86:MQTT Published:0:q/%d:%d:0:0:2:2:v%d\r\n" % (qos, qos, qos)
        assert await m.read_until(b"v%d\r\n" % qos) == want


async def test_retained_messages(quiet_module, broker: Broker, peer: Peer) -> None:
    m = quiet_module
    await conn(m, broker)
    assert await m.cmd("AT+S.MQTTPUB=0,r/mod,1,1,4", b"kept") == OK
    peer.subscribe("r/mod", 1)
    msg = await peer.next()
    assert (msg.payload, msg.retain) == (b"kept", True)
    peer.publish("r/peer", b"old", qos=1, retain=True)
    assert await m.cmd("AT+S.MQTTSUB=0,r/peer,1") == OK
    assert await m.read_until(b"old\r\n") == b"+WIND:86:MQTT Published:0:r/peer:1:1:0:3:3:old\r\n"
    assert await m.cmd("AT+S.MQTTUNSUB=0,r/peer") == OK
    assert await m.cmd("AT+S.MQTTSUB=0,r/mark,1") == OK
    peer.publish("r/peer", b"new", qos=1)
    peer.publish("r/mark", b"mark", qos=1)  # the broker keeps the order: r/peer came first
    out = await m.read_until(b"mark\r\n")
    assert out == b"+WIND:86:MQTT Published:0:r/mark:1:0:0:4:4:mark\r\n"


async def test_binary_payloads(quiet_module, broker: Broker, peer: Peer) -> None:
    m = quiet_module
    await conn(m, broker)
    assert await m.cmd("AT+S.MQTTSUB=0,bin,0") == OK
    peer.subscribe("bin-out", 0)
    blob = b"a\r\nb\x00\xff\x1bAT+S.OK\r\n"
    assert await m.cmd(f"AT+S.MQTTPUB=0,bin-out,0,0,{len(blob)}", blob) == OK
    assert (await peer.next()).payload == blob
    peer.publish("bin", blob)
    head = b"+WIND:86:MQTT Published:0:bin:0:0:0:%d:%d:" % (len(blob), len(blob))
    assert await m.read_until(head) == head
    assert await read_exact(m, len(blob) + 2) == blob + b"\r\n"


async def test_long_payload_comes_in_pieces(quiet_module, broker: Broker, peer: Peer) -> None:
    m = quiet_module
    await conn(m, broker)
    assert await m.cmd("AT+S.MQTTSUB=0,big,0") == OK
    body = bytes(range(256)) * 5 + b"tail"  # 1284 bytes: 512 + 512 + 260
    peer.publish("big", body)
    got = b""
    for size in (512, 512, 260):
        head = b"+WIND:86:MQTT Published:0:big:0:0:0:%d:1284:" % size
        assert await m.read_until(head) == head
        piece = await read_exact(m, size + 2)
        assert piece.endswith(b"\r\n")
        got += piece[:-2]
    assert got == body


async def test_last_will_on_link_drop(quiet_module, broker: Broker, peer: Peer) -> None:
    m = quiet_module
    peer.subscribe("will/#", 1)
    await conn(m, broker, ",,,,,w1,60,,1,will/w1,lost")
    m.device.radio.drop_link("deauth")
    assert await m.read_until(b"+WIND:87:MQTT Closed:0:0\r\n")
    msg = await peer.next()
    assert (msg.topic, msg.payload, msg.qos) == ("will/w1", b"lost", 1)
    await m.settle()
    assert await m.cmd("AT+S.MQTTSUB=0,x,0") == b"AT-S.ERROR:78:Socket not connected\r\n"


async def test_no_will_after_mqttdisc(quiet_module, broker: Broker, peer: Peer) -> None:
    m = quiet_module
    peer.subscribe("will/#", 1)
    await conn(m, broker, ",,,,,w2,60,,1,will/w2,lost")
    assert await m.cmd("AT+S.MQTTDISC") == OK
    peer.publish("will/marker", b"m", qos=1)
    assert (await peer.next()).topic == "will/marker"  # the will never came before it


async def test_broker_closes_on_takeover(quiet_module, broker: Broker) -> None:
    m = quiet_module
    await conn(m, broker, ",,,,,same-id,,,,,")
    other = Peer(broker.ports["plain"], client_id="same-id")
    try:
        assert await m.read_until(b"+WIND:87:MQTT Closed:0:0\r\n")
    finally:
        other.close()
    await conn(m, broker, ",,,,,again,,,,,")  # a new connection works


async def test_keep_alive_pings_and_loss(quiet_module) -> None:
    """A broker that answers CONNACK, then goes silent: the module pings and, with no
    PINGRESP within the keep-alive, closes with WIND:87 reason 1 (protocol level)."""
    m = quiet_module
    seen: list[codec.Packet] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        dec = codec.Decoder()
        while data := await reader.read(4096):
            for pkt in dec.feed(data):
                seen.append(pkt)
                if isinstance(pkt, codec.Connect):
                    writer.write(codec.encode_connack(False, 0))

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port},,,,,ka,1,,,,") == ON
        assert await m.read_until(b"+WIND:87:MQTT Closed:0:1\r\n")
    finally:
        server.close()
    assert isinstance(seen[0], codec.Connect) and seen[0].keep_alive == 1
    assert codec.Bare(codec.T.PINGREQ) in seen


async def test_errors(quiet_module, broker: Broker) -> None:
    m = quiet_module
    err = {
        "AT+S.MQTTSUB=0,t,0": 78,
        "AT+S.MQTTUNSUB=0,t": 78,
        "AT+S.MQTTDISC=0": 78,
        "AT+S.MQTTSUB=1,t,0": 76,
        "AT+S.MQTTSUB=0,t,3": 8,
        "AT+S.MQTTCONN": 2,
        f"AT+S.MQTTCONN=127.0.0.1,{broker.ports['plain']},,,,,,70000,,,,": 8,
        f"AT+S.MQTTCONN=127.0.0.1,{broker.ports['plain']},,,,,,,,,,msg-without-topic": 8,
        "AT+S.MQTTCONN=no-such-host.invalid,1883": 65,
    }
    for line, n in err.items():
        reply = await m.cmd(line)
        assert reply.startswith(b"AT-S.ERROR:%d:" % n), (line, reply)
    assert (await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{free_port()}")).startswith(b"AT-S.ERROR:74:")
    assert await m.cmd("AT+S.MQTTPUB=1,t,0,0,3", b"abc") == b"AT-S.ERROR:76:Illegal Socket ID\r\n"
    assert (
        await m.cmd("AT+S.MQTTPUB=0,t,0,0,3", b"abc") == b"AT-S.ERROR:78:Socket not connected\r\n"
    )
    await conn(m, broker)
    assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{broker.ports['plain']}") == (
        b"AT-S.ERROR:75:Too many sockets\r\n"
    )
    for bad in ("a/+", "a/#", "", "#"):
        reply = await m.cmd(f"AT+S.MQTTPUB=0,{bad},0,0,1", b"x")
        assert reply.startswith(b"AT-S.ERROR:"), (bad, reply)
    for bad in ("a/#/b", "a+", "x#"):
        assert await m.cmd(f"AT+S.MQTTSUB=0,{bad},0") == b"AT-S.ERROR:8:Invalid value\r\n"
    assert await m.cmd("AT+S.MQTTSUB=0,ok/+/x/#,0") == OK
    assert await m.cmd("AT") == OK


async def test_reset_drops_the_connection_silently(quiet_module, broker: Broker) -> None:
    m = quiet_module
    await conn(m, broker)
    m.send(b"AT+S.RESET\r")
    out = await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    assert b"+WIND:87" not in out
    await m.settle()
    m.device.config.set("console_echo", "0")
    assert await m.cmd("AT+S.MQTTSUB=0,t,0") == b"AT-S.ERROR:78:Socket not connected\r\n"


async def fake_broker(junk: bytes):
    """A broker that accepts, and answers a SUBSCRIBE with ``junk``."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        dec = codec.Decoder()
        while data := await reader.read(4096):
            for pkt in dec.feed(data):
                if isinstance(pkt, codec.Connect):
                    writer.write(codec.encode_connack(False, 0))
                elif isinstance(pkt, codec.Subscribe):
                    writer.write(junk)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_broker_that_sends_garbage_or_too_much(quiet_module) -> None:
    m = quiet_module
    for junk in (b"\x30\xff\xff\xff\x7f", b"\x00\x00", b"\x62\x01\x00"):
        server, port = await fake_broker(junk)
        try:
            assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port}") == ON
            assert await m.cmd("AT+S.MQTTSUB=0,t,0") == b"AT-S.ERROR:78:Socket not connected\r\n"
            assert await m.read_until(b"+WIND:87:MQTT Closed:0:1\r\n")
        finally:
            server.close()
    assert await m.cmd("AT") == OK


async def test_flood_while_the_console_is_busy_stays_bounded(
    quiet_module, broker: Broker, peer: Peer
) -> None:
    """A host that leaves a data command half sent keeps the console busy: incoming messages
    are held for it only up to a limit, the rest waits at the broker, and nothing is lost."""
    from atwifi.services.mqtt.service import BACKLOG_LIMIT

    m = quiet_module
    await conn(m, broker)
    assert await m.cmd("AT+S.MQTTSUB=0,flood,1") == OK
    m.send(b"AT+S.MQTTPUB=0,done,0,0,4\r" + b"do")  # two of its four bytes: console busy
    n, body = 600, b"z" * 500
    await asyncio.to_thread(lambda: [peer.publish("flood", body, qos=1) for _ in range(n)])
    gate = m.device.gate

    def held() -> int:
        return gate.held_bytes  # about the bytes of the WINDs held for the console

    async with asyncio.timeout(20):  # the module has read up to its limit...
        while held() <= BACKLOG_LIMIT:  # noqa: ASYNC110 (the gate has no event)
            await asyncio.sleep(0.01)
    now = held()  # ...and no further, though the broker has 300 kB more for it
    assert gate.busy and now <= BACKLOG_LIMIT + 70 * 1024, now
    m.send(b"ne")
    assert await m.read_until(OK)
    seen = 0
    head = b"+WIND:86:MQTT Published:0:flood:1:0:0:500:500:"
    while seen < n:
        try:
            assert await m.read_until(head + body + b"\r\n", timeout=5)
        except TimeoutError:
            raise AssertionError(f"{seen} seen; then {bytes(m.rx[:300])!r}") from None
        seen += 1
    assert await m.cmd("AT") == OK


async def test_session_restored(quiet_module, broker: Broker, peer: Peer) -> None:
    m = quiet_module
    await conn(m, broker, ",,,,,keep-me,,,,,")
    assert await m.cmd("AT+S.MQTTSUB=0,kept/#,1") == OK
    assert await m.cmd("AT+S.MQTTDISC=0") == OK
    peer.publish("kept/a", b"while away", qos=1)  # the broker queues it for the session
    port = broker.ports["plain"]
    assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port},,,,,keep-me,,,,,") == (
        b"AT-S.On:0:1\r\nAT-S.OK\r\n"
    )
    assert await m.read_until(b"while away\r\n") == (
        b"+WIND:86:MQTT Published:0:kept/a:1:0:0:10:10:while away\r\n"
    )


class Seen(list):
    """Packets a scripted broker received; ``wait_for(pkt)`` until one has come."""

    def __init__(self) -> None:
        super().__init__()
        self.more = asyncio.Event()

    def add(self, pkt: codec.Packet) -> None:
        self.append(pkt)
        self.more.set()

    async def wait_for(self, pkt: codec.Packet) -> None:
        async with asyncio.timeout(20):
            while pkt not in self:
                self.more.clear()
                await self.more.wait()


async def scripted_broker(on_packet):
    """A broker whose answers are ``on_packet(pkt) -> bytes``; returns (server, port, seen)."""
    seen = Seen()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        dec = codec.Decoder()
        while data := await reader.read(4096):
            for pkt in dec.feed(data):
                seen.add(pkt)
                if isinstance(pkt, codec.Connect):
                    writer.write(codec.encode_connack(False, 0))
                else:
                    writer.write(on_packet(pkt))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


async def test_unacknowledged_publish_is_resent_once_then_fails(quiet_module) -> None:
    m = quiet_module
    server, port, seen = await scripted_broker(lambda pkt: b"")  # never acknowledges
    try:
        assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port},,,,,,0,1,,,") == ON
        assert await m.cmd("AT+S.MQTTPUB=0,t,1,0,2", b"hi") == b"AT-S.ERROR:111:Request failed\r\n"
    finally:
        server.close()
    pubs = [p for p in seen if isinstance(p, codec.Publish)]
    assert [(p.dup, p.packet_id, p.payload) for p in pubs] == [(False, 1, b"hi"), (True, 1, b"hi")]


async def test_qos2_duplicate_shown_once(quiet_module) -> None:
    """A broker that sends a QoS 2 message twice (DUP) before PUBREL: one WIND:86."""
    m = quiet_module
    first = codec.Publish(b"q2", b"once", 2, False, False, 9)
    again = codec.Publish(b"q2", b"once", 2, False, True, 9)

    def answer(pkt: codec.Packet) -> bytes:
        if isinstance(pkt, codec.Subscribe):
            suback = b"\x90\x03" + pkt.packet_id.to_bytes(2, "big") + b"\x02"
            return suback + codec.encode_publish(first) + codec.encode_publish(again)
        if isinstance(pkt, codec.Ack) and pkt.type is codec.T.PUBREC:
            return codec.encode_ack(codec.T.PUBREL, pkt.packet_id)
        return b""

    server, port, seen = await scripted_broker(answer)
    try:
        assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port}") == ON
        assert await m.cmd("AT+S.MQTTSUB=0,q2,2") == OK
        assert await m.read_until(b"once\r\n") == (
            b"+WIND:86:MQTT Published:0:q2:2:0:0:4:4:once\r\n"
        )
        await seen.wait_for(codec.Ack(codec.T.PUBCOMP, 9))  # the flow is complete
        assert await m.cmd("AT") == OK
    finally:
        server.close()
    assert b"once" not in m.take()


async def test_a_packet_split_across_connack(quiet_module) -> None:
    """Bytes of a message that arrive with CONNACK are kept for the rest of the packet."""
    m = quiet_module
    pub = codec.encode_publish(codec.Publish(b"early", b"queued for the session"))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        dec = codec.Decoder()
        while data := await reader.read(4096):
            for pkt in dec.feed(data):
                if isinstance(pkt, codec.Connect):
                    writer.write(codec.encode_connack(True, 0) + pub[:9])
                elif isinstance(pkt, codec.Subscribe):
                    pid = pkt.packet_id.to_bytes(2, "big")
                    writer.write(pub[9:] + b"\x90\x03" + pid + b"\x00")

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port}") == b"AT-S.On:0:1\r\nAT-S.OK\r\n"
        assert await m.cmd("AT+S.MQTTSUB=0,other,0") == OK
        assert await m.read_until(b"session\r\n") == (
            b"+WIND:86:MQTT Published:0:early:0:0:0:22:22:queued for the session\r\n"
        )
    finally:
        server.close()


async def test_a_broker_takes_one_websocket_slot(quiet_module, broker: Broker) -> None:
    """Manual 6.61: with a broker connected only one WebSocket client is left, and no WSOCKON
    may go to the broker's own server."""
    m = quiet_module
    ws = broker.ports["ws"]
    wsockon = f"AT+S.WSOCKON=127.0.0.1,{ws},/mqtt,0,,,,mqtt,"
    await conn(m, broker)  # MQTT on TCP
    plain = broker.ports["plain"]
    assert await m.cmd(f"AT+S.WSOCKON=127.0.0.1,{plain},/,0,,,,,") == (
        b"AT-S.ERROR:73:Port already opened\r\n"
    )
    assert (await m.cmd(wsockon)).startswith(b"AT-S.On:")
    import websockets

    async with websockets.serve(lambda c: c.wait_closed(), "127.0.0.1", 0) as other:
        port2 = other.sockets[0].getsockname()[1]
        other_on = f"AT+S.WSOCKON=127.0.0.1,{port2},/,0,,,,,"
        assert await m.cmd(other_on) == b"AT-S.ERROR:75:Too many sockets\r\n"
        assert await m.cmd("AT+S.MQTTDISC=0") == OK
        assert (await m.cmd(other_on)).startswith(b"AT-S.On:")  # the broker's slot is free
        # both slots are the host's now: no broker fits
        assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{plain}") == (
            b"AT-S.ERROR:75:Too many sockets\r\n"
        )
    assert (await m.cmd("AT")).endswith(OK)  # (after the WIND:89 of the server that left)


async def test_mqtt_over_websocket_is_not_a_host_websocket(quiet_module, broker: Broker) -> None:
    m = quiet_module
    await conn(m, broker, ",/mqtt,,,,,,,,,", listener="ws")
    assert await m.cmd("AT+S.WSOCKL") == OK  # not listed
    for cid in (0, 1):
        assert await m.cmd(f"AT+S.WSOCKQ={cid}") == b"AT-S.ERROR:76:Illegal Socket ID\r\n"
    broker_gone = m.device.mqtt.session
    assert broker_gone is not None
    m.device.radio.drop_link("deauth")  # the slot comes back with the connection's end
    assert await m.read_until(b"+WIND:87:MQTT Closed:0:0\r\n")
    assert b"+WIND:89" not in m.take()
    assert m.device.websockets.free_slots() == 2


async def test_keep_alive_answered_keeps_the_connection(quiet_module) -> None:
    m = quiet_module

    def answer(pkt: codec.Packet) -> bytes:
        if pkt == codec.Bare(codec.T.PINGREQ):
            return codec.encode_bare(codec.T.PINGRESP)
        if isinstance(pkt, codec.Subscribe):
            return b"\x90\x03" + pkt.packet_id.to_bytes(2, "big") + b"\x00"
        return b""

    server, port, seen = await scripted_broker(answer)
    try:
        assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port},,,,,ka2,1,,,,") == ON
        async with asyncio.timeout(20):
            while seen.count(codec.Bare(codec.T.PINGREQ)) < 3:
                seen.more.clear()
                await seen.more.wait()
        assert await m.cmd("AT+S.MQTTSUB=0,still/here,0") == OK
    finally:
        server.close()
    assert b"+WIND:87" not in m.take()
