"""What the live view shows of a module: one JSON-able snapshot, read from the device's
services as they are now (nothing is kept between snapshots)."""

from __future__ import annotations

import contextlib
from typing import Any

from atwifi.spwf04.config import format_value, parse_value
from atwifi.spwf04.table.config_vars import CONFIG_VARS

WIFI_STATES = {
    0: "hardware power up",
    1: "hardware failure",
    2: "radio terminated by user",
    3: "radio idle",
    4: "scan in progress",
    5: "scan complete",
    6: "join in progress",
    7: "joined",
    8: "access point started",
    9: "handshake complete",
    10: "ready to transmit data",
}

_FACTORY: dict[str, str] | None = None


def _factory_texts() -> dict[str, str]:
    global _FACTORY
    if _FACTORY is None:
        _FACTORY = {v.name: format_value(v, parse_value(v, v.default)) for v in CONFIG_VARS}
    return _FACTORY


def changed_config(device: Any) -> dict[str, dict[str, str]]:
    factory = _factory_texts()
    out = {}
    for name, text in device.config.items():
        if factory.get(name) != text:
            out[name] = {"value": text, "factory": factory.get(name, "")}
    return out


def _conn(c: Any) -> dict[str, Any]:
    return {
        "id": c.cid,
        "kind": c.kind,
        "peer": f"{c.ip}:{c.port}",
        "connected": bool(c.connected),
        "unread": len(c.buf),
        "capacity": c.capacity,
        "received": c.received,
    }


def sockets(device: Any) -> dict[str, Any]:
    s = device.sockets
    if s is None:
        return {"clients": [], "servers": []}
    return {
        "clients": [_conn(c) for _, c in sorted(s.clients.items())],
        "servers": [
            {
                "id": sid,
                "port": srv.port,
                "host_port": srv.host_port,
                "kind": srv.kind,
                "clients": [_conn(c) for _, c in sorted(srv.clients.items())],
            }
            for sid, srv in sorted(s.servers.items())
        ],
    }


async def files(device: Any) -> list[dict[str, Any]]:
    fs = device.fs
    if fs is None:
        return []
    out = []
    for vid in sorted(getattr(fs, "mounted", ())):
        vol = fs.volumes.get(vid)
        if vol is None:
            continue
        try:
            listing = await vol.list()
        except Exception as e:  # a folder that vanished: show why, keep the page alive
            out.append({"volume": vid, "name": f"({e})", "size": 0})
            continue
        out.extend({"volume": vid, "name": n, "size": sz} for n, sz in sorted(listing.items()))
    return out


def radio(device: Any) -> dict[str, Any]:
    r = device.radio
    state = device.status.get("wifi_state")
    out: dict[str, Any] = {"wifi_state": state, "wifi_state_text": WIFI_STATES.get(state, "")}
    if r is None:
        out.update(on=False)
        return out
    values = r.status_values()
    out.update(
        on=r.on,
        mode={0: "idle", 1: "station", 2: "IBSS", 3: "MiniAP"}.get(r.mode, str(r.mode)),
        ssid=r.ap.ssid if r.ap is not None else None,
        bssid=values.get("wifi_bssid"),
        channel=values.get("wifi_channelnum"),
        rssi=r.ap.rssi if r.ap is not None else None,
        ip=values.get("ip_ipaddr"),
        netmask=values.get("ip_netmask"),
        gateway=values.get("ip_gw"),
        dns=values.get("ip_dns1"),
        linklocal=values.get("ip_linklocal"),
        mac=device.config.text("nv_wifi_macaddr"),
        stations=[
            {"peer": i, "mac": p.mac, "ip": p.ip or None, "rssi": p.rssi}
            for i, p in sorted(r.stations.items())
        ],
    )
    return out


def aps(device: Any) -> list[dict[str, Any]]:
    world = device.world
    if world is None:
        return []
    return [
        {
            "ssid": ap.ssid,
            "bssid": ap.bssid,
            "channel": ap.channel,
            "rssi": ap.rssi,
            "security": ap.security,
            "present": ap.present,
            "dhcp": ap.dhcp,
        }
        for ap in world.access_points
    ]


def power(device: Any) -> dict[str, Any] | None:
    """A power service, when some part publishes one (device.power); None otherwise."""
    p = getattr(device, "power", None)
    if p is None:
        return None
    for name in ("snapshot", "status", "to_dict"):
        fn = getattr(p, name, None)
        if callable(fn):
            with contextlib.suppress(Exception):
                value = fn()
                return value if isinstance(value, dict) else {"state": str(value)}
    return {"state": str(p)}


async def snapshot(device: Any) -> dict[str, Any]:
    return {
        "booted": device.booted.is_set(),
        "radio": radio(device),
        "sockets": sockets(device),
        "files": await files(device),
        "config": changed_config(device),
        "power": power(device),
        "aps": aps(device),
        "endpoints": dict(device.endpoints),
        "uptime": int(device.clock.uptime()),
    }
