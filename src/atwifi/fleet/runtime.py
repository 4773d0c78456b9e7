"""A fleet: many Devices in one event loop, one shared World.

* The world is loaded once and handed to every device before it boots (RadioPart keeps a
  world it finds on the device), so control-channel changes reach every module.
* A module running a MiniAP appears in the world as a ``ModuleAccessPoint``: the others scan
  it and join it; joining associates them to that module's MiniAP (its WIND:28/29, its DHCP
  server's address), leaving disassociates them.
* A module's socket server is reached by the others through its simulated address: the
  sockets service asks ``Fleet.route`` (parts/sockets.py) before it connects, and a simulated
  IP:port of a module on the same network segment becomes the host port its server listens on.

Per-module cost is kept low: no per-module timers or tasks beyond what the module itself has
(the parked console task), no per-module control socket (one for the fleet, ``module=NAME``),
and no per-module TFTP server unless the fleet file asks (each is a UDP socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atwifi.services.flash import syncfs
from atwifi.services.radio import Ev, Event
from atwifi.services.radio.world import AccessPoint, World

if TYPE_CHECKING:  # every module's parts import this file: the TOML spec only for a fleet
    from atwifi.fleet.spec import FleetSpec, ModuleSpec

log = logging.getLogger("atwifi.fleet")

PRIV = {0: "open", 1: "wep", 2: "wpa2"}  # wifi_priv_mode -> how the world calls it
BOOT_BATCH = 256  # modules booting at once: bounds the threads and sockets in flight
IO_THREADS = 16  # threads for the modules' flash I/O while a big fleet boots
PRELOAD_CHUNK = 32  # modules per thread for a batch's disk work (8 threads per batch)


class FreePorts(dict):  # type: ignore[type-arg]
    """The fleet's port map: no module port listens on its own number on the host (10,000
    modules cannot all have port 80). ``get(port, port)`` (socket servers) answers 0, a free
    port each time; ``get(port)`` (the TFTP and web servers) answers None, "not mapped", so
    those keep the free port they got first across resets, as under `atwifi serve`.
    `Fleet.route` and ``fleet.servers`` say where each server listens."""

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return self[key]
        return None if default is None else 0


@dataclass(eq=False)
class ModuleAccessPoint(AccessPoint):
    """A world access point that is a module's MiniAP."""

    module: Any = field(default=None, repr=False, compare=False, kw_only=True)

    def dhcp_pool(self) -> Any:
        return _MiniApLeases(self.module)


class _MiniApLeases:
    """What a joining station's DHCP client talks to: the MiniAP module's own DHCP server
    (radio.add_station: its WIND:28, WIND:29, its pool, ip_num_clients, ip_macfilter)."""

    def __init__(self, device: Any) -> None:
        self.device = device

    def lease(self, mac: str) -> str | None:
        radio = self.device.radio
        if radio is None:
            return None
        for p in radio.stations.values():
            if p.mac == mac:
                return p.ip or None
        try:
            info = radio.add_station(mac, rssi=-45)
        except (ValueError, RuntimeError, Exception) as e:  # table full, AP stopped
            self.device.trace_note(f"fleet: station {mac} not associated: {e}")
            return None
        return info.get("ip")


class FleetPart:
    """Per-device part: follows the radio's events to keep the fleet's tables (MiniAPs in the
    world, addresses) right. Does nothing on a device that is not in a fleet."""

    attr = "fleet_part"
    __slots__ = ("device", "_radio", "_joined", "_ap", "_ip")

    def __init__(self, device: Any) -> None:
        self.device = device
        self._radio: Any = None
        self._joined: ModuleAccessPoint | None = None  # the module MiniAP we are a station of
        self._ap: ModuleAccessPoint | None = None  # our own MiniAP in the world
        self._ip: str | None = None

    async def start(self) -> None:
        return None

    async def after_boot(self) -> None:
        fleet = getattr(self.device, "fleet", None)
        radio = self.device.radio
        if fleet is None or radio is None:
            return
        self._radio = radio
        radio.listeners.append(self._event)

    async def stop(self) -> None:
        fleet = getattr(self.device, "fleet", None)
        if self._radio is not None:
            with contextlib.suppress(ValueError):
                self._radio.listeners.remove(self._event)
            self._radio = None
        if fleet is not None:
            self._down(fleet)

    def _down(self, fleet: Fleet) -> None:
        self._leave()
        if self._ap is not None:
            ap, self._ap = self._ap, None
            if ap in fleet.world.access_points:
                fleet.world.access_points.remove(ap)
                fleet.world.touch()
        if self._ip is not None:
            if fleet.by_ip.get(self._ip) is self.device:
                del fleet.by_ip[self._ip]
            self._ip = None

    def _leave(self) -> None:
        ap, self._joined = self._joined, None
        if ap is not None and ap.module.radio is not None:
            with contextlib.suppress(Exception):
                ap.module.radio.remove_station(self.device.config.text("nv_wifi_macaddr"), 8)

    def _event(self, ev: Event) -> None:
        fleet: Fleet = self.device.fleet
        radio = self._radio
        if ev.kind is Ev.AP_STARTED and radio.mode == 3:
            self._publish(fleet, radio)
        elif ev.kind is Ev.ASSOCIATED:
            self._joined = radio.ap if isinstance(radio.ap, ModuleAccessPoint) else None
        elif ev.kind is Ev.UP and radio.ip is not None:
            self._ip = radio.ip.address
            fleet.by_ip[self._ip] = self.device
        elif ev.kind in (Ev.LINK_DOWN, Ev.POWERED_DOWN):
            self._down(fleet)

    def _publish(self, fleet: Fleet, radio: Any) -> None:
        s = radio.settings()
        try:
            net = ipaddress.IPv4Network(f"{s.ipaddr}/{s.netmask}", strict=False)
            security = PRIV.get(s.priv_mode, "open")
            ap = ModuleAccessPoint(
                ssid=s.ssid.decode("utf-8", "replace"),
                bssid=radio.bssid,
                channel=radio.channel or 1,
                rssi=-45,
                security=security,
                passphrase=s.psk_text if security == "wpa2" else "",
                wep_keys=[k.hex() for k in s.wep_keys] if security == "wep" else [],
                network=str(net),
                gateway=s.ipaddr,
                module=self.device,
            )
        except ValueError as e:  # a MiniAP the world cannot describe: the others do not see it
            self.device.trace_note(f"fleet: MiniAP not published: {e}")
            return
        if self._ap is not None and self._ap in fleet.world.access_points:
            fleet.world.access_points.remove(self._ap)
        self._ap = ap
        fleet.world.access_points.append(ap)
        self.device.trace_note(f"fleet: MiniAP {ap.ssid} ({ap.bssid}) visible to the fleet")
        fleet.world.touch()


@dataclass
class Member:
    spec: ModuleSpec
    index: int
    device: Any
    transport: Any


class Fleet:
    def __init__(self, spec: FleetSpec, world: World) -> None:
        self.spec = spec
        self.world = world
        self.members: dict[str, Member] = {}
        self.by_ip: dict[str, Any] = {}  # simulated IPv4 address -> device

    # -- routing between modules ---------------------------------------------------------
    @staticmethod
    def _segment(device: Any) -> Any:
        radio = device.radio
        if radio is None or not radio.ip_ready:
            return None
        if radio.mode == 3:
            part = _fleet_part(device)
            return part._ap if part is not None else None
        return radio.ap

    def route(self, device: Any, ip: str, port: int, kind: str) -> tuple[str, int] | None:
        """Where ``device``'s socket to simulated ``ip:port`` really goes: the host address of
        the server another module opened on ``port``, if both are on one network segment."""
        target = self.by_ip.get(ip)
        if target is None or target is device:
            return None
        seg = self._segment(device)
        if seg is None or seg is not self._segment(target):
            return None
        sockets = target.sockets
        if sockets is None:
            return None
        want = "u" if kind == "u" else None
        for server in sockets.servers.values():
            if server.port != port:
                continue
            if (want == "u") != (server.kind == "u"):
                continue
            device.trace_note(
                f"fleet: {ip}:{port} is module {target.fleet_name}'s server on "
                f"{target.options.bind_host}:{server.host_port}"
            )
            return target.options.bind_host, server.host_port
        return None

    # -- life cycle ----------------------------------------------------------------------
    def build(self) -> None:
        """Make every module's device and console (nothing runs yet). The garbage collector
        is paused while they are made, for the reason start() gives."""
        import gc

        enabled = gc.isenabled()
        gc.disable()
        try:
            self._build()
        finally:
            if enabled:
                gc.enable()

    def _build(self) -> None:
        from atwifi.spwf04.device import Device, Options
        from atwifi.transports import make_transport

        spec = self.spec
        ports = FreePorts()
        for i, m in enumerate(spec.modules):
            options = Options(
                state_dir=spec.state / m.name,
                net=spec.net,
                port_map=ports,
                bind_host=spec.host,
                timing=spec.timing,
                lazy_state=True,
            )
            device = Device(options)
            # Its own MAC from its index, as its factory value: in RAM, nothing written; a
            # saved configuration (AT+S.WCFG) keeps it even if the file's order changes.
            device.config.set_factory("nv_wifi_macaddr", fleet_mac(i))
            device.world = self.world
            device.fleet = self
            device.fleet_name = m.name
            _trim_parts(device, tftp=spec.tftp, httpd=spec.httpd)
            if m.console == "tcp":
                port = spec.base_port + i if spec.base_port else 0
                transport = make_transport("tcp", f"{spec.host}:{port}")
            else:
                transport = make_transport("pty", None)
            device.attach(transport.write, transport.drain)
            self.members[m.name] = Member(m, i, device, transport)

    async def start(self) -> None:
        """Boot every module. The cyclic garbage collector is paused meanwhile (one collection
        at the end): each full collection walks every live object, so with thousands of
        modules booting, collections made the boot quadratic. Not gc.freeze(): objects of a
        module that resets later would then never be collected."""
        import gc

        enabled = gc.isenabled()
        gc.disable()
        try:
            await self._start_all()
        finally:
            gc.collect()
            if enabled:
                gc.enable()

    async def _start_all(self) -> None:
        members = list(self.members.values())
        if len(members) > BOOT_BATCH // 8:
            # Boots wait on flash fsyncs in threads: more threads overlap more of them.
            from concurrent.futures import ThreadPoolExecutor

            asyncio.get_running_loop().set_default_executor(
                ThreadPoolExecutor(IO_THREADS, thread_name_prefix="fleet-io")
            )
        if not self.spec.base_port and any(_free_tcp(m.transport) for m in members):
            self._ports = PortPicker(*await asyncio.to_thread(ephemeral_range))
        for i in range(0, len(members), BOOT_BATCH):
            batch = members[i : i + BOOT_BATCH]
            # The batch's disk work in a few threads (the disk's waits overlap), its boot
            # counters made durable by one syncfs.
            devices = [m.device for m in batch]
            chunks = [devices[j : j + PRELOAD_CHUNK] for j in range(0, len(devices), PRELOAD_CHUNK)]
            wrote = await asyncio.gather(*(asyncio.to_thread(_preload, c) for c in chunks))
            if any(wrote):
                await asyncio.to_thread(syncfs, self.spec.state)
            await asyncio.gather(*(self._start_one(m) for m in batch))

    _ports: PortPicker | None = None

    async def _start_one(self, m: Member) -> None:
        t = m.transport
        if self._ports is not None and _free_tcp(t):
            await self._ports.start(t, m.device.feed)
        else:
            await t.start(m.device.feed)
        m.device.options.own_endpoints.extend(t.endpoints())
        await m.device.power_on()

    async def stop(self) -> None:
        members = list(self.members.values())
        for i in range(0, len(members), BOOT_BATCH):
            batch = members[i : i + BOOT_BATCH]
            await asyncio.gather(*(self._stop_one(m) for m in batch), return_exceptions=True)

    @staticmethod
    async def _stop_one(m: Member) -> None:
        await m.device.shutdown()
        await m.transport.close()

    def consoles(self) -> list[tuple[str, str]]:
        return [(name, m.transport.describe().splitlines()[0]) for name, m in self.members.items()]

    def device(self, name: str) -> Any:
        m = self.members.get(name)
        if m is None:
            raise KeyError(name)
        return m.device


FACTORY_MAC = "00:80:E1:FA:12:34"


def _preload(devices: list[Any]) -> bool:
    """Blocking: the power-on disk work of ``devices`` (configuration, boot counters, volumes,
    certificates...). A module with no state folder costs one stat; the counters of the others
    are written without fsync (the caller's one syncfs makes them durable before any of them
    boots on). Returns whether anything was written."""
    wrote = False
    for device in devices:
        wrote = device.preload() or wrote
    return wrote


def _free_tcp(transport: Any) -> bool:
    """A TCP console that is to listen on any free port."""
    return getattr(transport, "kind", None) == "tcp" and getattr(transport, "port", None) == 0


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for port 0 (Linux: /proc/sys/net/ipv4/ip_local_port_range)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        return 32768, 60999
    return (lo, hi) if 1024 <= lo < hi <= 65535 else (32768, 60999)


class PortPicker:
    """Free ports for thousands of console listeners. ``bind(port 0)`` makes the kernel search
    its range for a free port, and with some 7,000 ports of the range taken that search costs
    milliseconds per bind (3-6 ms measured here: 10,000 consoles took 20 s of binds alone).
    So the fleet names the ports itself, in turn through the same range from a point of its
    own (another process's ports are skipped: their bind fails, the next one is tried). A
    port the kernel would hand out, never a well-known one a service may want later."""

    TRIES = 256

    def __init__(self, lo: int, hi: int) -> None:
        import os

        self.lo, self.span = lo, hi - lo + 1
        self.next = (os.getpid() * 7919) % self.span  # two fleets start apart

    def take(self) -> int:
        port = self.lo + self.next
        self.next = (self.next + 1) % self.span
        return port

    async def start(self, transport: Any, feed: Any) -> None:
        import errno

        for _ in range(self.TRIES):
            transport.port = self.take()
            try:
                await transport.start(feed)
                return
            except OSError as e:
                if e.errno not in (errno.EADDRINUSE, errno.EACCES):
                    transport.port = 0
                    raise
        transport.port = 0  # a crowded range: let the kernel search after all
        await transport.start(feed)


def fleet_mac(index: int) -> str:
    """Module ``index``'s MAC address: ST's OUI (00:80:E1), index + 1 in the low 24 bits.
    Modules with one MAC would share DHCP leases and peer tables."""
    low = (index + 1) & 0xFFFFFF
    return f"00:80:E1:{low >> 16:02X}:{(low >> 8) & 0xFF:02X}:{low & 0xFF:02X}"


def _fleet_part(device: Any) -> FleetPart | None:
    for part in getattr(device, "_parts", ()):
        if isinstance(part, FleetPart):
            return part
    return None


def _trim_parts(device: Any, tftp: bool, httpd: bool) -> None:
    """Fleet modules share one control socket (the fleet's) and, unless asked, run no TFTP
    server and no web server: each costs sockets per module, and 10,000 modules would run out
    of file descriptors. The TFTP client (AT+S.TFTPGET/PUT) stays: its settings are kept; the
    web server's pages and INPUTSSI stay, only its listening sockets are not opened."""
    kept = []
    for part in device._parts:
        name = type(part).__name__
        if name == "ControlPart":
            continue
        if name == "HttpdPart" and not httpd:
            part._listen = _no_listen
        if name == "TftpPart" and not tftp:
            device.tftp = part.tftp
            continue
        kept.append(part)
    device._parts = kept


async def _no_listen(start: Any, port: int, host: str) -> int:
    raise OSError(f"not listening on module port {port}: the fleet file has httpd = false")


def load_world(spec: FleetSpec) -> World:
    if spec.world is None:
        world = World.default(spec.net)
    else:
        world = World.load(spec.world, net=spec.net if spec.net == "any" else None)
    if spec.timing is not None:
        world.timing = spec.timing
    return world


__all__ = ["Fleet", "FleetPart", "FreePorts", "ModuleAccessPoint", "fleet_mac", "load_world"]
