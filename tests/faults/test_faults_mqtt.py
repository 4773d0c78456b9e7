"""Faults on the MQTT client's broker connection (TCP, TLS, WebSocket), through the console
bytes a host gets, against a real mosquitto on 127.0.0.1 (tests/mqtt/mqtt_peers.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fault_helpers import boot, ctl
from mqtt_peers import Broker, Certs  # tests/mqtt: see conftest.py

ON = b"AT-S.On:0:0\r\nAT-S.OK\r\n"
OK = b"AT-S.OK\r\n"
ERR74 = b"AT-S.ERROR:74:Failed to open socket\r\n"
ERR111 = b"AT-S.ERROR:111:Request failed\r\n"


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    b = await Broker(tmp_path / "broker", certs=Certs.make(tmp_path / "certs")).start()
    yield b
    await b.stop()


async def test_mqtt_refuse_reset_stall_delay(tmp_path, broker: Broker):
    m, notes = await boot(tmp_path)
    port = broker.ports["plain"]
    # A new client id each time: a CONNECT the broker saw leaves a session behind.
    ids = iter(range(100))

    def conn() -> str:
        return f"AT+S.MQTTCONN=127.0.0.1,{port},,,,,f{next(ids)},,,,,"

    await ctl(m, "fault.add", kind="refuse", match=f"*:{port}", times=1)
    assert await m.cmd(conn()) == ERR74
    assert notes.having(f"fault #1 refuse: connection to 127.0.0.1:{port} refused")

    # Stall, or a delay past the connect budget: no CONNACK in time (111).
    m.device.mqtt.connect_timeout = 0.5
    await ctl(m, "fault.add", kind="stall", match=f"*:{port}", after=0, times=1)
    assert await m.cmd(conn()) == ERR111
    assert notes.having("fault #2 stall:")
    await ctl(m, "fault.add", kind="delay", match=f"*:{port}", ms=5000, times=1)
    assert await m.cmd(conn()) == ERR111
    assert notes.having("fault #3 delay: 5000 ms")

    # RST in mid-stream: CONNACK (4 bytes) and SUBACK (5) come through, the reset falls
    # inside the broker's PUBLISH of the module's own message: WIND:87, connection level.
    m.device.mqtt.connect_timeout = 4.5
    await ctl(m, "fault.add", kind="reset", match=f"*:{port}", after=4 + 5 + 10, times=1)
    assert await m.cmd(conn()) == ON
    assert await m.cmd("AT+S.MQTTSUB=0,t/#,0") == OK
    assert await m.cmd("AT+S.MQTTPUB=0,t/x,0,0,100", b"p" * 100) == OK
    await m.read_until(b"+WIND:87:MQTT Closed:0:0\r\n")
    assert notes.having("fault #4 reset: RST after 19 bytes on tcp 127.0.0.1:")
    assert (
        await m.cmd("AT+S.MQTTPUB=0,t/x,0,0,1", b"p") == b"AT-S.ERROR:78:Socket not connected\r\n"
    )
    # No rule left: the broker is reachable again; a short delay changes nothing.
    await ctl(m, "fault.add", kind="delay", match=f"*:{port}", ms=1, jitter_ms=2, seed=1)
    assert await m.cmd(conn()) == ON
    assert await m.cmd("AT+S.MQTTSUB=0,t/#,0") == OK
    assert await m.cmd("AT+S.MQTTPUB=0,t/y,0,0,2", b"hi") == OK
    assert await m.read_until(b"hi\r\n") == b"+WIND:86:MQTT Published:0:t/y:0:0:0:2:2:hi\r\n"
    await m.device.shutdown()


async def test_mqtt_tls_and_websocket_faults(tmp_path, broker: Broker):
    m, notes = await boot(tmp_path)
    pem = broker.certs.ca  # type: ignore[union-attr]
    assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(pem)}", pem) == OK
    assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
    tls = broker.ports["tls"]
    conn = f"AT+S.MQTTCONN=localhost,{tls},,2,,,t1,,,,,"
    await ctl(m, "fault.add", kind="tls_fail", match=f"*:{tls}", times=1)
    assert await m.cmd(conn) == ERR74
    assert notes.having(f"tls_fail: TLS handshake with localhost (127.0.0.1):{tls} fails")
    await ctl(m, "fault.add", kind="tls_cert", cert="unknown", times=1)
    assert await m.cmd(conn) == b"AT-S.Certificate Error:23\r\n"
    await ctl(m, "fault.add", kind="tls_cert", cert="expired", times=1)
    assert await m.cmd(conn) == b"AT-S.Certificate Error:21\r\n"
    assert await m.cmd(conn) == ON
    assert await m.cmd("AT+S.MQTTDISC=0") == OK

    # Over WebSocket the connection is the WebSocket service's: its words (Table 11).
    ws = broker.ports["ws"]
    await ctl(m, "fault.add", kind="refuse", match=f"*:{ws}", times=1)
    assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{ws},/mqtt,,,,w1,,,,,") == (
        b"AT-S.WebSocket Client Error:0\r\n"
    )
    assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{ws},/mqtt,,,,w1,,,,,") == ON
    await m.device.shutdown()


async def test_mqtt_fault_on_the_open_connection(tmp_path, broker: Broker):
    from atwifi.control import ControlError

    m, notes = await boot(tmp_path)
    with pytest.raises(ControlError):  # no broker connected yet
        await ctl(m, "fault.socket", client="mqtt", id=0, kind="reset")
    for port, path in ((broker.ports["plain"], ""), (broker.ports["ws"], "/mqtt")):
        assert await m.cmd(f"AT+S.MQTTCONN=127.0.0.1,{port},{path},,,,s{port},,,,,") == ON
        await ctl(m, "fault.socket", client="mqtt", id=0, kind="reset", after=0)
        await m.read_until(b"+WIND:87:MQTT Closed:0:0\r\n")
    assert len(notes.having(" reset: RST after ")) == 2  # the bytes the connection got so far
    await m.device.shutdown()
