"""The module's power states, dialect-free: active, powersave, sleep (stop), standby."""

from atwifi.services.power.power import (
    Power,
    PowerEv,
    PowerEvent,
    PowerFault,
    PowerSettings,
    PowerState,
)

__all__ = ["Power", "PowerEv", "PowerEvent", "PowerFault", "PowerSettings", "PowerState"]
