"""The simulated radio of one module: station joins, IBSS, MiniAP, scans, WPS, peers.

Everything is event-driven: the radio reacts to the module (start/stop/scan/wps), to the
world (access points appearing, vanishing, changing) and to the control channel (link drops,
stations). Simulated delays are short sleeps (``Timing``); waits for the world are events.
It reports through ``emit(Event)`` only; the dialect turns events into indications.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from atwifi.services.radio.addressing import DhcpPool, autoip, link_local
from atwifi.services.radio.enterprise import authenticate
from atwifi.services.radio.events import Ev, Event, RadioError, State
from atwifi.services.radio.security import wpa_psk
from atwifi.services.radio.settings import MAX_TX_POWER, RadioSettings, Timing
from atwifi.services.radio.world import AccessPoint, World, norm_mac
from atwifi.services.supervise import restarting

RANGE_LIMIT = -95  # dBm: an access point weaker than this is out of range
MAX_STATIONS = 5  # MiniAP peers 1..5 (Table 9)
ZERO_MAC = "00:00:00:00:00:00"
NEED_PRIV = {"open": 0, "wep": 1, "wpa": 2, "wpa2": 2, "wpa-wpa2": 2, "wpa2-enterprise": 3}

# 802.11 capability information bits (the SCAN line's CAPS field)
CAP_ESS, CAP_IBSS, CAP_PRIVACY, CAP_SHORT_PREAMBLE, CAP_SHORT_SLOT = 0x1, 0x2, 0x10, 0x20, 0x400


@dataclass
class ScanEntry:
    bssid: str
    channel: int
    rssi: int
    ssid: str
    caps: int
    flags: tuple[str, ...]  # any of "WPS", "WPA", "WPA2"


@dataclass
class IpInfo:
    address: str
    netmask: str
    gateway: str
    dns1: str
    dns2: str
    autoip: bool = False
    linklocal: str = ""


@dataclass
class Peer:
    mac: str
    rssi: int = -45
    ip: str = ""
    since: float = 0.0
    rx_pkts: int = 0
    tx_pkts: int = 0
    active: float = 0.0  # loop time of the station's last frame (MiniAP idle timeout)
    renewed: float = 0.0  # loop time of its last DHCP request or renewal (lease expiry)


@dataclass
class _Drop:
    kind: str = "beacon"  # beacon | deauth | disassoc
    beacons: int | None = None  # beacon loss: how many beacons go missing (None: for good)
    reason: int = 3


def scan_entry(ap: AccessPoint) -> ScanEntry:
    caps = CAP_ESS | CAP_SHORT_PREAMBLE | CAP_SHORT_SLOT
    if ap.security != "open":
        caps |= CAP_PRIVACY
    flags: list[str] = []
    if ap.wps:
        flags.append("WPS")
    if ap.security in ("wpa", "wpa-wpa2"):
        flags.append("WPA")
    if ap.security in ("wpa2", "wpa-wpa2", "wpa2-enterprise"):
        flags.append("WPA2")
    return ScanEntry(ap.bssid, ap.channel, ap.rssi, ap.ssid, caps, tuple(flags))


class Radio:
    """One module's radio in a ``World``. ``settings()`` reads the module's configuration."""

    def __init__(
        self,
        world: World,
        settings: Callable[[], RadioSettings],
        emit: Callable[[Event], None],
        *,
        timing: Timing | None = None,
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]] | None = None,
    ) -> None:
        self.world = world
        self._settings = settings
        self._emit_fn = emit
        self.timing = timing or Timing.profile(world.timing, scale=world.time_scale)
        self._spawn = spawn or asyncio.ensure_future
        self.listeners: list[Callable[[Event], None]] = []  # other services (sockets)
        self.on = False
        self.mode = 0
        self.state = State.POWER_UP
        self.ap: AccessPoint | None = None  # joined access point (station mode)
        self.bssid = ZERO_MAC
        self.channel = 0
        self.ip: IpInfo | None = None
        self.ip_ready = False
        self.scanning = False
        self.stations: dict[int, Peer] = {}
        self._ip_event = asyncio.Event()
        self._settled = asyncio.Event()
        self._kick = asyncio.Event()
        self._listening = False  # our _kick.set is in world.listeners
        self._drops: list[_Drop] = []
        self._task: asyncio.Task[None] | None = None
        self._dhcpd: DhcpPool | None = None
        self._signal_low = False
        self._started_at = 0.0
        self._fingerprint: tuple[object, ...] = ()
        self._stations_changed = asyncio.Event()
        self._departed: dict[str, float] = {}  # MiniAP: lease end of stations that left

    # -- life cycle ------------------------------------------------------------------------
    def settings(self) -> RadioSettings:
        return self._settings()

    async def start(self, announce: bool = False) -> None:
        """Switch the radio on and start what ``wifi_mode`` asks for. ``announce`` reports
        HW_STARTED first (AT+S.WIFI=1; at boot the device prints WIND:32 itself)."""
        if self.on:
            return
        self.on = True
        self._settled.clear()
        self._started_at = asyncio.get_running_loop().time()
        if not self._listening:
            # A flag, not `in world.listeners`: with thousands of radios in one world (a
            # fleet) that membership test made every boot O(radios).
            self.world.listeners.append(self._kick.set)
            self._listening = True
        if announce:
            self._emit(Ev.HW_STARTED)
        s = self.settings()
        self.mode = s.mode
        self._set_state(State.IDLE)
        main = {1: self._station_main, 2: self._ibss_main, 3: self._miniap_main}.get(s.mode)
        if main is not None:
            self._task = self._spawn(
                restarting(
                    main,
                    "radio",
                    self._note,
                    pause=self.timing("retry_max"),
                    on_failure=lambda: self._set_state(State.IDLE),
                )
            )
        else:
            self._settled.set()

    async def stop(self, announce: bool = False) -> None:
        """Switch the radio off (AT+S.WIFI=0 with ``announce``; reset/power-off without)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._listening:
            self._listening = False
            with contextlib.suppress(ValueError):
                self.world.listeners.remove(self._kick.set)
        was_on, self.on = self.on, False
        self._link_down(quiet=True)
        self.stations.clear()
        self._departed.clear()
        self._dhcpd = None
        self.scanning = False
        self._drops.clear()
        self._settled.set()
        if was_on and announce:
            self._set_state(State.TERMINATED)
            self._emit(Ev.POWERED_DOWN)

    async def _guard(self, coro: Coroutine[Any, Any, None]) -> None:
        # A bug in the simulation must not vanish silently in a background task.
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:  # pragma: no cover - reported, then the radio idles
            import logging

            logging.getLogger(__name__).exception("radio task failed")
            self._set_state(State.IDLE)

    # -- queries ---------------------------------------------------------------------------
    @property
    def address(self) -> str | None:
        return self.ip.address if self.ip_ready and self.ip else None

    async def wait_ip_ready(self) -> None:
        await self._ip_event.wait()

    async def wait_settled(self) -> None:
        """Return once the radio's start has an outcome: link up, the first join attempt
        failed (retries go on), an idle radio, or the radio stopped. Lets a test (or a host)
        begin on a quiet console after boot."""
        await self._settled.wait()

    def status_values(self) -> dict[str, str]:
        """Table 8 values the radio owns, as STS prints them."""
        ip = self.ip
        return {
            "wifi_state": str(self.state),
            "wifi_bssid": self.bssid,
            "wifi_channelnum": str(self.channel),
            "wifi_aid": "1" if self.ap is not None else "0",
            "wifi_num_assoc": str(len(self.stations)),
            "ip_from_AutoIP": "1" if ip and ip.autoip else "0",
            "ip_ipaddr": ip.address if ip else "0.0.0.0",
            "ip_netmask": ip.netmask if ip else "0.0.0.0",
            "ip_gw": ip.gateway if ip else "0.0.0.0",
            "ip_dns1": ip.dns1 if ip else "0.0.0.0",
            "ip_dns2": ip.dns2 if ip else "0.0.0.0",
            "ip_linklocal": ip.linklocal if ip and ip.linklocal else "0:0:0:0:0:0:0:0",
        }

    def peer_table(self) -> dict[int, dict[str, str]]:
        """Peer index -> Table 9 variable -> printed value. 0 is the AP we joined (station
        mode); 1..5 are stations associated to our MiniAP."""
        now = self._uptime()
        out: dict[int, dict[str, str]] = {}
        if self.ap is not None and self.mode in (1, 2):
            ap = self.ap
            caps = scan_entry(ap).caps
            out[0] = _peer_vars(0, ap.bssid, ap.rssi, now, 12, 14, caps, ap.security != "open")
        for idx, st in sorted(self.stations.items()):
            caps = CAP_ESS | CAP_SHORT_PREAMBLE | CAP_SHORT_SLOT
            out[idx] = _peer_vars(idx, st.mac, st.rssi, now, st.rx_pkts, st.tx_pkts, caps, False)
        return out

    def _uptime(self) -> int:
        if not self.on:
            return 0
        return int(asyncio.get_running_loop().time() - self._started_at)

    # -- scans -----------------------------------------------------------------------------
    def _reachable(self, ap: AccessPoint) -> bool:
        return ap.present and ap.rssi >= RANGE_LIMIT and ap in self.world.access_points

    def visible(self) -> list[AccessPoint]:
        channels = self.settings().channels
        return [
            ap for ap in self.world.access_points if self._reachable(ap) and ap.channel in channels
        ]

    @staticmethod
    def heard_by_peer(rssi: int, s: RadioSettings) -> int:
        """What a peer receives of the module when the module receives the peer at ``rssi``:
        the path is the same both ways, the module's transmit power is its own
        (wifi_tx_power below the 18 dBm top weakens it dB for dB)."""
        return rssi - (MAX_TX_POWER - s.tx_power)

    async def scan(self) -> list[ScanEntry]:
        """An explicit scan (AT+S.SCAN): every access point in range, by channel."""
        if not self.on:
            raise RadioError(RadioError.OFF, "radio is off")
        if self.scanning:
            raise RadioError(RadioError.BUSY, "a scan is in progress")
        self.scanning = True
        try:
            await asyncio.sleep(self.timing("scan"))
            aps = sorted(self.visible(), key=lambda a: a.channel)
            return [scan_entry(ap) for ap in aps]
        finally:
            self.scanning = False

    # -- events and waiting ------------------------------------------------------------------
    def _emit(self, kind: Ev, *args: object) -> None:
        ev = Event(kind, args)
        self._emit_fn(ev)
        for fn in list(self.listeners):
            fn(ev)

    def _note(self, text: str) -> None:
        self._emit(Ev.NOTE, text)

    def _set_state(self, n: int) -> None:
        self.state = n
        self._emit(Ev.STATE, n)

    async def _pause(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early on any world change or control request."""
        self._kick.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._kick.wait(), max(seconds, 0.005))

    # -- station mode ------------------------------------------------------------------------
    async def _station_main(self) -> None:
        failures = 0
        while True:
            s = self.settings()
            if await self._attempt(s):
                failures = 0
                await self._monitor(s)
                continue
            failures += 1
            self._settled.set()
            delay = min(self.timing("retry") * 2 ** (failures - 1), self.timing("retry_max"))
            await self._pause(delay)

    async def _scan_for(self, ssid: bytes) -> AccessPoint | None:
        self._set_state(State.SCANNING)
        self._emit(Ev.SCANNING)
        self.scanning = True
        try:
            await asyncio.sleep(self.timing("scan"))
        finally:
            self.scanning = False
        found = [ap for ap in self.visible() if ap.ssid.encode("utf-8") == ssid]
        self._emit(Ev.SCAN_DONE, 0)
        self._set_state(State.SCAN_DONE)
        return max(found, key=lambda a: a.rssi) if found else None

    async def _attempt(self, s: RadioSettings) -> bool:
        """One join: scan, authenticate, associate, handshake, address. True when up."""
        ap = await self._scan_for(s.ssid)
        if ap is None:
            self._note(f"no access point with SSID {s.ssid!r} in range")
            self._set_state(State.IDLE)
            return False
        if NEED_PRIV[ap.security] != s.priv_mode:
            self._note(f"{ap.ssid} is {ap.security}, wifi_priv_mode={s.priv_mode} does not fit")
            self._emit(Ev.REJECTED_NETWORK)
            self._set_state(State.IDLE)
            return False
        self._emit(Ev.JOIN, ap.bssid)
        self._set_state(State.JOINING)
        await asyncio.sleep(self.timing("auth"))
        wep_ok = True
        if ap.security == "wep":
            mine = (
                s.wep_keys[s.wep_default_key] if 0 <= s.wep_default_key < len(s.wep_keys) else b""
            )
            wep_ok = bool(mine) and mine == ap.wep_key(s.wep_default_key)
            if not wep_ok:
                self._note(f"{ap.ssid}: WEP key {s.wep_default_key} differs from the AP's")
            if not wep_ok and s.auth_type == 1:
                # Shared key: the AP never confirms our answer to its challenge.
                self._emit(Ev.AUTH_TIMEOUT)
                self._set_state(State.IDLE)
                return False
        await asyncio.sleep(self.timing("assoc"))
        if not self._reachable(ap):
            self._emit(Ev.ASSOC_TIMEOUT)
            self._set_state(State.IDLE)
            return False
        if self.heard_by_peer(ap.rssi, s) < RANGE_LIMIT:
            # We hear its beacons, it does not hear our association request.
            self._note(
                f"{ap.ssid} cannot hear the module at wifi_tx_power={s.tx_power} dBm "
                f"({self.heard_by_peer(ap.rssi, s)} dBm at the AP)"
            )
            self._emit(Ev.ASSOC_TIMEOUT)
            self._set_state(State.IDLE)
            return False
        self.ap, self.bssid, self.channel = ap, ap.bssid, ap.channel
        self._fingerprint = ap.fingerprint()
        self._emit(Ev.ASSOCIATED, ap.ssid)
        self._set_state(State.JOINED)
        if s.priv_mode in (2, 3):
            await asyncio.sleep(self.timing("handshake"))
            if s.priv_mode == 2:
                ok = await self._psk_matches(ap, s)
                reason = 15  # 4-way handshake timeout: our MIC never verifies
            else:
                refused = await asyncio.to_thread(authenticate, ap, s.eap)  # parses certificates
                ok = refused is None
                reason = 23  # IEEE 802.1X authentication failed
            if not ok:
                self._note(
                    f"{ap.ssid}: the PSK does not match the AP's passphrase"
                    if s.priv_mode == 2
                    else str(refused)
                )
                self._emit(Ev.DEAUTH, reason)
                self._link_down(quiet=True)
                self._set_state(State.IDLE)
                return False
            self._emit(Ev.HANDSHAKE)
        self._set_state(State.HANDSHAKE_DONE)
        return await self._acquire_ip(s, ap, dhcp_reachable=wep_ok)

    async def _psk_matches(self, ap: AccessPoint, s: RadioSettings) -> bool:
        ssid = ap.ssid.encode("utf-8")
        theirs = await asyncio.to_thread(wpa_psk, ap.passphrase, ssid)
        if s.psk_text:
            mine = await asyncio.to_thread(wpa_psk, s.psk_text, ssid)
        else:
            mine = s.psk_raw
        return mine == theirs

    async def _acquire_ip(
        self, s: RadioSettings, ap: AccessPoint | None, dhcp_reachable: bool
    ) -> bool:
        if s.dhcpc == 0:
            ip = IpInfo(s.ipaddr, s.netmask, s.gw, s.dns1, s.dns2)
        else:
            while True:
                await asyncio.sleep(self.timing("dhcp"))
                if ap is not None and not self._reachable(ap):
                    return self._lost_while_joining()
                if ap is not None and dhcp_reachable and ap.dhcp:
                    addr = ap.dhcp_pool().lease(s.mac)
                    if addr is not None:
                        dns = ap.dns + ["0.0.0.0"]
                        netmask = str(ap.net.netmask)
                        ip = IpInfo(
                            addr, netmask, ap.gateway, dns[0], dns[1] if len(ap.dns) > 1 else dns[0]
                        )
                        break
                    reason = 4  # the server has no address to give
                else:
                    # Nobody answers: the client gives up after ip_dhcp_timeout seconds.
                    await asyncio.sleep(self.timing("module_second", max(s.dhcp_timeout, 1)))
                    if ap is not None and not self._reachable(ap):
                        return self._lost_while_joining()
                    reason = 0
                self._note("DHCP: no answer" if reason == 0 else "DHCP: no free address")
                self._emit(Ev.DHCP_FAILED, reason)
                self._settled.set()
                if s.dhcpc == 2:
                    ip = IpInfo(
                        autoip(s.mac), "255.255.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0", autoip=True
                    )
                    break
                await self._pause(self.timing("retry_max"))
        # State first, then the indications: whoever hears Ev.UP (device.net starts NTP) finds
        # the link up. Nothing awaits in between, so a host cannot see the difference.
        if s.use_v6:
            ip.linklocal = link_local(s.mac)
        self.ip = ip
        self.ip_ready = True
        self._set_state(State.LINK_UP if self.mode != 3 else State.AP_STARTED)
        self._emit(Ev.UP, 1 if ip.autoip else 0, ip.address)
        if s.use_v6:
            self._emit(Ev.UP6, ip.linklocal)
        self._ip_event.set()
        self._settled.set()
        return True

    def _lost_while_joining(self) -> bool:
        self._emit(Ev.NETWORK_LOST)
        self._link_down()
        self._set_state(State.IDLE)
        return False

    def _link_down(self, quiet: bool = False) -> None:
        was_up = self.ip_ready
        self.ip = None
        self.ip_ready = False
        self._ip_event.clear()
        self.ap = None
        self.bssid = ZERO_MAC
        self.channel = 0
        self._signal_low = False
        if was_up or not quiet:
            self._emit(Ev.LINK_DOWN)

    async def _monitor(self, s: RadioSettings) -> None:
        """While joined: follow the access point (signal, presence, keys) and link drops.
        Returns when the link is gone."""
        ap = self.ap
        assert ap is not None
        self._check_signal(ap, s)
        while True:
            self._kick.clear()
            if self._drops:
                if await self._drop(self._drops.pop(0), s):
                    return
                continue
            if ap.fingerprint() != self._fingerprint:
                self._emit(Ev.DEAUTH, 2)  # previous authentication no longer valid
                return self._lost()
            if not self._reachable(ap) and s.beacon_loss_thresh > 0:
                self._emit(Ev.BSS_LOST)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + self.timing("beacon", s.beacon_loss_thresh)
                while not self._reachable(ap) and loop.time() < deadline:
                    await self._pause(deadline - loop.time())
                if not self._reachable(ap):
                    return self._lost()
                self._emit(Ev.BSS_REGAINED, s.beacon_loss_thresh)
                continue
            if self._reachable(ap):
                self._check_signal(ap, s)
            await self._kick.wait()

    async def _drop(self, d: _Drop, s: RadioSettings) -> bool:
        """Apply a control-channel link drop; True when the link is gone."""
        if d.kind == "deauth":
            self._emit(Ev.DEAUTH, d.reason)
            self._lost()
            return True
        if d.kind == "disassoc":
            self._emit(Ev.DISASSOC, d.reason)
            self._lost()
            return True
        thresh = s.beacon_loss_thresh
        if thresh == 0:
            return False  # the module does not watch beacons: it notices nothing
        self._emit(Ev.BSS_LOST)
        if d.beacons is not None and d.beacons < thresh:
            await asyncio.sleep(self.timing("beacon", d.beacons))
            self._emit(Ev.BSS_REGAINED, thresh)
            return False
        await asyncio.sleep(self.timing("beacon", thresh))
        self._lost()
        return True

    def _lost(self) -> None:
        self._emit(Ev.NETWORK_LOST)
        self._link_down()
        self._set_state(State.IDLE)

    def _check_signal(self, ap: AccessPoint, s: RadioSettings) -> None:
        if s.rssi_thresh == 0:
            return
        if not self._signal_low and ap.rssi < s.rssi_thresh:
            self._signal_low = True
            self._emit(Ev.SIGNAL_LOW, ap.rssi)
        elif self._signal_low and ap.rssi >= s.rssi_thresh + s.rssi_hyst:
            self._signal_low = False
            self._emit(Ev.SIGNAL_OK, ap.rssi)

    # -- IBSS and MiniAP -------------------------------------------------------------------------
    async def _ibss_main(self) -> None:
        s = self.settings()
        await self._scan_for(s.ssid)
        await asyncio.sleep(self.timing("ap_start"))
        self._start_cell(s)
        # No DHCP server in an ad hoc cell: static, or DHCP failing then AutoIP.
        await self._acquire_ip(s, None, dhcp_reachable=False)

    async def _miniap_main(self) -> None:
        s = self.settings()
        await asyncio.sleep(self.timing("ap_start"))
        self._start_cell(s)
        self._dhcpd = DhcpPool(
            str(ipaddress.IPv4Network(f"{s.ipaddr}/{s.netmask}", strict=False)),
            s.ipaddr,
            first=str(ipaddress.IPv4Address(s.ipaddr) + 1),
        )
        await self._acquire_ip(
            RadioSettings(
                **{**s.__dict__, "dhcpc": 0, "gw": s.ipaddr, "dns1": s.ipaddr, "dns2": s.ipaddr}
            ),
            None,
            dhcp_reachable=False,
        )
        await self._expire_stations()

    async def _expire_stations(self) -> None:
        """MiniAP housekeeping until the radio stops: a station silent for
        ``wifi_ap_idle_timeout`` is disassociated (reason 4, inactivity); a lease not renewed
        for ``ip_dhcp_lease_time`` ends (an active station renews it, as DHCP clients do at
        half-time; one that left keeps its address reserved until then). Sleeps until the
        next deadline or a change: nothing wakes while nothing is due."""
        loop = asyncio.get_running_loop()
        while True:
            self._stations_changed.clear()
            s = self.settings()
            now = loop.time()
            idle = self.timing("module_second", s.ap_idle_timeout) if s.ap_idle_timeout else None
            lease = self.timing("module_second", s.lease_time)
            due: list[float] = []
            for p in list(self.stations.values()):
                if idle is not None and p.active + idle <= now:
                    self._note(f"station {p.mac} silent for {s.ap_idle_timeout} s: dropped")
                    self.remove_station(p.mac, reason=4)
                    continue
                if idle is not None:
                    due.append(p.active + idle)
                if p.ip and p.renewed + lease <= now:
                    self._note(f"lease of {p.ip} to {p.mac} expired: not renewed")
                    p.ip = ""
                elif p.ip:
                    due.append(p.renewed + lease)
            for mac, until in list(self._departed.items()):
                if until <= now:
                    del self._departed[mac]
                    if self._dhcpd is not None:
                        self._dhcpd.release(mac)
                else:
                    due.append(until)
            wait = max(min(due) - now, 0.0) if due else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stations_changed.wait(), wait)

    def _lease_to(self, peer: Peer, s: RadioSettings) -> None:
        """Our DHCP server answers ``peer`` (ip_use_dhcpd, ip_macfilter, ip_num_clients)."""
        filt = norm_mac(s.macfilter)
        leased = sum(1 for p in self.stations.values() if p.ip)
        if not (
            s.dhcpd
            and self._dhcpd is not None
            and filt in (ZERO_MAC, peer.mac)
            and leased < s.num_clients
        ):
            return
        addr = self._dhcpd.lease(peer.mac)
        if addr is not None:
            self._departed.pop(peer.mac, None)
            peer.ip = addr
            peer.renewed = asyncio.get_running_loop().time()
            self._emit(Ev.DHCP_REPLY, addr, peer.mac)

    def station_activity(self, mac: str) -> dict[str, Any]:
        """A simulated station sends a frame: it is not idle, and it renews its lease (or,
        its lease gone, asks for a new one: WIND 29 again)."""
        mac = norm_mac(mac)
        for idx, p in self.stations.items():
            if p.mac == mac:
                now = asyncio.get_running_loop().time()
                p.active = now
                if p.ip:
                    p.renewed = now
                else:
                    self._lease_to(p, self.settings())
                self._stations_changed.set()
                return {"peer": idx, "mac": mac, "ip": p.ip or None}
        raise RadioError(RadioError.BAD, f"no station {mac}")

    def _start_cell(self, s: RadioSettings) -> None:
        self.bssid = norm_mac(s.mac) if self.mode == 3 else _ibss_bssid(s.mac)
        self.channel = s.channel
        if s.channel not in s.channels:
            self.channel = min(s.channels)
            self._note(f"channel {s.channel} is not allowed in this region: using {self.channel}")
        self._emit(Ev.AP_STARTED, s.ssid.decode("utf-8", "surrogateescape"))
        self._set_state(State.AP_STARTED)

    def add_station(self, mac: str, rssi: int = -45, reassoc: bool = False) -> dict[str, Any]:
        """A simulated station associates to our MiniAP (and asks our DHCP server)."""
        if not self.on or self.mode != 3 or self.state != State.AP_STARTED:
            raise RadioError(RadioError.MODE, "the module is not running a MiniAP")
        mac = norm_mac(mac)
        if any(p.mac == mac for p in self.stations.values()):
            raise RadioError(RadioError.BAD, f"station {mac} is associated already")
        free = [i for i in range(1, MAX_STATIONS + 1) if i not in self.stations]
        if not free:
            raise RadioError(RadioError.BAD, "the peer table is full")
        s = self.settings()
        now = asyncio.get_running_loop().time()
        peer = Peer(mac, rssi=rssi, since=self._uptime(), active=now)
        self.stations[free[0]] = peer
        self._emit(Ev.STA_ASSOCIATED, mac, 1 if reassoc else 0)
        self._lease_to(peer, s)
        self._stations_changed.set()
        return {
            "peer": free[0],
            "mac": mac,
            "ip": peer.ip or None,
            "lease_time": s.lease_time,
            "module_rssi": self.heard_by_peer(rssi, s),  # the MiniAP as this station hears it
        }

    def remove_station(self, mac: str, reason: int = 8) -> dict[str, Any]:
        mac = norm_mac(mac)
        for idx, p in list(self.stations.items()):
            if p.mac == mac:
                del self.stations[idx]
                if p.ip:  # its address stays reserved until the lease would have ended
                    lease = self.timing("module_second", self.settings().lease_time)
                    self._departed[mac] = p.renewed + lease
                self._stations_changed.set()
                self._emit(Ev.STA_DISASSOCIATED, mac, reason)
                return {"peer": idx, "mac": mac}
        raise RadioError(RadioError.BAD, f"no station {mac}")

    # -- control-channel actions -------------------------------------------------------------
    def drop_link(
        self, kind: str = "beacon", beacons: int | None = None, reason: int | None = None
    ) -> None:
        if kind not in ("beacon", "deauth", "disassoc"):
            raise RadioError(RadioError.BAD, "kind is beacon, deauth or disassoc")
        if self.ap is None:
            raise RadioError(RadioError.BAD, "the module is not joined")
        default = 3 if kind == "deauth" else 8
        self._drops.append(_Drop(kind, beacons, default if reason is None else reason))
        self._kick.set()

    # -- WPS -------------------------------------------------------------------------------------
    def wps(self, mode: int, pin: str | None) -> None:
        """Start a WPS enrollment (0 push button, else PIN ``pin``); results come as events."""
        if not self.on:
            raise RadioError(RadioError.OFF, "radio is off")
        if self.mode != 1:
            raise RadioError(RadioError.MODE, "WPS only in station mode")
        old = self._task
        self._task = self._spawn(self._guard(self._wps_main(mode, pin, old)))

    async def _wps_main(self, mode: int, pin: str | None, old: asyncio.Task[None] | None) -> None:
        if old is not None and not old.done():
            old.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await old
        self._link_down(quiet=True)
        s = self.settings()
        self._emit(Ev.WPS_KEYSET)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timing("module_second", s.wps_walk_time)
        while True:
            self._set_state(State.SCANNING)
            await asyncio.sleep(self.timing("scan"))
            found = [
                ap
                for ap in self.visible()
                if ap.wps
                and ap.security in ("open", "wpa", "wpa2", "wpa-wpa2")
                and (mode == 0 or not ap.wps_pin or ap.wps_pin == pin)
            ]
            if found:
                break
            if loop.time() >= deadline:
                self._emit(Ev.WPS_TIMEOUT)
                self._set_state(State.IDLE)
                return await self._station_main()
            await self._pause(min(deadline - loop.time(), self.timing("retry")))
        ap = max(found, key=lambda a: a.rssi)
        priv = 0 if ap.security == "open" else 2
        self._emit(Ev.CREDENTIALS, ap.ssid.encode("utf-8"), priv, ap.passphrase)
        await self._station_main()


def _ibss_bssid(mac: str) -> str:
    # IBSS BSSIDs are random and locally administered; derive one from our MAC.
    m = bytearray(bytes.fromhex(mac.replace(":", "")))
    m[0] = (m[0] | 0x02) & 0xFE
    m[5] ^= 0x5A
    return ":".join(f"{b:02X}" for b in m)


def _peer_vars(
    link_id: int, mac: str, rssi: int, now: int, rx: int, tx: int, caps: int, protected: bool
) -> dict[str, str]:
    return {
        "link_id": str(link_id),
        "state": "4",
        "addr": mac,
        "last_rx": str(now),
        "last_tx": str(now),
        "rx_drops": "0",
        "tx_drops": "0",
        "rx_pkts": str(rx),
        "tx_pkts": str(tx),
        "tx_errs": "0",
        "rate_mask": "0x00003FCF",
        "cur_rate_idx": "3",
        "cur_rate_ok": "3",
        "cur_rate_fail": "0",
        "tx_consec_fail": "0",
        "rx_seqnum": f"0x{(rx * 16) & 0xFFFF:08X}",
        "rx_seqnum_mc": "0x00000000",
        "rx_rssi": str(rssi),
        "rx_rateidx": "13",
        "setprot": "3" if protected else "0",
        "listen_interval": "0",
        "capinfo": f"0x{caps:08X}",
    }


__all__ = ["Radio", "ScanEntry", "IpInfo", "Peer", "scan_entry"]
