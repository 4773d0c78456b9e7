"""The IP services part: publishes ``device.net`` (names, the network policy, ping, NTP).

The policy comes from the command line (``device.options.net``) and the world file
(``device.world.policy``); the names from the world's ``[hosts]`` table and the system hosts
file. Choices: docs/behaviour.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atwifi.errors import AtError
from atwifi.services.net import sntp
from atwifi.services.net.dial import Dialer
from atwifi.services.net.policy import NetworkPolicy
from atwifi.services.net.resolver import SYSTEM_HOSTS, ResolveError, Resolver, ip_literal
from atwifi.services.supervise import restarting

if TYPE_CHECKING:
    from atwifi.services.net import ping as ping_service
    from atwifi.spwf04.device import Device

NTP_PORT = 123
NTP_TIMEOUT_S = 5.0  # per server; the query runs in the background, the console is free
PING_TIMEOUT_S = 1.0  # per echo request, as ping(8) waits between requests


def policy_for(options_net: object, world: object | None) -> NetworkPolicy:
    """``--net any`` (or any explicit list of networks) wins; with the default ``loopback``
    the world file's ``policy`` may open more; with neither, loopback only."""
    spec = options_net if options_net not in (None, "", "loopback") else None
    if spec is None and world is not None:
        spec = getattr(world, "policy", None) or None
    return NetworkPolicy.from_spec(spec)  # type: ignore[arg-type]


def split_server(text: str) -> tuple[str, int]:
    """An ip_ntp_server value -> (host, port). ``name:port``, ``a.b.c.d:port`` and
    ``[v6]:port`` name a port (used by tests and local servers); otherwise port 123."""
    t = text.strip()
    if t.startswith("["):
        host, _, rest = t[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif t.count(":") == 1:
        host, _, port = t.partition(":")
    else:  # a bare IPv6 literal, or a plain name
        host, port = t, ""
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"bad NTP server port in {text!r}")
        return host, int(port)
    return host, NTP_PORT


def wind84_fields(t: float) -> tuple[str, int, str]:
    """WIND:84 fields for unix time ``t``, shaped ``%u.%u.%u:%u:%u.%u.%u``: year.month.day,
    day of week, hour.min.sec. As AT+S.TIME prints them: a two-digit year (the module's RTC
    keeps years 0-99) and Sunday = 0; %u means no zero padding."""
    tm = time.gmtime(int(t))
    dow = (tm.tm_wday + 1) % 7  # Python's Monday = 0 -> C's Sunday = 0
    return (
        f"{tm.tm_year % 100}.{tm.tm_mon}.{tm.tm_mday}",
        dow,
        f"{tm.tm_hour}.{tm.tm_min}.{tm.tm_sec}",
    )


class Net:
    """``device.net``: what handlers, the sockets service and the radio part use."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self._world: object | None = None
        self._world_seen = False
        self.policy: NetworkPolicy
        self.resolver: Resolver
        self._ntp_task: asyncio.Task[Any] | None = None
        self.last_sync: float | None = None  # module time of the last NTP delivery
        self._refresh()

    # --- policy and names ------------------------------------------------------------------

    def _refresh(self) -> None:
        """(Re)build policy and resolver when the world object appears or changes (the radio
        part may load it after this part started)."""
        world = getattr(self.device, "world", None)
        if self._world_seen and world is self._world:
            return
        self._world, self._world_seen = world, True
        options = getattr(self.device, "options", None)
        try:
            self.policy = policy_for(getattr(options, "net", None), world)
        except ValueError as e:
            # The world loader should have caught it; never fail open.
            self.device.trace_note(f"network policy ignored ({e}): loopback only")
            self.policy = NetworkPolicy()
        hosts_file = getattr(options, "hosts_file", None) or SYSTEM_HOSTS
        hosts: dict[str, str] = {}
        for name, addr in (getattr(world, "hosts", None) or {}).items():
            if ip_literal(str(addr)) is None:
                self.device.trace_note(f"[hosts] {name} = {addr!r} ignored: not an IP address")
            else:
                hosts[str(name)] = str(addr)
        faults = getattr(self.device, "faults", None)
        self.resolver = Resolver(hosts, self.policy, Path(hosts_file), faults=faults)

    async def resolve(self, host: str) -> str:
        """The address of ``host``; AtError(65) "DNS address failure" when unknown, or when
        only DNS could answer and the policy keeps DNS queries on the machine."""
        self._refresh()
        try:
            return await self.resolver.resolve(host)
        except ResolveError as e:
            if e.blocked:
                self.device.trace_note(f"DNS blocked by network policy: {host} ({e.reason})")
            else:
                self.device.trace_note(f"DNS failure: {e}")
            raise AtError(65, str(e)) from e

    def allowed(self, ip: str) -> bool:
        self._refresh()
        return self.policy.allows(ip)

    def check(self, ip: str, port: int | None = None) -> None:
        """Refuse a destination the policy forbids, the way an unreachable one fails a socket:
        AtError(74) "Failed to open socket", with the reason in the trace. With ``port``, also
        the module's own console endpoint: a socket there would steal the console's host."""
        if not self.allowed(ip):
            self.device.trace_note(f"blocked by network policy: {ip}")
            raise AtError(74, f"blocked by network policy: {ip}")
        if port is not None and is_own_endpoint(ip, port, self.device.options.own_endpoints):
            self.device.trace_note(f"refused: {ip}:{port} is this module's own console")
            raise AtError(74, f"{ip}:{port} is this module's own console")

    # --- ping ------------------------------------------------------------------------------

    async def ping(
        self,
        host: str,
        count: int,
        size: int,
        on_reply: Callable[[str, ping_service.Reply], Awaitable[None]] | None = None,
    ) -> ping_service.PingResult:
        """Resolve ``host`` (AtError(65) on failure) and send real echo requests;
        ``on_reply(ip, reply)`` is awaited per reply. A blocked destination behaves as an
        unreachable one: no reply, nothing sent."""
        from atwifi.services.net import ping as ping_service  # at the first PING, not at boot

        ip = await self.resolve(host)
        target = ip
        if ip in self._own_addresses():
            # The module's simulated address exists nowhere on the host; the module answers
            # its own echo, so the host's loopback stands in for it.
            target = "::1" if ":" in ip else "127.0.0.1"
            self.device.trace_note(f"ping {ip}: the module's own address, sent to {target}")
        if not self.allowed(target):
            self.device.trace_note(f"blocked by network policy: {ip} (ping, nothing sent)")
            return ping_service.PingResult(address=ip, method="blocked", sent=count)

        async def each(reply: ping_service.Reply) -> None:
            if on_reply is not None:
                await on_reply(ip, reply)

        result = await ping_service.ping(
            target,
            count=count,
            size=size,
            timeout_s=PING_TIMEOUT_S,
            policy=self.policy,
            on_reply=each,
        )
        result.address = ip
        if result.method == "tcp-probe":
            self.device.trace_note(
                "ping: no ICMP socket allowed on this host (not root, and the group is outside "
                "net.ipv4.ping_group_range); answered with a TCP connect probe to port 7"
            )
        for err in result.errors:
            self.device.trace_note(f"ping {ip}: {err}")
        return result

    def _own_addresses(self) -> set[str]:
        """The module's current addresses as the radio gives them (none without a radio)."""
        out: set[str] = set()
        for name in ("ip_ipaddr", "ip_linklocal"):
            try:
                value = str(self.device.status.get(name))
            except (KeyError, AttributeError):
                continue
            lit = ip_literal(value)
            if lit is not None and lit not in ("0.0.0.0", "::"):
                out.add(lit)
        return out

    # --- NTP -------------------------------------------------------------------------------

    def _servers(self) -> list[str]:
        cfg = self.device.config
        out = []
        for name in ("ip_ntp_server1", "ip_ntp_server2"):
            value = str(cfg.get(name) or "").strip()
            if value and value.lower() not in ("null", "(null)"):
                out.append(value)
        return out

    async def sync_time(self) -> bool:
        """One SNTP round: ip_ntp_server1, then ip_ntp_server2. On an answer the module clock
        is set and +WIND:84 raised; on none, only the trace says why. Returns success."""
        self._refresh()
        for server in self._servers():
            try:
                host, port = split_server(server)
            except ValueError as e:
                self.device.trace_note(f"NTP: {e}")
                continue
            try:
                ip = await self.resolver.resolve(host)
            except ResolveError as e:
                note = "DNS blocked by network policy" if e.blocked else "DNS failure"
                self.device.trace_note(f"NTP: {note}: {e}")
                continue
            if not self.policy.allows(ip):
                self.device.trace_note(f"NTP: blocked by network policy: {ip} ({server})")
                continue
            try:
                # Through the connection path: the fault rules act on NTP as on any client
                # (the policy was asked just above, with NTP's own note).
                dialer = Dialer(faults=lambda: getattr(self.device, "faults", None))
                t = await sntp.query(ip, port, timeout_s=NTP_TIMEOUT_S, dialer=dialer, host=host)
            except (sntp.SntpError, OSError) as e:
                self.device.trace_note(f"NTP: {server} ({ip}:{port}): {e}")
                continue
            self.device.clock.set(t)
            self.last_sync = t
            self.device.trace_note(f"NTP: time from {server} ({ip}:{port}): {t:.3f}")
            self.device.wind(84, *wind84_fields(t))
            return True
        self.device.trace_note("NTP: no server answered; the clock is unchanged")
        return False

    async def _ntp_loop(self) -> None:
        while True:
            await self.sync_time()
            refresh = int(self.device.config.get("ip_ntp_refresh") or 0)
            if refresh <= 0:
                return
            # A module timer, not a test wait: the next refresh is due in ip_ntp_refresh s.
            await asyncio.sleep(refresh)

    def on_link_up(self) -> None:
        """The radio calls this when the IPv4 link is up (after +WIND:24). With
        ip_ntp_startup=1 it starts NTP in the background: a query now, then one every
        ip_ntp_refresh seconds. Never blocks; calling it again restarts the cycle."""
        if int(self.device.config.get("ip_ntp_startup") or 0) != 1:
            return
        self.stop_ntp()
        self._ntp_task = self.device.spawn(
            restarting(self._ntp_loop, "NTP", self.device.trace_note, pause=1.0)
        )

    def on_link_down(self) -> None:
        """The radio calls this when the link is lost: no refresh without a network."""
        self.stop_ntp()

    def stop_ntp(self) -> None:
        task, self._ntp_task = self._ntp_task, None
        if task is not None and not task.done():
            task.cancel()


class NetPart:
    attr = "net"

    def __init__(self, device: Device) -> None:
        self.device = device

    async def start(self) -> None:
        self.device.net = Net(self.device)

    async def after_boot(self) -> None:
        pass  # NTP waits for the radio's link-up (Net.on_link_up)

    async def stop(self) -> None:
        net = getattr(self.device, "net", None)
        if isinstance(net, Net):
            net.stop_ntp()


__all__ = ["Net", "NetPart", "dialer_for", "policy_for", "split_server", "wind84_fields"]


def dialer_for(device: Device) -> Dialer:
    """The device's one connection path (services/net/dial.py): its network policy
    (``device.net.check``, which notes a refusal in the trace), its TLS service and its fault
    rules, looked up at each connection (parts restart at every boot)."""

    def check(ip: str, port: int | None) -> None:
        net = device.net
        if net is not None:
            net.check(ip, port)

    return Dialer(
        check=check,
        tls=lambda: device.tls,
        faults=lambda: getattr(device, "faults", None),
    )


def is_own_endpoint(ip: str, port: int, endpoints: list[tuple[str, int]]) -> bool:
    """Whether ``ip:port`` reaches one of ``endpoints`` (where this module's console listens).
    A wildcard listener (0.0.0.0, ::) is reached through any loopback address."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for host, own_port in endpoints:
        if port != own_port:
            continue
        if host in ("", "0.0.0.0", "::"):
            if addr.is_loopback:
                return True
            continue
        try:
            if ipaddress.ip_address(host) == addr:
                return True
        except ValueError:  # a host name: the transport resolved it, so did the module
            if host == "localhost" and addr.is_loopback:
                return True
    return False
