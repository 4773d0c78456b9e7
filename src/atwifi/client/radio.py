"""Client helpers for the radio: join, scan, link state, waiting for the link.

``RadioMixin`` uses only ``self.command(line)`` (returns a reply with ``.lines``) and
``self.wait_wind(match, timeout)`` (returns a WIND with ``.number``, ``.fields``, ``.tail``),
so it works on the asyncio client and, through it, on the sync one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# <i>:\t BSS <MAC> CHAN: <cc> RSSI: <-dd> SSID: '<ssid>' CAPS: <xxxx> <flags>
SCAN_LINE = re.compile(
    r"(?P<i>\d+):\s*BSS (?P<bssid>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}) CHAN: (?P<chan>\d+) "
    r"RSSI: (?P<rssi>-?\d+) SSID: '(?P<ssid>.*)' CAPS: (?P<caps>[0-9A-Fa-f]+) ?(?P<flags>.*)"
)

# WINDs that end a join attempt without a link (wire-notes: WIND 40 during a join is a
# failed try); DHCP failure is not one when AutoIP follows, so it is not listed.
JOIN_FAILURES = frozenset({20, 40, 41, 74, 75, 76, 77})
PRIVACY = 0x0010


class JoinError(Exception):
    """The module did not get a link: ``winds`` are the failure indications it printed."""

    def __init__(self, message: str, winds: list[Any]) -> None:
        super().__init__(message)
        self.winds = winds


class LinkTimeoutError(JoinError, TimeoutError):
    """No link within the time given (still a ``TimeoutError`` for ``except TimeoutError``)."""


LINK_UP = 10  # Table 8's wifi_state once the IP interface is up


@dataclass(frozen=True)
class Network:
    """One line of AT+S.SCAN."""

    index: int
    bssid: str
    channel: int
    rssi: int
    ssid: str
    caps: int
    flags: tuple[str, ...]

    @property
    def security(self) -> str:
        """open, wep, wpa, wpa2 or wpa-wpa2 (enterprise networks show as wpa2)."""
        wpa, wpa2 = "WPA" in self.flags, "WPA2" in self.flags
        if wpa and wpa2:
            return "wpa-wpa2"
        if wpa2:
            return "wpa2"
        if wpa:
            return "wpa"
        return "wep" if self.caps & PRIVACY else "open"

    @property
    def wps(self) -> bool:
        return "WPS" in self.flags


def parse_scan(lines: list[str]) -> list[Network]:
    """The networks among the lines of a SCAN reply (other lines are ignored)."""
    out = []
    for line in lines:
        m = SCAN_LINE.fullmatch(line.rstrip("\r\n"))
        if m:
            out.append(
                Network(
                    int(m["i"]),
                    m["bssid"].upper(),
                    int(m["chan"]),
                    int(m["rssi"]),
                    m["ssid"],
                    int(m["caps"], 16),
                    tuple(m["flags"].split()),
                )
            )
    return out


class RadioMixin:
    command: Callable[..., Any]
    wait_wind: Callable[..., Any]

    async def scan(self, filter: str = "d", *, timeout: float = 10.0) -> list[Network]:  # noqa: ASYNC109
        """``AT+S.SCAN=<filter>``: the networks in range (d all, s one line per SSID, m one
        per BSSID)."""
        reply = await self.command(f"AT+S.SCAN={filter}", timeout=timeout)
        return parse_scan(list(reply.lines))

    async def wifi_state(self) -> int:
        """Table 8's ``wifi_state`` (10 = link up)."""
        reply = await self.command("AT+S.STS=wifi_state")
        return int(_var(reply.lines, "wifi_state"))

    async def ip_address(self) -> str | None:
        """The module's IPv4 address, None when it has none."""
        reply = await self.command("AT+S.STS=ip_ipaddr")
        addr = _var(reply.lines, "ip_ipaddr")
        return None if addr in ("", "0.0.0.0") else addr

    async def radio_on(self, on: bool = True) -> None:
        """``AT+S.WIFI=1`` / ``AT+S.WIFI=0``."""
        await self.command(f"AT+S.WIFI={1 if on else 0}")

    async def wait_link_up(self, timeout: float = 60.0, *, max_failures: int = 3) -> str:  # noqa: ASYNC109
        """The module's IPv4 address once its link is up: at once when it is up already (a
        module that joined before this client connected sent its ``+WIND:24`` to nobody),
        otherwise at the IPv4 ``+WIND:24``. Raises ``JoinError`` after ``max_failures``
        failed join attempts (WIND 40, 74, 76...), ``LinkTimeoutError`` after ``timeout``."""
        failures: list[Any] = []

        def wanted(w: Any) -> bool:
            return (w.number == 24 and "." in w.tail) or w.number in JOIN_FAILURES

        # Asked outside the time limit: a command cut off mid-reply would leave its answer to
        # be taken for the next command's.
        if await self.wifi_state() == LINK_UP:
            ip = await self.ip_address()
            if ip is not None:
                return ip
        try:
            async with asyncio.timeout(timeout):
                while True:
                    w = await self.wait_wind(wanted)
                    if w.number == 24:
                        return str(w.tail).rsplit(":", 1)[-1]
                    failures.append(w)
                    if len(failures) >= max_failures:
                        raise JoinError(
                            f"join failed {len(failures)} times (last: WIND {w.number})", failures
                        )
        except TimeoutError as e:
            if isinstance(e, JoinError):
                raise
            raise LinkTimeoutError(f"no link within {timeout} s", failures) from None

    async def join(
        self,
        ssid: str,
        passphrase: str | None = None,
        priv_mode: int | None = None,
        *,
        save: bool = True,
        timeout: float = 60.0,  # noqa: ASYNC109
        max_failures: int = 3,
    ) -> str:
        """Configure a station join (SSIDTXT, passphrase, privacy mode, wifi_mode=1), restart
        the radio and wait for the link; returns the IPv4 address. ``priv_mode`` defaults to 2
        (WPA/WPA2) with a passphrase and 0 (open) without. ``save`` writes the configuration
        to flash (AT+S.WCFG) so the module rejoins after a reset."""
        if priv_mode is None:
            priv_mode = 2 if passphrase else 0
        await self.command(f"AT+S.SSIDTXT={ssid}")
        if passphrase is not None:
            await self.command(f"AT+S.SCFG=wifi_wpa_psk_text,{passphrase}")
        await self.command(f"AT+S.SCFG=wifi_priv_mode,{priv_mode}")
        await self.command("AT+S.SCFG=wifi_mode,1")
        if save:
            await self.command("AT+S.WCFG")
        await self.command("AT+S.WIFI=0")
        clear = getattr(self, "clear_winds", None)
        if clear is not None:
            clear()  # indications of the old link are not about this join
        await self.command("AT+S.WIFI=1")
        return await self.wait_link_up(timeout, max_failures=max_failures)


def _var(lines: list[str], name: str) -> str:
    prefix = f"AT-S.Var:{name}="
    for line in lines:
        if line.startswith(prefix):
            return line[len(prefix) :]
        if line.startswith(f"Var:{name}="):
            return line[len(f"Var:{name}=") :]
    raise ValueError(f"no {name} in {lines!r}")
