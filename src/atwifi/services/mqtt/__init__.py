"""MQTT 3.1.1 client service: one broker connection, over TCP, TLS or WebSocket."""

from atwifi.services.mqtt.codec import Will
from atwifi.services.mqtt.faults import CloseReason, MqttEvents, MqttFault
from atwifi.services.mqtt.service import ConnectParams, MqttService, check_topic

__all__ = [
    "CloseReason",
    "ConnectParams",
    "MqttEvents",
    "MqttFault",
    "MqttService",
    "Will",
    "check_topic",
]
