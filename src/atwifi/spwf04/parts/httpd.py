"""The web server's part: starts the module's web server at every boot when ``ip_use_httpd``
is 1, and gives it the SPWF04's meaning of SSI markers, remote configuration and WINDs.

Published as ``device.httpd`` (a ``WebServer``, listening or not); ``device.httpd.provider``
is the ``Pages`` below, which holds the AT+S.INPUTSSI buffer (RAM: gone at a reset).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
from typing import TYPE_CHECKING, Any

from atwifi.errors import AtError
from atwifi.services.httpd import Captive, WebServer

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

HTTP_PORT, HTTPS_PORT, DNS_PORT = 80, 443, 53
ENDPOINTS = ("web", "web-tls", "captive-dns")  # our names in device.endpoints
WIND_MAX = 128  # WIND:57: "Every message longer than 128 will be truncated"

# The marker types (AN4965's <!--[NN|Name|argument|--> form): type number, name.
CONFIG, STATUS, INPUT = ("01", "config"), ("02", "status"), ("06", "input")
# Never shown in a page, whatever a page asks: keys and passwords.
SECRET = frozenset(
    {"user_desc", "wifi_wpa_psk_text", "wifi_wpa_psk_raw", "wifi_eap_passwd"}
    | {f"wifi_wep_keys[{i}]" for i in range(4)}
)
KEY_ITEM = "Key"  # the remote-configuration form's password field (checked against user_desc)
SSID_ITEM = "ssid"  # the SSID as text (what AT+S.SSIDTXT sets)
# Items after which the radio starts over (as AT+S.WIFI=0, =1): every wifi_* variable, the
# SSID text, and how the module gets its address.
REJOIN_IP = frozenset({"ip_use_dhcpc", "ip_ipaddr", "ip_netmask", "ip_gw", "ip_dns1", "ip_dns2"})


def _rejoins(item: str) -> bool:
    low = item.lower()
    return low == SSID_ITEM or low.startswith("wifi_") or low in REJOIN_IP


class Pages:
    """The SPWF04's side of the web server (services/httpd Provider)."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.tokens: list[str] = []  # the AT+S.INPUTSSI buffer, split at its separator

    # -- AT+S.INPUTSSI -------------------------------------------------------------------
    def set_input(self, data: bytes) -> None:
        """The first byte separates the tokens; length 0 clears the buffer."""
        if not data:
            self.tokens = []
            return
        sep, rest = data[:1], data[1:]
        parts = rest.split(sep)
        if parts and parts[-1] == b"":
            parts.pop()  # "|a|b|": the separator that ends the last token
        self.tokens = [p.decode("utf-8", "surrogateescape") for p in parts]

    # -- markers ---------------------------------------------------------------------------
    def ssi(self, fields: list[str], page: dict[str, Any]) -> str | None:
        if len(fields) < 3:
            return None
        kind = (fields[0].strip(), fields[1].strip().lower())
        arg = fields[2].strip()
        d = self.device
        if kind == INPUT:
            try:
                index = int(arg)
            except ValueError:
                return None
            if not self.tokens:
                asked: set[int] = page.setdefault("asked", set())
                if index not in asked:  # once per page and token
                    asked.add(index)
                    d.wind(56, index)
                return ""
            return self.tokens[index] if 0 <= index < len(self.tokens) else ""
        if kind == CONFIG:
            if arg.lower() in SECRET:
                return ""
            if arg.lower() == SSID_ITEM:
                return html.escape(_ssid_text(d))
            try:
                return html.escape(d.config.text(arg))
            except (AtError, KeyError):
                return ""
        if kind == STATUS:
            try:
                return html.escape(str(d.status.text(arg)))
            except (AtError, KeyError):
                return ""
        return None

    # -- captive portal ---------------------------------------------------------------------
    def captive(self) -> Captive | None:
        radio = self.device.radio
        if radio is None or not radio.on or radio.mode != 3 or radio.ip is None:
            return None
        from atwifi.services.radio.events import State

        if radio.state != State.AP_STARTED:
            return None
        c = self.device.config
        return Captive(
            domain=str(c.get("ip_apdomainname")),
            redirect=str(c.get("ip_apredirect")).lstrip("/") or "index.html",
            address=radio.ip.address,
        )

    # -- remote configuration -----------------------------------------------------------------
    async def remote_config(self, fields: list[tuple[str, str]]) -> tuple[bool, str]:
        d = self.device
        given = [v for k, v in fields if k == KEY_ITEM]
        password = str(d.config.get("user_desc"))
        key = given[0] if given else ""
        if key != password:
            d.wind(64, KEY_ITEM, one_line(key))  # Table 14: "Key" shown only when wrong
            d.trace_note("remote configuration refused: wrong password")
            return False, "Wrong password: nothing changed."
        applied: list[str] = []
        refused: list[str] = []
        for item, value in fields:
            if item == KEY_ITEM or item.startswith("_"):
                continue
            try:
                self._apply(item, value)
            except (AtError, KeyError, ValueError) as e:
                d.trace_note(f"remote configuration: {item}={value!r} refused: {e}")
                refused.append(item)
                continue
            applied.append(item)
            d.wind(64, one_line(item), one_line(value))
        if applied:
            await asyncio.to_thread(d.config.save)
        rejoin = any(_rejoins(i) for i in applied)
        if rejoin:
            d.spawn(self._rejoin(), name="remote-config-rejoin")
        text = f"Saved: {', '.join(applied) or 'nothing'}."
        if refused:
            text += f" Refused: {', '.join(refused)}."
        if rejoin:
            text += f" The module now joins {_ssid_text(d)}."
        return True, text

    def _apply(self, item: str, value: str) -> None:
        c = self.device.config
        if item.lower() == SSID_ITEM:
            raw = value.encode("utf-8")
            if not 0 < len(raw) <= 32:
                raise ValueError("an SSID has 1 to 32 octets")
            c.set_value("wifi_ssid", raw + b"\0" if len(raw) < 32 else raw)
            c.set_value("wifi_ssid_len", len(raw))
            return
        c.set(item, value)

    async def _rejoin(self) -> None:
        """As AT+S.WIFI=0 then AT+S.WIFI=1: the radio starts over with the new settings."""
        radio = self.device.radio
        if radio is None:
            return
        await radio.stop(announce=True)
        await radio.start(announce=True)


def one_line(text: str) -> str:
    """A WIND is one console line: CR and LF from the network are shown as %0D and %0A, so a
    browser can never forge a line (a fake WIND, a fake AT-S.OK) on the host's console."""
    return text.replace("\r", "%0D").replace("\n", "%0A")


def _ssid_text(d: Device) -> str:
    raw: bytes = d.config.get("wifi_ssid")
    return raw[: min(d.config.get("wifi_ssid_len"), len(raw))].decode("utf-8", "replace")


class WindEvents:
    """Web server events as the SPWF04's indications (Table 14)."""

    def __init__(self, device: Device) -> None:
        self.device = device

    def form_output(self, message: bytes) -> None:
        shown = message[:WIND_MAX]
        if len(message) > WIND_MAX:
            self.device.trace_note(f"WIND:57: {len(message)} bytes posted, 128 shown")
        text = one_line(shown.decode("latin-1"))
        self.device.wind(57, len(text), text)

    def file_received(self, name: str) -> None:
        self.device.wind(90, "", name)  # no client IP: it came over HTTP, not TFTP

    def note(self, text: str) -> None:
        self.device.trace_note(text)


class HttpdPart:
    attr = "httpd"

    def __init__(self, device: Device) -> None:
        self.device = device
        self.pages = Pages(device)
        self.server: WebServer | None = None
        self._last: dict[int, int] = {}  # module port -> host port it got (kept over resets)
        device.httpd = None  # type: ignore[attr-defined]

    async def start(self) -> None:
        d = self.device
        self.pages.tokens = []
        server = WebServer(
            fs=lambda: d.fs, provider=self.pages, events=WindEvents(d), now=d.clock.now
        )
        self.server = server
        d.httpd = server  # type: ignore[attr-defined]
        if int(d.config.get("ip_use_httpd")) != 1:
            return
        host = d.options.bind_host
        try:
            self._last[HTTP_PORT] = await self._listen(server.start, HTTP_PORT, host)
        except OSError as e:
            d.trace_note(f"web server: cannot listen on {host}: {e}")
            return
        self._publish("web", f"{server.urls()['http']} (module port 80)")
        try:
            self._last[DNS_PORT] = await self._listen(server.start_dns, DNS_PORT, host)
            self._publish("captive-dns", f"udp {host}:{server.dns.port} (module port 53)")
        except OSError as e:
            d.trace_note(f"web server: no captive-portal DNS on {host}: {e}")
        tls = d.tls
        if tls is None:
            return
        from atwifi.services.tls import CertError

        try:
            ctx = await tls.server_context(mutual=False)
        except CertError:
            return  # no certificate and key loaded: HTTP only
        try:
            self._last[HTTPS_PORT] = await self._listen(
                lambda h, p: server.start_tls(h, p, ctx), HTTPS_PORT, host
            )
            self._publish("web-tls", f"{server.urls()['https']} (module port 443)")
        except OSError as e:
            d.trace_note(f"web server: cannot listen for HTTPS on {host}: {e}")

    async def _listen(self, start: Any, port: int, host: str) -> int:
        """On --port-map's host port for ``port`` if it maps one; else on the host port the
        server had before this reset, or, when that is taken now, on a free one."""
        mapped = self.device.options.port_map.get(port)
        if mapped is not None:
            return int(await start(host, mapped))
        before = self._last.get(port, 0)
        try:
            return int(await start(host, before))
        except OSError:
            if before == 0:
                raise
            return int(await start(host, 0))

    def _publish(self, name: str, where: str) -> None:
        """``device.endpoints``: what `atwifi serve` prints and `atwifi ctl servers` shows."""
        endpoints = getattr(self.device, "endpoints", None)
        if endpoints is not None:
            endpoints[name] = where
        self.device.trace_note(f"{name} server on {where}")

    async def after_boot(self) -> None:
        return None

    async def stop(self) -> None:
        endpoints = getattr(self.device, "endpoints", None)
        if endpoints is not None:
            for name in ENDPOINTS:
                endpoints.pop(name, None)
        server, self.server = self.server, None
        if server is not None:
            with contextlib.suppress(Exception):
                await server.stop()
        self.pages.tokens = []
        self.device.httpd = None  # type: ignore[attr-defined]
