"""Binds the simulated radio to the SPWF04: configuration in, WINDs and status variables out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atwifi.services.radio import Ev, Event, Radio, RadioSettings, World
from atwifi.services.radio.enterprise import EapCredentials
from atwifi.services.radio.settings import ALL_CHANNELS

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

ZERO_V6 = "0:0:0:0:0:0:0"  # how the manual prints an unset IPv6 status value


def load_world(device: Device) -> World:
    """The world of ``--world`` (or the default one), with ``--net any`` opening the policy."""
    opts = device.options
    net = getattr(opts, "net", "loopback")
    path = getattr(opts, "world", None)
    # A world is a small text file read once per process: no need to leave the loop for it.
    world = (
        World.default(net) if path is None else World.load(path, net=net if net == "any" else None)
    )
    if opts.timing is not None:  # --timing wins over the world file
        world.timing = opts.timing
    return world


def _text(value: object) -> str:
    """A field as the console codec wants it: one character per byte on the wire. Text
    (SSIDs) goes out as its UTF-8 bytes, as the module prints the SSID octets it has."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value).encode("utf-8", "surrogateescape").decode("latin-1")


def eap_credentials(device: Device) -> EapCredentials:
    """What the module presents to a WPA2-Enterprise network: wifi_eap_* and WPAECERT."""
    c = device.config
    store = device.tls.wpae if device.tls is not None else None
    return EapCredentials(
        identity=c.get("wifi_eap_identity"),
        password=c.get("wifi_eap_passwd"),
        method=c.get("wifi_eap_type"),
        cert=store.cert if store else None,
        key=store.key if store else None,
        cas=tuple(store.cas.values()) if store else (),
        check_dates=not c.get("wifi_eap_skip_datechecks"),
        now=device.clock.now(),
    )


def settings_from(device: Device) -> RadioSettings:
    c = device.config
    ssid: bytes = c.get("wifi_ssid")
    ssid = ssid[: min(c.get("wifi_ssid_len"), len(ssid))]
    lens: bytes = c.get("wifi_wep_key_lens")
    keys = tuple(
        bytes(c.get(f"wifi_wep_keys[{i}]"))[: lens[i] if i < len(lens) else 0] for i in range(4)
    )
    psk_text = c.get("wifi_wpa_psk_text")
    if psk_text in ("(null)", "NULL"):  # what C drivers send for "no passphrase"
        psk_text = ""
    return RadioSettings(
        mac=c.text("nv_wifi_macaddr"),
        mode=c.get("wifi_mode"),
        ssid=ssid,
        priv_mode=c.get("wifi_priv_mode"),
        auth_type=c.get("wifi_auth_type"),
        psk_text=psk_text,
        psk_raw=bytes(c.get("wifi_wpa_psk_raw")),
        wep_keys=keys,
        wep_default_key=c.get("wifi_wep_default_key"),
        eap=eap_credentials(device),
        dhcpc=c.get("ip_use_dhcpc"),
        ipaddr=c.get("ip_ipaddr"),
        netmask=c.get("ip_netmask"),
        gw=c.get("ip_gw"),
        dns1=c.get("ip_dns1"),
        dns2=c.get("ip_dns2"),
        use_v6=bool(c.get("ip_use_v6")),
        rssi_thresh=c.get("wifi_rssi_thresh"),
        rssi_hyst=c.get("wifi_rssi_hyst"),
        beacon_loss_thresh=c.get("wifi_beacon_loss_thresh"),
        channel=c.get("wifi_channelnum"),
        dhcpd=bool(c.get("ip_use_dhcpd")),
        num_clients=c.get("ip_num_clients"),
        macfilter=c.text("ip_macfilter"),
        lease_time=c.get("ip_dhcp_lease_time"),
        wps_pin=c.get("wifi_wps_pin"),
        wps_walk_time=c.get("wifi_wps_walk_time"),
        dhcp_timeout=c.get("ip_dhcp_timeout"),
        channels=REGION_CHANNELS.get(c.get("wifi_region"), ALL_CHANNELS),
        tx_power=c.get("wifi_tx_power"),
        ap_idle_timeout=c.get("wifi_ap_idle_timeout"),
    )


# wifi_region (Table 7) -> the channels the module may scan, join and transmit on. 0 (passive
# scan) and 1 (wifi_chan_activity2's channels, all 14 by default) restrict nothing.
REGION_CHANNELS: dict[int, frozenset[int]] = {
    0: ALL_CHANNELS,
    1: ALL_CHANNELS,
    2: frozenset(range(1, 12)),  # USA X10
    3: frozenset(range(1, 12)),  # Canada X20
    4: frozenset(range(1, 14)),  # Europe ETSI X30
    5: frozenset({10, 11}),  # France X32
    6: frozenset(range(1, 14)),  # Japan X40
    7: frozenset({10, 11, 14}),  # Japan X41
}


def channel_mask(channels: frozenset[int]) -> str:
    """Table 8's wifi_chan_activity: bit n-1 for channel n (0x00003FFF = channels 1-14)."""
    return f"0x{sum(1 << (ch - 1) for ch in channels):08X}"


# Event -> WIND number, and how its fields print (Table 14's printf shapes).
def _hex2(n: object) -> str:
    return f"{int(n):02x}"  # type: ignore[call-overload]


def _hex4(n: object) -> str:
    return f"{int(n):04x}"  # type: ignore[call-overload]


WINDS: dict[Ev, tuple[int, Any]] = {
    Ev.HW_STARTED: (32, None),
    Ev.POWERED_DOWN: (38, None),
    Ev.SCANNING: (21, None),
    Ev.SCAN_DONE: (35, lambda r: (_hex2(r),)),
    Ev.JOIN: (19, None),
    Ev.JOIN_FAILED: (20, lambda r: (_hex4(r),)),
    Ev.ASSOCIATED: (25, None),
    Ev.HANDSHAKE: (51, None),
    Ev.UP: (24, None),
    # The IPv6 line has an empty flag field: "+WIND:24:WiFi Up::fe80:..." (a driver matches
    # "+WIND:24:WiFi Up::" to skip it); see docs/behaviour.md.
    Ev.UP6: (24, lambda a: ("", a)),
    Ev.DHCP_FAILED: (85, None),
    Ev.REJECTED_NETWORK: (74, None),
    Ev.REJECTED_ASSOC: (75, lambda r: (_hex4(r),)),
    Ev.AUTH_TIMEOUT: (76, None),
    Ev.ASSOC_TIMEOUT: (77, None),
    Ev.DEAUTH: (40, None),
    Ev.DISASSOC: (41, None),
    Ev.BSS_LOST: (30, None),
    Ev.BSS_REGAINED: (14, None),
    Ev.NETWORK_LOST: (33, None),
    Ev.SIGNAL_LOW: (15, None),
    Ev.SIGNAL_OK: (16, None),
    Ev.AP_STARTED: (26, None),
    Ev.STA_ASSOCIATED: (28, None),
    Ev.DHCP_REPLY: (29, None),
    Ev.STA_DISASSOCIATED: (72, None),
    Ev.WPS_KEYSET: (81, None),
    Ev.WPS_TIMEOUT: (82, None),
}

# Services told of the IPv4 link coming up and going down (on_link_up() / on_link_down()).
LINK_LISTENERS = ("net", "sockets", "mqtt")

RADIO_STATUS = (
    "wifi_bssid",
    "wifi_channelnum",
    "wifi_aid",
    "wifi_num_assoc",
    "ip_from_AutoIP",
    "ip_ipaddr",
    "ip_netmask",
    "ip_gw",
    "ip_dns1",
    "ip_dns2",
    "ip_linklocal",
)


class RadioPart:
    attr = "radio"

    def __init__(self, device: Device) -> None:
        self.device = device
        self.radio: Radio | None = None

    async def start(self) -> None:
        d = self.device
        if d.world is None:
            # The world outlives module resets: load it once per process.
            d.world = load_world(d)
        self.radio = Radio(d.world, lambda: settings_from(d), self._on_event, spawn=d.spawn)
        d.radio = self.radio
        for name in RADIO_STATUS:
            d.status.provide(name, self._status_fn(name))
        d.status.provide(
            "wifi_chan_activity",
            lambda: channel_mask(REGION_CHANNELS.get(d.config.get("wifi_region"), ALL_CHANNELS)),
        )

    def _status_fn(self, name: str) -> Any:
        def value() -> str:
            r = self.radio  # ours, even if a test swapped device.radio for a stand-in
            if r is None:
                return {"wifi_bssid": "00:00:00:00:00:00", "ip_linklocal": ZERO_V6}.get(
                    name, "0.0.0.0" if name.startswith("ip_") else "0"
                )
            v = r.status_values()[name]
            return ZERO_V6 if name == "ip_linklocal" and v.strip("0:") == "" else v

        return value

    async def after_boot(self) -> None:
        assert self.radio is not None
        await self.radio.start(announce=False)

    async def stop(self) -> None:
        if self.radio is not None:
            await self.radio.stop(announce=False)
        self.radio = None
        self.device.radio = None

    def _on_event(self, ev: Event) -> None:
        d = self.device
        if ev.kind is Ev.STATE:
            d.status.set("wifi_state", ev.args[0])
            return
        if ev.kind is Ev.NOTE:
            d.trace_note(f"radio: {ev.args[0]}")
            return
        if ev.kind is Ev.CREDENTIALS:
            ssid, priv, passphrase = ev.args
            assert isinstance(ssid, bytes)
            c = d.config
            c.set_value("wifi_ssid", ssid + b"\0" if len(ssid) < 32 else ssid)
            c.set_value("wifi_ssid_len", len(ssid))
            c.set_value("wifi_priv_mode", priv)
            c.set_value("wifi_wpa_psk_text", passphrase)
            d.trace_note(f"WPS: credentials for {ssid!r} stored in the running configuration")
            return
        spec = WINDS.get(ev.kind)
        if spec is not None:
            number, fmt = spec
            fields = fmt(*ev.args) if fmt is not None else ev.args
            d.wind(number, *(_text(f) for f in fields))
        # Tell the IP services after the WIND is out: device.net (NTP starts at link-up),
        # device.sockets (sockets die with the link), whichever has the hook.
        hook = {Ev.UP: "on_link_up", Ev.LINK_DOWN: "on_link_down"}.get(ev.kind)
        if hook is not None:
            for service in LINK_LISTENERS:
                fn = getattr(getattr(d, service, None), hook, None)
                if callable(fn):
                    fn()
