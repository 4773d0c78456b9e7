"""The client's radio helpers against the module's real bytes.

The asyncio client core is another branch's work; ``Shim`` gives RadioMixin the two methods it
relies on (``command`` and ``wait_wind``) over an in-process module, so the helpers' parsing
and join logic meet the real output here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from radio_helpers import boot, ctl, wind  # noqa: F401  (boot is a fixture)

from atwifi.client.radio import JoinError, Network, RadioMixin, parse_scan


@dataclass
class _Reply:
    lines: list[str]


@dataclass
class _Wind:
    number: int
    line: str
    fields: list[str] = field(default_factory=list)

    @property
    def tail(self) -> str:
        parts = self.line.split(":", 3)
        return parts[3] if len(parts) > 3 else ""


class Shim(RadioMixin):
    def __init__(self, m: Any) -> None:
        self.m = m
        self.backlog: list[_Wind] = []

    def _take_winds(self, lines: list[str]) -> list[str]:
        rest = []
        for line in lines:
            if line.startswith("+WIND:"):
                self.backlog.append(_Wind(int(line.split(":")[1]), line))
            else:
                rest.append(line)
        return rest

    async def command(self, line: str, timeout: float = 10.0) -> _Reply:  # noqa: ASYNC109
        out = (await self.m.cmd(line, echo=False)).decode("utf-8").split("\r\n")[:-1]
        lines = self._take_winds(out)
        if not lines[-1].startswith("AT-S.OK"):
            raise RuntimeError(lines[-1])
        return _Reply(lines[:-1])

    def clear_winds(self) -> None:
        self.backlog.clear()

    async def wait_wind(self, match: Any) -> _Wind:
        while True:
            for w in self.backlog:
                if match(w):
                    self.backlog.remove(w)
                    return w
            line = (await self.m.read_until(b"\r\n"))[:-2].decode()
            self._take_winds([line])


def test_parse_scan_lines() -> None:
    nets = parse_scan(
        [
            "AT-S.Parsing Networks:3",
            "1:\t BSS 02:aa:00:00:00:01 CHAN: 01 RSSI: -78 SSID: 'Old: Router' CAPS: 0431 WPA ",
            "2:\t BSS 02:AA:00:00:00:02 CHAN: 06 RSSI: -62 SSID: 'Home' CAPS: 0431 WPS WPA2 ",
            "3:\t BSS 00:18:F8:3C:D9:18 CHAN: 11 RSSI: -51 SSID: 'STTest' CAPS: 0421 ",
        ]
    )
    assert nets[0] == Network(1, "02:AA:00:00:00:01", 1, -78, "Old: Router", 0x431, ("WPA",))
    assert [n.security for n in nets] == ["wpa", "wpa2", "open"]
    assert [n.wps for n in nets] == [False, True, False]


async def test_client_scan_status_and_join(boot) -> None:  # noqa: F811
    m = await boot(
        """
[[ap]]
ssid = "STTest"

[[ap]]
ssid = "Home"
security = "wpa2"
passphrase = "correct horse battery"
network = "10.9.0.0/24"
"""
    )
    await wind(m, b"+WIND:24:WiFi Up::")
    c = Shim(m)
    assert await c.wifi_state() == 10
    nets = await c.scan()
    assert {n.ssid: n.security for n in nets} == {"STTest": "open", "Home": "wpa2"}
    addr = await c.join("Home", "correct horse battery")
    assert addr.startswith("10.9.0.")
    assert await c.ip_address() == addr
    assert m.device.config.get("wifi_priv_mode") == 2


async def test_client_join_failure_raises_after_three_tries(boot) -> None:  # noqa: F811
    m = await boot(
        '[[ap]]\nssid = "Home"\nsecurity = "wpa2"\npassphrase = "correct horse battery"\n'
    )
    c = Shim(m)
    with pytest.raises(JoinError) as info:
        await c.join("Home", "not the passphrase", save=False)
    assert [w.number for w in info.value.winds] == [40, 40, 40]
    await c.radio_on(False)
    assert await c.ip_address() is None
