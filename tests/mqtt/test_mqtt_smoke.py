from __future__ import annotations

from mqtt_peers import Broker, Peer


async def test_connect_sub_pub(quiet_module, broker: Broker) -> None:
    m = quiet_module
    port = broker.ports["plain"]
    assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port},,,,,,,,,,") == b"AT-S.On:0:0\r\nAT-S.OK\r\n"
    assert await m.cmd("AT+S.MQTTSUB=0,t/1,1") == b"AT-S.OK\r\n"
    peer = Peer(port)
    try:
        peer.subscribe("t/#", 1)
        assert await m.cmd("AT+S.MQTTPUB=0,t/1,1,0,5", b"hello") == b"AT-S.OK\r\n"
        msg = await peer.next()
        assert (msg.topic, msg.payload, msg.qos) == ("t/1", b"hello", 1)
        wind = await m.read_until(b"hello\r\n")
        assert wind == b"+WIND:86:MQTT Published:0:t/1:1:0:0:5:5:hello\r\n"
    finally:
        peer.close()
    assert await m.cmd("AT+S.MQTTDISC=0") == b"AT-S.OK\r\n"
