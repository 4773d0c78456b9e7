"""Which destination networks the virtual module may reach.

The module runs on the host's real network, so every packet it would send is first checked
here. The default is loopback only: nothing leaves the machine unless the user opens it
(``--net any`` or the world file's policy).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
ANY: tuple[str, ...] = ("0.0.0.0/0", "::/0")

_LOOPBACK_NETS = tuple(ipaddress.ip_network(n) for n in LOOPBACK)


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    addr = ipaddress.ip_address(ip.strip().split("%", 1)[0])  # drop an IPv6 zone id
    # ::ffff:a.b.c.d reaches a.b.c.d, so it is judged as that IPv4 address.
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


class NetworkPolicy:
    """A list of allowed destination networks (CIDR strings)."""

    def __init__(self, allowed: Iterable[str] = LOOPBACK) -> None:
        nets: list[IPNetwork] = []
        for text in allowed:
            try:
                nets.append(ipaddress.ip_network(str(text).strip(), strict=False))
            except ValueError as e:
                raise ValueError(f"bad network in policy: {text!r}") from e
        self.networks: tuple[IPNetwork, ...] = tuple(nets)

    @classmethod
    def from_spec(cls, spec: str | Iterable[str] | None) -> NetworkPolicy:
        """``"loopback"`` (or None/empty), ``"any"``, a comma-separated list of CIDRs, or a
        list of CIDRs; list items may themselves be ``"loopback"`` or ``"any"``. A policy
        never changes once made, so one spec gives one shared object (a fleet's modules)."""
        key = spec if spec is None or isinstance(spec, str) else tuple(str(i) for i in spec)
        if cls is NetworkPolicy:
            cached = _BY_SPEC.get(key)
            if cached is None:
                cached = _BY_SPEC[key] = cls._from_spec(spec)
            return cached
        return cls._from_spec(spec)

    @classmethod
    def _from_spec(cls, spec: str | Iterable[str] | None) -> NetworkPolicy:
        if spec is None:
            return cls(LOOPBACK)
        items = spec.split(",") if isinstance(spec, str) else list(spec)
        out: list[str] = []
        for item in (str(i).strip() for i in items):
            if not item:
                continue
            if item.lower() == "loopback":
                out += LOOPBACK
            elif item.lower() == "any":
                out += ANY
            else:
                out.append(item)
        return cls(out or LOOPBACK)

    def allows(self, ip: str) -> bool:
        """True when a packet to ``ip`` (an IP literal) may be sent. Anything that is not a
        valid IP literal is refused."""
        try:
            addr = _address(ip)
        except ValueError:
            return False
        return any(addr.version == n.version and addr in n for n in self.networks)

    @functools.cached_property
    def loopback_only(self) -> bool:
        """True when every allowed network lies inside loopback: then no packet may leave the
        machine, DNS queries included."""
        return all(
            any(n.version == lo.version and n.subnet_of(lo) for lo in _LOOPBACK_NETS)  # type: ignore[arg-type]
            for n in self.networks
        )

    def __repr__(self) -> str:
        return f"NetworkPolicy({[str(n) for n in self.networks]!r})"


_BY_SPEC: dict[object, NetworkPolicy] = {}
