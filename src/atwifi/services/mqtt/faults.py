"""What can go wrong in the MQTT service: kinds for ServiceError, events for the dialect."""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Protocol


class MqttFault(Enum):
    BAD_ID = "bad_id"  # a connection id other than 0
    ALREADY_CONNECTED = "already_connected"  # one broker at a time
    NOT_CONNECTED = "not_connected"  # no broker, or it went away meanwhile
    BAD_TOPIC = "bad_topic"  # empty, wildcards in a publish topic, bad filter, too long
    BAD_ARGUMENT = "bad_argument"  # e.g. a last-will QoS without a topic
    NO_TLS = "no_tls"  # TLS asked for and no TLS service
    CONNECT_FAILED = "connect_failed"  # refused, unreachable, timed out, TLS handshake failed
    UPGRADE_REFUSED = "upgrade_refused"  # the WebSocket upgrade was not answered 101
    NO_CLIENT_CERT = "no_client_cert"  # the broker demands a certificate; none is loaded
    KEY_MISMATCH = "key_mismatch"  # the loaded key is not the certificate's key
    CERT_REFUSED = "cert_refused"  # the broker refused the module's certificate
    BROKER_REFUSED = "broker_refused"  # CONNACK with a non-zero code (info: code)
    NO_ANSWER = "no_answer"  # no CONNACK / SUBACK / PUBACK... in time
    SUBSCRIBE_REFUSED = "subscribe_refused"  # SUBACK 0x80
    WRITE_FAILED = "write_failed"  # the connection broke while sending


class CloseReason(IntEnum):
    """WIND:87's reason field (manual Table 14)."""

    CONNECTION = 0  # the TCP/TLS/WebSocket connection ended: broker closed, network lost
    PROTOCOL = 1  # MQTT level: keep-alive lost, malformed or oversized packet


class MqttEvents(Protocol):
    def message(
        self, cid: int, topic: bytes, qos: int, retain: bool, dup: bool, payload: bytes
    ) -> None: ...

    def closed(self, cid: int, reason: CloseReason) -> None: ...

    def note(self, text: str) -> None: ...

    def backlog(self) -> int:
        """Bytes of indications the host has not been sent yet; while over the service's
        limit it stops reading from the broker (TCP flow control keeps the rest there)."""
        ...
