"""A simulated station's web browser: a real HTTP/1.1 request (h11) through the loopback to
the module's web server, as a phone associated to the module's MiniAP would send it.

The station lives in the MiniAP, which has no uplink: every name it looks up is answered by
the module's DNS (``resolve``: a real query to its DNS server), and the only server it can reach is the module's, at the
module's address. The request carries the URL's own Host header, so the server sees what a
station's browser would send (the captive portal depends on it).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 5
MAX_BODY = 1024 * 1024


class FetchError(Exception):
    pass


async def fetch(
    url: str,
    *,
    resolve: Callable[[str], Awaitable[str | None]],
    module_address: str,
    connect_port: int,
    method: str = "GET",
    body: bytes = b"",
    content_type: str | None = None,
    follow: bool = True,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Fetch ``url`` as a station would; follows redirects when ``follow``. Returns
    ``{"status", "headers", "body", "url", "address", "redirects"}`` of the last response."""
    redirects: list[dict[str, Any]] = []
    for _ in range(MAX_REDIRECTS + 1):
        result = await _one(
            url, resolve, module_address, connect_port, method, body, content_type, timeout
        )
        location = result["headers"].get("location")
        if not follow or result["status"] not in (301, 302, 303, 307, 308) or not location:
            result["redirects"] = redirects
            return result
        redirects.append({"url": url, "status": result["status"], "location": location})
        url = urljoin(url, location)
        if result["status"] in (301, 302, 303):
            method, body, content_type = "GET", b"", None
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


async def _one(
    url: str,
    resolve: Callable[[str], Awaitable[str | None]],
    module_address: str,
    port: int,
    method: str,
    body: bytes,
    content_type: str | None,
    timeout: float,
) -> dict[str, Any]:
    import h11

    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise FetchError(f"a station fetches http:// URLs, not {url!r}")
    host = parts.hostname
    try:
        address: str | None = str(ipaddress.ip_address(host))  # a literal: no DNS query
    except ValueError:
        address = await resolve(host)
    if address is None:
        raise FetchError(f"{host}: the module's DNS does not know it")
    if address != module_address:
        raise FetchError(f"{host} ({address}) is unreachable: the MiniAP has no uplink")
    if parts.port not in (None, 80):
        raise FetchError(f"{address}:{parts.port}: connection refused (the module serves 80)")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [
        ("Host", parts.netloc),
        ("User-Agent", "atwifi-station"),
        ("Accept", "*/*"),
        ("Accept-Encoding", "identity"),
        ("Connection", "close"),
    ]
    if body or method.upper() == "POST":
        headers.append(("Content-Length", str(len(body))))
        headers.append(("Content-Type", content_type or "application/x-www-form-urlencoded"))
    conn = h11.Connection(h11.CLIENT)
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                conn.send(h11.Request(method=method.upper(), target=target, headers=headers))
            )
            if body:
                writer.write(conn.send(h11.Data(data=body)))
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
            status, hdrs, out = 0, {}, bytearray()
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                    continue
                if isinstance(event, h11.Response):
                    status = event.status_code
                    hdrs = {
                        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers
                    }
                elif isinstance(event, h11.Data):
                    out += event.data
                    if len(out) > MAX_BODY:
                        raise FetchError("response body over 1 MiB")
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    break
        finally:
            writer.close()
    return {
        "url": url,
        "address": address,
        "status": status,
        "headers": hdrs,
        "body": out.decode("utf-8", "replace"),
    }
