"""Verbs on the module's web server, and a MiniAP station's browser (station.fetch)."""

from __future__ import annotations

from typing import Any

from atwifi.control.protocol import ControlError
from atwifi.control.verbs import verb


def _server(device: Any) -> Any:
    server = getattr(device, "httpd", None)
    if server is None:
        raise ControlError("the web server is not running (module resetting or powered off?)")
    return server


@verb("httpd.show", "where the module's web server listens on the host, and its counters")
def httpd_show(device: Any) -> dict[str, Any]:
    server = _server(device)
    return {
        "urls": server.urls(),
        "http_port": server.http_port,
        "https_port": server.https_port,
        "connections": server.active,
        "served": server.served,
        "max_connections": server.limits.max_connections,
        "dns_port": server.dns.port if server.dns is not None else None,
    }


@verb(
    "station.fetch",
    "a MiniAP station's browser fetches url= (http://any.host/...) through the module "
    "([method=GET] [data=...] [content_type=] [follow=true])",
)
async def station_fetch(
    device: Any,
    mac: str,
    url: str,
    method: str = "GET",
    data: Any = "",
    content_type: Any = None,
    follow: Any = True,
) -> dict[str, Any]:
    from dns.exception import DNSException

    from atwifi.services.httpd.dns import lookup
    from atwifi.services.httpd.station import FetchError, fetch
    from atwifi.services.radio.world import norm_mac

    radio = device.radio
    if radio is None:
        raise ControlError("the radio is not running")
    try:
        mac = norm_mac(str(mac))
    except Exception as e:
        raise ControlError(f"mac: {e}") from None
    peer = next((p for p in radio.stations.values() if p.mac == mac), None)
    if peer is None:
        raise ControlError(f"no station {mac} is associated to the module's MiniAP")
    if not peer.ip:
        raise ControlError(f"station {mac} has no IP address (no DHCP lease)")
    server = _server(device)
    pages = server.provider
    captive = pages.captive()
    if captive is None or server.http_port is None:
        raise ControlError("the module runs no MiniAP web server")
    dns = server.dns
    if dns is None or dns.port is None:
        raise ControlError("the module's MiniAP runs no DNS server")

    async def resolve(name: str) -> str | None:
        return await lookup(dns.port, name)

    follow_flag = follow if isinstance(follow, bool) else str(follow).lower() in ("1", "true")
    try:
        result = await fetch(
            str(url),
            resolve=resolve,
            module_address=captive.address,
            connect_port=server.http_port,
            method=str(method),
            body=str(data).encode("utf-8"),
            content_type=None if content_type is None else str(content_type),
            follow=follow_flag,
        )
    except (FetchError, OSError, TimeoutError, DNSException) as e:
        raise ControlError(f"station {mac}: {e}") from None
    result["station"] = {"mac": mac, "ip": peer.ip}
    return result
