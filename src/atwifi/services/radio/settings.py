"""What the radio needs from the module's configuration, and how long simulated things take."""

from __future__ import annotations

from dataclasses import dataclass, field

from atwifi.services.radio.enterprise import EapCredentials

ALL_CHANNELS = frozenset(range(1, 15))  # 2.4 GHz channels 1-14
MAX_TX_POWER = 18  # dBm, the module's top (Table 7 wifi_tx_power 0-18)


@dataclass
class RadioSettings:
    """A snapshot of the configuration, taken again at every join attempt (so a host that
    changes the passphrase while the module retries is heard at the next try)."""

    mac: str = "00:80:E1:FA:12:34"
    mode: int = 1  # 0 idle, 1 station, 2 IBSS, 3 MiniAP
    ssid: bytes = b"STTest"
    priv_mode: int = 0  # 0 open, 1 WEP, 2 WPA/WPA2 personal, 3 WPA2-Enterprise
    auth_type: int = 0  # 0 open system, 1 shared key
    psk_text: str = ""
    psk_raw: bytes = b""
    wep_keys: tuple[bytes, ...] = ()  # each already cut to its wifi_wep_key_lens length
    wep_default_key: int = 0
    eap: EapCredentials = field(default_factory=EapCredentials)  # everything 802.1X presents
    dhcpc: int = 2  # 0 static, 1 DHCP, 2 DHCP then AutoIP
    ipaddr: str = "192.168.0.50"
    netmask: str = "255.255.255.0"
    gw: str = "192.168.0.1"
    dns1: str = "208.67.222.222"
    dns2: str = "208.67.220.220"
    use_v6: bool = True
    rssi_thresh: int = 0  # 0: signal indications off
    rssi_hyst: int = 0
    beacon_loss_thresh: int = 10  # 0: the module never notices beacon loss
    channel: int = 1  # MiniAP / IBSS channel
    dhcpd: bool = True
    num_clients: int = 5
    macfilter: str = "00:00:00:00:00:00"
    lease_time: int = 120
    wps_pin: int = 1234567
    wps_walk_time: int = 120
    dhcp_timeout: int = 20
    channels: frozenset[int] = ALL_CHANNELS  # where the module may scan, join and transmit
    tx_power: int = MAX_TX_POWER  # dBm
    ap_idle_timeout: int = 120  # MiniAP: seconds of silence before a station is dropped (0 never)


# Durations of a real module's steps (seconds), for --timing real / [radio] timing = "real".
# No SPWF04 datasheet gives them; they follow 802.11 and what embedded stations take, so that
# driver races hidden by the fast profile show (docs/behaviour.md "Timing profiles"):
REAL = {
    "scan": 2.0,  # 13 channels x ~150 ms (active probe wait + passive dwell + switching)
    "auth": 0.05,  # open-system authentication: one frame exchange and the AP's processing
    "assoc": 0.05,  # association request/response
    "handshake": 0.3,  # WPA 4-way handshake, keys installed on a Cortex-M4 host
    "dhcp": 1.0,  # DISCOVER/OFFER/REQUEST/ACK with a home router's usual reply delays
    "module_second": 1.0,  # a second is a second: ip_dhcp_timeout 20 is 20 s
    "beacon": 0.1024,  # 100 TU, the beacon interval of nearly every AP
    "retry": 1.0,  # first pause after a failed join, doubling...
    "retry_max": 8.0,  # ...to a few seconds, as the module's join retries are
    "ap_start": 0.5,  # bringing up a MiniAP/IBSS cell (radio reconfiguration, beaconing)
}
PROFILES = ("fast", "real")


@dataclass
class Timing:
    """Wall-clock seconds of the simulated steps. The default ("fast") profile is small, so
    tests are fast; "real" is what a module takes. A world's ``[radio] time_scale``
    multiplies all of them (0 makes every step immediate)."""

    scan: float = 0.02
    auth: float = 0.005
    assoc: float = 0.005
    handshake: float = 0.01
    dhcp: float = 0.01
    module_second: float = 0.005  # one second of module time (DHCP timeout, WPS walk time)
    beacon: float = 0.002  # one beacon interval (beacon loss window = threshold x this)
    retry: float = 0.1  # first pause after a failed join; doubles up to retry_max
    retry_max: float = 1.0
    ap_start: float = 0.01
    scale: float = field(default=1.0)

    @classmethod
    def profile(cls, name: str, scale: float = 1.0) -> Timing:
        if name not in PROFILES:
            raise ValueError(f"timing profile {name!r}: one of {', '.join(PROFILES)}")
        return cls(**REAL, scale=scale) if name == "real" else cls(scale=scale)

    def __call__(self, name: str, times: float = 1.0) -> float:
        return float(getattr(self, name)) * times * self.scale
