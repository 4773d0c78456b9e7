"""The device-certificate flow: CA, device certificate and key loaded with AT+S.TLSCERT, a
broker that requires client certificates (mosquitto ``require_certificate true``), and each
way it fails with its own number and a trace note that says why."""

from __future__ import annotations

import time
from datetime import datetime

from mqtt_peers import Broker, Certs, Peer


async def load(m, kind: str, pem: bytes) -> None:
    assert await m.cmd(f"AT+S.TLSCERT={kind},{len(pem)}", pem) == b"AT-S.OK\r\n"


async def load_device(m, certs: Certs, ca: bytes | None = None, cert=None, key=None) -> None:
    assert await m.cmd("AT+S.TLSCERT=content,2") == b"AT-S.OK\r\n"
    await load(m, "Ca", ca or certs.ca)
    if cert is not False:
        await load(m, "Cert", cert or certs.device_cert)
    if key is not False:
        await load(m, "Key", key or certs.device_key)


async def set_time(m) -> None:
    assert await m.cmd(f"AT+S.TIME={int(time.time())}") == b"AT-S.OK\r\n"


async def test_device_certificate_flow(quiet_module, broker: Broker, certs: Certs) -> None:
    m = quiet_module
    await load_device(m, certs)
    await set_time(m)
    port = broker.ports["mtls"]
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{port},,2,,,dev1,,,,,") == (
        b"AT-S.On:0:0\r\nAT-S.OK\r\n"
    )
    assert await m.cmd("AT+S.MQTTSUB=0,dev/in,1") == b"AT-S.OK\r\n"
    peer = Peer(broker.ports["plain"])
    try:
        peer.subscribe("dev/out", 1)
        assert await m.cmd("AT+S.MQTTPUB=0,dev/out,1,0,4", b"ping") == b"AT-S.OK\r\n"
        msg = await peer.next()
        assert (msg.topic, msg.payload) == ("dev/out", b"ping")
        peer.publish("dev/in", b"pong", qos=1)
        assert (
            await m.read_until(b"pong\r\n")
            == b"+WIND:86:MQTT Published:0:dev/in:1:0:0:4:4:pong\r\n"
        )
    finally:
        peer.close()
    assert await m.cmd("AT+S.MQTTDISC=0") == b"AT-S.OK\r\n"


async def test_never_set_clock(quiet_module, broker: Broker, certs: Certs, notes) -> None:
    m = quiet_module
    await load_device(m, certs)
    port = broker.ports["mtls"]
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{port},,2,,,,,,,,") == (
        b"AT-S.Certificate Error:21\r\n"
    )
    assert "clock was never set" in notes.find("Certificate Error:21")
    await set_time(m)  # the same connection works once the module knows the time
    assert (
        await m.cmd(f"AT+S.MQTTCONN=localhost,{port},,2,,,,,,,,") == b"AT-S.On:0:0\r\nAT-S.OK\r\n"
    )


async def test_wrong_ca(quiet_module, broker: Broker, certs: Certs, tmp_path, notes) -> None:
    m = quiet_module
    other = Certs.make(tmp_path / "other")
    await load_device(m, certs, ca=other.ca)
    await set_time(m)
    port = broker.ports["mtls"]
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{port},,2,,,,,,,,") == (
        b"AT-S.Certificate Error:23\r\n"
    )
    assert "no loaded CA named" in notes.find("Certificate Error:23")
    assert await m.cmd("AT") == b"AT-S.OK\r\n"


async def test_expired_device_certificate(
    quiet_module, broker: Broker, certs: Certs, notes
) -> None:
    m = quiet_module
    cert, key = certs.issue(
        "device-old", not_before=datetime(2020, 1, 1), not_after=datetime(2020, 2, 1)
    )
    await load_device(m, certs, cert=cert, key=key)
    await set_time(m)
    port = broker.ports["mtls"]
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{port},,2,,,,,,,,") == (
        b"AT-S.ERROR:74:Failed to open socket\r\n"
    )
    why = notes.find("refused the device certificate")
    assert "2020-02-01, expired at module time" in why


async def test_missing_client_certificate(
    quiet_module, broker: Broker, certs: Certs, notes
) -> None:
    m = quiet_module
    await load_device(m, certs, cert=False, key=False)
    await set_time(m)
    port = broker.ports["mtls"]
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{port},,2,,,,,,,,") == (
        b"AT-S.Certificate Error:2\r\n"
    )
    assert "none is loaded" in notes.find("Certificate Error:2")
    # The same module, same store, on the broker's TLS listener without client certificates.
    tls = broker.ports["tls"]
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{tls},,2,,,,,,,,") == b"AT-S.On:0:0\r\nAT-S.OK\r\n"


async def test_key_that_does_not_match(quiet_module, broker: Broker, certs: Certs, notes) -> None:
    m = quiet_module
    _, other_key = certs.issue("someone-else")
    await load_device(m, certs, key=other_key)
    await set_time(m)
    port = broker.ports["mtls"]
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{port},,2,,,,,,,,") == (
        b"AT-S.Certificate Error:9\r\n"
    )
    assert "not the device certificate's key" in notes.find("Certificate Error:9")


async def test_websocket_over_tls(quiet_module, broker: Broker, certs: Certs) -> None:
    m = quiet_module
    await load_device(m, certs, cert=False, key=False)
    await set_time(m)
    port = broker.ports["wss"]
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{port},/mqtt,2,,,wss1,,,,,") == (
        b"AT-S.On:0:0\r\nAT-S.OK\r\n"
    )
    assert await m.cmd("AT+S.MQTTSUB=0,w/#,0") == b"AT-S.OK\r\n"
    assert await m.cmd("AT+S.MQTTPUB=0,w/x,0,0,2", b"hi") == b"AT-S.OK\r\n"
    assert await m.read_until(b"hi\r\n") == b"+WIND:86:MQTT Published:0:w/x:0:0:0:2:2:hi\r\n"


async def test_tls_autodetect(quiet_module, broker: Broker, certs: Certs, notes) -> None:
    """<TLS>=1: TLS where the broker speaks it, plain MQTT where it does not."""
    m = quiet_module
    await load_device(m, certs, cert=False, key=False)
    await set_time(m)
    tls, plain = broker.ports["tls"], broker.ports["plain"]
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{tls},,1,,,a1,,,,,") == (
        b"AT-S.On:0:0\r\nAT-S.OK\r\n"
    )
    assert "as 'a1'" in notes.find(f"connected to localhost (127.0.0.1:{tls})")
    assert await m.cmd("AT+S.MQTTDISC=0") == b"AT-S.OK\r\n"
    assert await m.cmd(f"AT+S.MQTTCONN=localhost,{plain},,1,,,a2,,,,,") == (
        b"AT-S.On:0:0\r\nAT-S.OK\r\n"
    )
    assert notes.find("does not speak TLS")
    assert await m.cmd("AT+S.MQTTSUB=0,auto,0") == b"AT-S.OK\r\n"
