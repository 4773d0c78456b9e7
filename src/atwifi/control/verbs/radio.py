"""Verbs on the simulated radio world: access points, link drops, DHCP, MiniAP stations."""

from __future__ import annotations

import dataclasses
from typing import Any

from atwifi.control.protocol import ControlError
from atwifi.control.verbs import verb
from atwifi.services.radio import AccessPoint, Radio, RadioError, World, WorldError
from atwifi.services.radio.world import FILE_FIELDS, ap_from_dict

SETTABLE = FILE_FIELDS | {"present"}


def _world(device: Any) -> World:
    if device.world is None:
        raise ControlError("the module has no radio world")
    return device.world


def _radio(device: Any) -> Radio:
    if device.radio is None:
        raise ControlError("the radio is not running (module resetting or powered off?)")
    return device.radio


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = str(value).lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ControlError(f"not a boolean: {value!r}")


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name}: not an integer: {value!r}") from None


def _list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v for v in str(value).split(",") if v]


def _fields(args: dict[str, Any]) -> dict[str, Any]:
    unknown = set(args) - SETTABLE
    if unknown:
        raise ControlError(
            f"unknown access point fields {sorted(unknown)}; known: {sorted(SETTABLE)}"
        )
    out = dict(args)
    for key in ("wep_keys", "identities", "dns"):
        if key in out:
            out[key] = _list(out[key])
    for key in ("wps", "dhcp", "present"):
        if key in out:
            out[key] = _bool(out[key])
    for key in ("ssid", "bssid", "passphrase", "wps_pin", "network", "gateway", "security"):
        if key in out:
            out[key] = str(out[key])
    return out


@verb("ap.add", "add an access point (ssid=..., any field of the world file)")
def ap_add(device: Any, **fields: Any) -> dict[str, Any]:
    f = _fields(fields)
    present = f.pop("present", True)
    try:
        ap = ap_from_dict(f)
    except WorldError as e:
        raise ControlError(str(e)) from None
    ap.present = present
    try:
        _world(device).add(ap)
    except WorldError as e:
        raise ControlError(str(e)) from None
    return ap.to_dict()


@verb("ap.remove", "remove an access point (by ssid or bssid): a joined module loses it")
def ap_remove(device: Any, ap: str) -> dict[str, Any]:
    try:
        return _world(device).remove(str(ap)).to_dict()
    except WorldError as e:
        raise ControlError(str(e)) from None


@verb("ap.set", "change an access point (ap=ssid|bssid, then rssi=, security=, dhcp=, ...)")
def ap_set(device: Any, ap: str, **fields: Any) -> dict[str, Any]:
    world = _world(device)
    try:
        target = world.find(str(ap))
    except WorldError as e:
        raise ControlError(str(e)) from None
    f = _fields(fields)
    merged = {k: v for k, v in target.to_dict().items() if k != "present"}
    present = f.pop("present", target.present)
    merged.update(f)
    if "network" in f and "gateway" not in f:
        merged["gateway"] = ""  # follows the new network
        merged["dns"] = f.get("dns", [])
    try:
        checked = AccessPoint(**merged)
    except (WorldError, TypeError) as e:
        raise ControlError(str(e)) from None
    if checked.bssid != target.bssid and any(a.bssid == checked.bssid for a in world.access_points):
        raise ControlError(f"an access point with BSSID {checked.bssid} exists")
    # Change the object in place: a module joined to it keeps following the same AP.
    for field in dataclasses.fields(AccessPoint):
        if field.name in FILE_FIELDS:
            setattr(target, field.name, getattr(checked, field.name))
    target.present = present
    world.touch()
    return target.to_dict()


@verb("ap.list", "the access points and whether the module can see them")
def ap_list(device: Any) -> list[dict[str, Any]]:
    return [ap.to_dict() for ap in _world(device).access_points]


@verb(
    "link.drop", "break the module's link: kind=beacon [beacons=N] | deauth | disassoc [reason=N]"
)
def link_drop(device: Any, kind: str = "beacon", beacons: Any = None, reason: Any = None) -> str:
    try:
        _radio(device).drop_link(
            str(kind),
            None if beacons is None else _int(beacons, "beacons"),
            None if reason is None else _int(reason, "reason"),
        )
    except RadioError as e:
        raise ControlError(str(e)) from None
    return "dropping"


@verb("dhcp.fail", "make DHCP servers stop answering (ap=ssid|bssid, default all; on=false heals)")
def dhcp_fail(device: Any, ap: str | None = None, on: Any = True) -> list[str]:
    world = _world(device)
    try:
        targets = [world.find(str(ap))] if ap is not None else list(world.access_points)
    except WorldError as e:
        raise ControlError(str(e)) from None
    failing = _bool(on)
    for t in targets:
        t.dhcp = not failing
    world.touch()
    return [t.ssid for t in targets]


@verb("radio.status", "the radio's state, address and peers")
def radio_status(device: Any) -> dict[str, Any]:
    radio = _radio(device)
    return {
        "on": radio.on,
        "mode": radio.mode,
        "ip_ready": radio.ip_ready,
        "status": radio.status_values(),
        "peers": {str(k): v for k, v in radio.peer_table().items()},
    }


@verb("station.add", "a station associates to the module's MiniAP (mac=..., [rssi=], [reassoc=])")
def station_add(device: Any, mac: str, rssi: Any = -45, reassoc: Any = False) -> dict[str, Any]:
    try:
        return _radio(device).add_station(str(mac), _int(rssi, "rssi"), _bool(reassoc))
    except (RadioError, WorldError) as e:
        raise ControlError(str(e)) from None


@verb("station.remove", "a station leaves the module's MiniAP (mac=..., [reason=8])")
def station_remove(device: Any, mac: str, reason: Any = 8) -> dict[str, Any]:
    try:
        return _radio(device).remove_station(str(mac), _int(reason, "reason"))
    except (RadioError, WorldError) as e:
        raise ControlError(str(e)) from None


@verb("station.activity", "a MiniAP station sends a frame: not idle, lease renewed (mac=...)")
def station_activity(device: Any, mac: str) -> dict[str, Any]:
    try:
        return _radio(device).station_activity(str(mac))
    except (RadioError, WorldError) as e:
        raise ControlError(str(e)) from None


@verb("station.list", "the stations associated to the module's MiniAP")
def station_list(device: Any) -> list[dict[str, Any]]:
    radio = _radio(device)
    return [
        {"peer": i, "mac": p.mac, "ip": p.ip or None, "rssi": p.rssi}
        for i, p in sorted(radio.stations.items())
    ]
