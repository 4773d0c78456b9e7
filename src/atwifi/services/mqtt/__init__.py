"""MQTT 3.1.1 client service: one broker connection, over TCP, TLS or WebSocket."""

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


def __getattr__(name: str) -> object:
    # Will lives in the codec, imported at first use (not at boot).
    if name == "Will":
        from atwifi.services.mqtt.codec import Will

        return Will
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
