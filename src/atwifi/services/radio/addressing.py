"""Addresses the radio hands out or derives: DHCP leases, AutoIP, IPv6 link-local."""

from __future__ import annotations

import ipaddress


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def format_ipv6(addr: ipaddress.IPv6Address) -> str:
    """The module's IPv6 text: eight groups, lower-case hex, no zero compression
    (the manual's ``fe80:0:0:0:280:e1ff:fefa:1234``)."""
    packed = addr.packed
    return ":".join(f"{int.from_bytes(packed[i : i + 2], 'big'):x}" for i in range(0, 16, 2))


def link_local(mac: str) -> str:
    """fe80::/64 with the modified EUI-64 interface id of ``mac`` (RFC 4291 appendix A)."""
    m = bytearray(mac_bytes(mac))
    m[0] ^= 0x02
    iid = bytes(m[:3]) + b"\xff\xfe" + bytes(m[3:])
    return format_ipv6(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))


def autoip(mac: str, attempt: int = 0) -> str:
    """An RFC 3927 address 169.254.1.0 - 169.254.254.255 seeded by the MAC (and the attempt,
    for the rare conflict), so a module always picks the same one first."""
    m = mac_bytes(mac)
    n = (int.from_bytes(m[-3:], "big") + attempt * 7919) % (254 * 256 - 256)
    return str(ipaddress.IPv4Address("169.254.1.0") + n)


class DhcpPool:
    """The addresses an access point's DHCP server leases: one per client MAC, stable."""

    def __init__(
        self,
        network: str,
        gateway: str,
        reserved: tuple[str, ...] = (),
        first: str | None = None,
    ) -> None:
        self.net = ipaddress.IPv4Network(network, strict=False)
        # MiniAP: hand out addresses in order from ``first``; an AP of the world: MAC-derived.
        self.first = ipaddress.IPv4Address(first) if first else None
        self.gateway = ipaddress.IPv4Address(gateway)
        self.reserved = {ipaddress.IPv4Address(r) for r in reserved} | {self.gateway}
        self.leases: dict[str, ipaddress.IPv4Address] = {}
        # Addresses leased, kept in step with ``leases``: a lease costs O(1), not a set of every
        # lease rebuilt (a fleet's access point leases to thousands of modules).
        self._leased: set[ipaddress.IPv4Address] = set()

    def lease(self, mac: str) -> str | None:
        """The address for ``mac``; None when the pool is exhausted."""
        if mac in self.leases:
            return str(self.leases[mac])
        hosts = self.net.num_addresses - 2
        leased, reserved = self._leased, self.reserved
        if self.first is not None:
            start = int(self.first) - int(self.net.network_address) - 1
        else:
            # A MAC-derived offset in the upper half, so leases look like a home router's.
            start = int.from_bytes(mac_bytes(mac)[-2:], "big") % max(hosts // 2, 1) + hosts // 2
        for i in range(hosts):
            addr = self.net.network_address + 1 + (start + i) % hosts
            if addr not in leased and addr not in reserved:
                self.leases[mac] = addr
                leased.add(addr)
                return str(addr)
        return None

    def release(self, mac: str) -> None:
        addr = self.leases.pop(mac, None)
        if addr is not None:
            self._leased.discard(addr)
