"""What the simulated radio reports: abstract events, no WIND text (the dialect words them)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from atwifi.services.errors import ServiceError


class Ev(Enum):
    HW_STARTED = "hw_started"  # radio switched on
    POWERED_DOWN = "powered_down"  # radio switched off
    SCANNING = "scanning"
    SCAN_DONE = "scan_done"  # (reason,) 0 = completed
    JOIN = "join"  # (bssid,)
    JOIN_FAILED = "join_failed"  # (reason,)
    ASSOCIATED = "associated"  # (ssid,)
    HANDSHAKE = "handshake"  # WPA 4-way handshake complete
    UP = "up"  # (autoip_flag, ipv4)
    UP6 = "up6"  # (ipv6 link-local,)
    DHCP_FAILED = "dhcp_failed"  # (reason,) 0 = no answer
    REJECTED_NETWORK = "rejected_network"  # found, but its security does not fit ours
    REJECTED_ASSOC = "rejected_assoc"  # (status,)
    AUTH_TIMEOUT = "auth_timeout"
    ASSOC_TIMEOUT = "assoc_timeout"
    DEAUTH = "deauth"  # (reason,) IEEE 802.11 reason code
    DISASSOC = "disassoc"  # (reason,)
    BSS_LOST = "bss_lost"  # beacons missing
    BSS_REGAINED = "bss_regained"  # (threshold,)
    NETWORK_LOST = "network_lost"
    SIGNAL_LOW = "signal_low"  # (rssi,)
    SIGNAL_OK = "signal_ok"  # (rssi,)
    AP_STARTED = "ap_started"  # (ssid,) MiniAP or IBSS cell started
    STA_ASSOCIATED = "sta_associated"  # (mac, reassociation flag)
    DHCP_REPLY = "dhcp_reply"  # (ipv4, mac) our DHCP server leased an address
    STA_DISASSOCIATED = "sta_disassociated"  # (mac, reason)
    WPS_KEYSET = "wps_keyset"
    WPS_TIMEOUT = "wps_timeout"
    # Not indications: state for status variables, and facts other services need.
    STATE = "state"  # (wifi_state,) the value of Table 8's wifi_state
    CREDENTIALS = "credentials"  # (ssid: bytes, priv_mode, passphrase) learnt by WPS
    LINK_DOWN = "link_down"  # the IP interface is gone (sockets die)
    NOTE = "note"  # (text,) why something failed, for the trace (never on the console)


@dataclass(frozen=True)
class Event:
    kind: Ev
    args: tuple[object, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Event({self.kind.name}{', ' if self.args else ''}{', '.join(map(repr, self.args))})"
        )


class State:
    """Table 8's wifi_state values."""

    POWER_UP = 0
    HW_FAILURE = 1
    TERMINATED = 2  # radio switched off by the user
    IDLE = 3
    SCANNING = 4
    SCAN_DONE = 5
    JOINING = 6
    JOINED = 7
    AP_STARTED = 8
    HANDSHAKE_DONE = 9
    LINK_UP = 10


class RadioFault(Enum):
    OFF = "off"  # radio not running
    BUSY = "busy"  # a scan is in progress
    MODE = "mode"  # not allowed in this wifi mode
    BAD = "bad"  # bad request (e.g. unknown station)


class RadioError(ServiceError):
    """A radio request that cannot be done now: ``ServiceError(RadioFault.<kind>)``;
    ``code`` is the kind too (the dialect maps it)."""

    OFF = RadioFault.OFF
    BUSY = RadioFault.BUSY
    MODE = RadioFault.MODE
    BAD = RadioFault.BAD

    def __init__(self, code: RadioFault, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code.value}: {self.detail}" if self.detail else self.code.value
