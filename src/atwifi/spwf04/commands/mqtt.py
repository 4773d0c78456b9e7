"""Handlers: the MQTT client (manual 6.56-6.60). Choices: docs/behaviour.md, "MQTT"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.errors import AtError, AtResultLine
from atwifi.services.errors import ServiceError
from atwifi.services.mqtt import ConnectParams, MqttFault
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.commands.tls import certificate_line
from atwifi.spwf04.context import Context

if TYPE_CHECKING:
    from atwifi.services.mqtt import MqttService


def _cert_line(n: int):  # type: ignore[no-untyped-def]
    def word(exc: ServiceError) -> AtResultLine:
        return AtResultLine(f"AT-S.Certificate Error:{n}", exc.detail)

    return word


wording.register(
    {
        MqttFault.BAD_ID: 76,  # Illegal Socket ID
        MqttFault.ALREADY_CONNECTED: 75,  # Too many sockets: one broker at a time
        MqttFault.NOT_CONNECTED: 78,  # Socket not connected
        MqttFault.BAD_TOPIC: 8,
        MqttFault.BAD_ARGUMENT: 8,
        MqttFault.NO_TLS: 74,
        MqttFault.CONNECT_FAILED: 74,  # Failed to open socket
        MqttFault.UPGRADE_REFUSED: 74,
        MqttFault.CERT_REFUSED: 74,  # the broker ended the TLS handshake over our certificate
        MqttFault.NO_CLIENT_CERT: _cert_line(2),  # subject certificate is null
        MqttFault.KEY_MISMATCH: _cert_line(9),  # the key's signature cannot be verified
        MqttFault.BROKER_REFUSED: 111,  # Request failed (CONNACK code in the trace)
        MqttFault.NO_ANSWER: 111,
        MqttFault.SUBSCRIBE_REFUSED: 111,
        MqttFault.WRITE_FAILED: 79,  # Write failed
    }
)


def mqtt_of(ctx: Context) -> MqttService:
    svc = getattr(ctx.device, "mqtt", None)
    if svc is None:
        raise AtError(74, "MQTT service not started")
    return svc


def _b(text: str | None) -> bytes | None:
    # Arguments arrive one character per byte: give the broker the host's bytes.
    return None if text is None else text.encode("latin-1")


def _check_id(id: int) -> None:
    if id != 0:
        raise AtError(76, f"MQTT id {id}: the module has only id 0")


@handler("MQTTCONN")
async def mqttconn(
    ctx: Context,
    hostname: str,
    port: int = 1883,
    path: str | None = None,
    tls: int = 0,
    username: str | None = None,
    passwd: str | None = None,
    user_id: str | None = None,
    keep_alive: int = 60,
    retry: int = 15,
    last_will_qos: int = 0,
    last_will_topic: str | None = None,
    last_will_message: str | None = None,
) -> None:
    d = ctx.device
    radio = d.radio
    if radio is not None and not radio.ip_ready:
        raise AtError(60, "not joined: no IP address")
    if keep_alive > 0xFFFF:
        raise AtError(8, "keep_alive over 65535 s")
    if last_will_message and not last_will_topic:
        raise AtError(8, "a last-will message needs a last-will topic")
    will = None
    if last_will_topic:
        from atwifi.services.mqtt.codec import Will  # at first use, not at boot

        will = Will(_b(last_will_topic) or b"", _b(last_will_message) or b"", last_will_qos)
    client_id = _b(user_id) if user_id else str(d.config.get("nv_model")).encode("latin-1")
    params = ConnectParams(
        host=hostname,
        port=port,
        path=path or None,
        tls=tls,
        username=_b(username) if username else None,
        password=_b(passwd) if passwd else None,
        client_id=client_id or b"",
        keep_alive=keep_alive,
        retry=float(max(1, retry)),
        will=will,
    )
    from atwifi.services.tls import CertError

    try:
        cid, session = await mqtt_of(ctx).connect(params)
    except CertError as e:
        why = str(e)
        if not d.clock.is_set:
            why += "; the module clock was never set (AT+S.TIME or NTP): it is 1970 here"
        line = certificate_line(e)  # Table 13, from the failure's CertReason
        raise AtResultLine(line.line, why) from None
    ctx.info(f"On:{cid}:{int(session)}")


@handler("MQTTSUB")
async def mqttsub(ctx: Context, id: int, topic: str, qos: int = 0) -> None:
    _check_id(id)
    await mqtt_of(ctx).subscribe(id, _b(topic) or b"", qos)


@handler("MQTTUNSUB")
async def mqttunsub(ctx: Context, id: int, topic: str) -> None:
    _check_id(id)
    await mqtt_of(ctx).unsubscribe(id, _b(topic) or b"")


@handler("MQTTPUB")
async def mqttpub(
    ctx: Context,
    id: int,
    topic: str,
    qos: int = 0,
    retained_flag: int = 0,
    len: int = 0,
    data: bytes | None = None,
) -> None:
    _check_id(id)
    await mqtt_of(ctx).publish(id, _b(topic) or b"", data or b"", qos, bool(retained_flag))


@handler("MQTTDISC")
async def mqttdisc(ctx: Context, id: int = 0) -> None:
    _check_id(id)
    await mqtt_of(ctx).disconnect(id)
