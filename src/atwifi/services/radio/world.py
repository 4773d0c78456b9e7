"""The simulated radio world: access points, the names the module resolves, the network policy.

A world comes from a TOML file (``--world FILE``, see examples/world.toml) or is the default one:
a single open access point named ``STTest`` (the module's factory SSID) and a loopback-only
policy. The world lives outside the module: it survives module resets, and the control channel
changes it while the module runs (``World.changed`` wakes whoever watches it).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atwifi.services.radio.addressing import DhcpPool
from atwifi.services.radio.settings import PROFILES

LOOPBACK_POLICY = ["127.0.0.0/8", "::1/128"]
ANY_POLICY = ["0.0.0.0/0", "::/0"]

SECURITIES = ("open", "wep", "wpa", "wpa2", "wpa-wpa2", "wpa2-enterprise")


class WorldError(ValueError):
    """A world file or a control request describes something impossible."""


def norm_mac(text: str) -> str:
    """``0:18:f8:3c:d9:18`` / ``0018f83cd918`` -> ``00:18:F8:3C:D9:18`` (the module's way)."""
    raw = text.replace(":", "").replace("-", "").strip()
    if len(raw) != 12:
        raise WorldError(f"bad MAC address {text!r}")
    try:
        octets = bytes.fromhex(raw)
    except ValueError:
        raise WorldError(f"bad MAC address {text!r}") from None
    return ":".join(f"{b:02X}" for b in octets)


def parse_hex_key(text: str) -> bytes:
    """A WEP key written as hex, with or without colons."""
    try:
        return bytes.fromhex(text.replace(":", "").replace(" ", ""))
    except ValueError:
        raise WorldError(f"bad WEP key {text!r}: hex expected") from None


def bssid_for(ssid: str) -> str:
    """A stable, locally administered BSSID for an access point the world gives none."""
    digest = hashlib.sha1(ssid.encode()).digest()
    return norm_mac(bytes([0x02]).hex() + digest[:5].hex())


@dataclass
class AccessPoint:
    ssid: str
    bssid: str = ""
    channel: int = 6
    rssi: int = -50
    security: str = "open"
    passphrase: str = ""  # WPA/WPA2 personal
    wep_keys: list[str] = field(default_factory=list)  # hex, index = key id, "" = none
    identities: list[str] = field(default_factory=list)  # WPA2-Enterprise: accepted identities
    eap_methods: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])  # wifi_eap_type
    eap_passwords: dict[str, str] = field(default_factory=dict)  # identity -> password
    radius_cert: bytes = b""  # the RADIUS server's certificate (DER); from PEM text or a file
    client_ca: bytes = b""  # EAP-TLS: the CA that must have signed the module's certificate
    wps: bool = False
    wps_pin: str = ""  # the PIN the registrar was given; empty: accepts the enrollee's PIN
    dhcp: bool = True  # does its DHCP server answer
    network: str = "192.168.1.0/24"
    gateway: str = ""  # default: first host of network
    dns: list[str] = field(default_factory=list)  # default: the gateway
    # Runtime state, changed through the control channel (not read from files):
    present: bool = True
    _pool: DhcpPool | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.ssid = str(self.ssid)
        if not 0 < len(self.ssid.encode()) <= 32:
            raise WorldError(f"SSID {self.ssid!r} must have 1 to 32 bytes")
        self.bssid = norm_mac(self.bssid) if self.bssid else bssid_for(self.ssid)
        self.channel = int(self.channel)
        if not 1 <= self.channel <= 14:
            raise WorldError(f"{self.ssid}: channel {self.channel} is not 1-14")
        self.rssi = int(self.rssi)
        if not -120 <= self.rssi <= 0:
            raise WorldError(f"{self.ssid}: rssi {self.rssi} is not -120..0 dBm")
        self.security = str(self.security).lower()
        if self.security not in SECURITIES:
            raise WorldError(f"{self.ssid}: security {self.security!r} not in {SECURITIES}")
        if self.security in ("wpa", "wpa2", "wpa-wpa2") and not 8 <= len(self.passphrase) <= 63:
            raise WorldError(f"{self.ssid}: a WPA passphrase has 8 to 63 characters")
        if self.security == "wep":
            if not any(self.wep_keys):
                raise WorldError(f"{self.ssid}: WEP needs wep_keys")
            for k in filter(None, self.wep_keys):
                if len(parse_hex_key(k)) not in (5, 13, 16):
                    raise WorldError(f"{self.ssid}: WEP keys have 5, 13 or 16 octets")
        if self.security == "wpa2-enterprise" and not self.identities:
            raise WorldError(f"{self.ssid}: WPA2-Enterprise needs identities")
        self.eap_methods = [int(m) for m in self.eap_methods]
        self.eap_passwords = {str(k): str(v) for k, v in self.eap_passwords.items()}
        self.radius_cert = _der(self.radius_cert, self.ssid, "radius_cert")
        self.client_ca = _der(self.client_ca, self.ssid, "client_ca")
        try:
            net = ipaddress.IPv4Network(self.network, strict=False)
        except ValueError as e:
            raise WorldError(f"{self.ssid}: network {self.network!r}: {e}") from None
        if net.num_addresses < 4:
            raise WorldError(f"{self.ssid}: network {self.network} is too small")
        self.network = str(net)
        self.gateway = str(ipaddress.IPv4Address(self.gateway or str(net.network_address + 1)))
        self.dns = [str(ipaddress.ip_address(d)) for d in (self.dns or [self.gateway])]
        self.wps_pin = str(self.wps_pin)

    @property
    def net(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.network)

    def wep_key(self, index: int) -> bytes | None:
        if 0 <= index < len(self.wep_keys) and self.wep_keys[index]:
            return parse_hex_key(self.wep_keys[index])
        return None

    def dhcp_pool(self) -> DhcpPool:
        """The AP's DHCP server state (leases), kept for the world's life."""
        if self._pool is None or str(self._pool.net) != self.network:
            self._pool = DhcpPool(self.network, self.gateway, tuple(self.dns))
        return self._pool

    def fingerprint(self) -> tuple[object, ...]:
        """What a joined station's keys depend on: a change makes the AP drop its stations."""
        return (
            self.ssid,
            self.security,
            self.passphrase,
            tuple(self.wep_keys),
            tuple(self.identities),
            tuple(self.eap_methods),
            tuple(sorted(self.eap_passwords.items())),
            self.radius_cert,
            self.client_ca,
        )

    def to_dict(self) -> dict[str, Any]:
        import ssl

        out = {name: getattr(self, name) for name in sorted(FILE_FIELDS | {"present"})}
        for key in ("radius_cert", "client_ca"):  # as PEM text, which a world file takes back
            out[key] = ssl.DER_cert_to_PEM_cert(out[key]) if out[key] else ""
        return out


FILE_FIELDS = {f for f in AccessPoint.__dataclass_fields__ if f not in ("present", "_pool")}


@dataclass
class World:
    access_points: list[AccessPoint] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)  # name -> address (net service)
    policy: list[str] = field(default_factory=lambda: list(LOOPBACK_POLICY))
    time_scale: float = 1.0  # multiplies every simulated radio delay
    timing: str = "fast"  # the timing profile (services/radio/settings.py PROFILES)
    faults: dict[str, Any] = field(default_factory=dict)  # [faults]: services/faults/load.py

    def __post_init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []
        # Called on every change (the radio re-checks its link); not part of the file format.
        self.listeners: list[Callable[[], None]] = []

    # -- construction --------------------------------------------------------------------
    @classmethod
    def default(cls, net: str = "loopback") -> World:
        ap = AccessPoint(
            ssid="STTest",
            bssid="00:18:F8:3C:D9:18",  # the manual's Table 8 example
            channel=11,
            rssi=-51,
            network="192.168.1.0/24",
            gateway="192.168.1.1",
        )
        return cls([ap], policy=policy_for(net))

    @classmethod
    def load(cls, path: Path, net: str | None = None) -> World:
        import tomllib  # only a world file needs it (not the default world, not a boot)

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise WorldError(f"world file {path}: {e}") from None
        return cls.from_dict(data, net=net, base=path.parent)

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], net: str | None = None, base: Path | None = None
    ) -> World:
        unknown = set(data) - {"ap", "hosts", "policy", "radio", "faults"}
        if unknown:
            raise WorldError(f"unknown world tables: {sorted(unknown)}")
        aps = [ap_from_dict(d, base) for d in data.get("ap", [])]
        seen: set[str] = set()
        for ap in aps:
            if ap.bssid in seen:
                raise WorldError(f"two access points with BSSID {ap.bssid}")
            seen.add(ap.bssid)
        hosts = {
            str(k).lower(): str(ipaddress.ip_address(v)) for k, v in data.get("hosts", {}).items()
        }
        pol = data.get("policy", {})
        if net == "any":
            policy = list(ANY_POLICY)
        elif "allow" in pol:
            policy = [str(ipaddress.ip_network(n, strict=False)) for n in pol["allow"]]
        else:
            policy = list(LOOPBACK_POLICY)
        radio = data.get("radio", {})
        scale = float(radio.get("time_scale", 1.0))
        if scale < 0:
            raise WorldError("radio.time_scale must be >= 0")
        timing = str(radio.get("timing", "fast"))
        if timing not in PROFILES:
            raise WorldError(f"radio.timing must be one of {', '.join(PROFILES)}")
        faults = dict(data.get("faults", {}))
        if faults:
            from atwifi.services.faults.load import parse_table

            try:
                parse_table(faults)  # checked now: a bad [faults] fails the load
            except ValueError as e:
                raise WorldError(f"[faults]: {e}") from None
        return cls(aps, hosts=hosts, policy=policy, time_scale=scale, timing=timing, faults=faults)

    # -- queries and changes -----------------------------------------------------------
    def visible(self) -> list[AccessPoint]:
        return [ap for ap in self.access_points if ap.present]

    def find(self, key: str) -> AccessPoint:
        """By BSSID or SSID (first match)."""
        try:
            mac = norm_mac(key)
        except WorldError:
            mac = None
        for ap in self.access_points:
            if ap.bssid == mac or ap.ssid == key:
                return ap
        raise WorldError(f"no access point {key!r}")

    def add(self, ap: AccessPoint) -> None:
        if any(a.bssid == ap.bssid for a in self.access_points):
            raise WorldError(f"an access point with BSSID {ap.bssid} exists")
        self.access_points.append(ap)
        self.touch()

    def remove(self, key: str) -> AccessPoint:
        ap = self.find(key)
        self.access_points.remove(ap)
        self.touch()
        return ap

    def touch(self) -> None:
        """Something changed: wake everyone waiting in ``wait_change``."""
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(None)
        for fn in list(self.listeners):
            fn()

    async def wait_change(self) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        finally:
            if fut in self._waiters:
                self._waiters.remove(fut)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ap": [ap.to_dict() for ap in self.access_points],
            "hosts": dict(self.hosts),
            "policy": {"allow": list(self.policy)},
            "radio": {"time_scale": self.time_scale, "timing": self.timing},
            **({"faults": self.faults} if self.faults else {}),
        }


def _der(value: bytes | str, ssid: str, what: str) -> bytes:
    """A certificate given as DER bytes, PEM text or the name of a PEM/DER file."""
    if isinstance(value, bytes):
        return value
    if not value:
        return b""
    import ssl

    text = str(value)
    if "-----BEGIN" not in text:
        try:
            raw = Path(text).read_bytes()
        except OSError as e:
            raise WorldError(f"{ssid}: {what}: {e}") from None
        if b"-----BEGIN" not in raw:
            return raw
        text = raw.decode("ascii", "replace")
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    start = text.find(begin)
    stop = text.find(end, start)
    try:
        if start < 0 or stop < 0:
            raise ValueError("no CERTIFICATE block")
        return ssl.PEM_cert_to_DER_cert(text[start : stop + len(end)])  # the first one: the leaf
    except ValueError as e:
        raise WorldError(f"{ssid}: {what} is not a PEM certificate: {e}") from None


def ap_from_dict(d: dict[str, Any], base: Path | None = None) -> AccessPoint:
    unknown = set(d) - FILE_FIELDS
    if unknown:
        raise WorldError(f"unknown access point keys: {sorted(unknown)}")
    if "ssid" not in d:
        raise WorldError("an access point needs an ssid")
    if base is not None:  # certificate files are named relative to the world file
        for key in ("radius_cert", "client_ca"):
            v = d.get(key)
            if isinstance(v, str) and v and "-----BEGIN" not in v and not Path(v).is_absolute():
                d = {**d, key: str(base / v)}
    try:
        return AccessPoint(**d)
    except TypeError as e:
        raise WorldError(str(e)) from None


def policy_for(net: str | None) -> list[str]:
    return list(ANY_POLICY) if net == "any" else list(LOOPBACK_POLICY)
