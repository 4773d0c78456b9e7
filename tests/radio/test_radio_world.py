"""The world file: parsing, defaults, the policy, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from atwifi.services.radio import AccessPoint, World, WorldError
from atwifi.services.radio.addressing import DhcpPool, autoip, link_local
from atwifi.services.radio.security import wpa_psk, wps_checksum, wps_pin8, wps_pin_valid

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "world.toml"


def test_default_world_is_one_open_sttest_and_loopback_policy() -> None:
    w = World.default()
    assert [ap.ssid for ap in w.access_points] == ["STTest"]
    assert w.access_points[0].security == "open"
    assert w.policy == ["127.0.0.0/8", "::1/128"]
    assert w.hosts == {}
    assert World.default("any").policy == ["0.0.0.0/0", "::/0"]


def test_example_world_file_parses() -> None:
    w = World.load(EXAMPLE)
    assert len(w.access_points) >= 3
    assert w.hosts  # the example shows [hosts]
    assert World.load(EXAMPLE, net="any").policy == ["0.0.0.0/0", "::/0"]


def test_full_world_from_toml(tmp_path: Path) -> None:
    p = tmp_path / "w.toml"
    p.write_text(
        """
[[ap]]
ssid = "Home"
bssid = "02:11:22:33:44:55"
channel = 3
rssi = -60
security = "wpa2"
passphrase = "correct horse"
network = "10.1.0.0/16"
dns = ["10.1.0.53", "10.1.0.54"]

[[ap]]
ssid = "Corp"
security = "wpa2-enterprise"
identities = ["alice"]

[hosts]
"Broker.Local" = "127.0.0.1"

[policy]
allow = ["127.0.0.0/8", "10.0.0.0/8"]
"""
    )
    w = World.load(p)
    home, corp = w.access_points
    assert home.bssid == "02:11:22:33:44:55" and home.channel == 3
    assert home.gateway == "10.1.0.1" and home.dns == ["10.1.0.53", "10.1.0.54"]
    assert corp.bssid.startswith("02:")  # derived, locally administered
    assert w.hosts == {"broker.local": "127.0.0.1"}
    assert w.policy == ["127.0.0.0/8", "10.0.0.0/8"]


@pytest.mark.parametrize(
    "ap, why",
    [
        ('ssid = "x"\nsecurity = "wpa2"', "passphrase"),
        ('ssid = "x"\nsecurity = "wpa2"\npassphrase = "short"', "8 to 63"),
        ('ssid = "x"\nsecurity = "wep"', "wep_keys"),
        ('ssid = "x"\nsecurity = "wep"\nwep_keys = ["0102"]', "5, 13 or 16"),
        ('ssid = "x"\nsecurity = "wpa3"', "security"),
        ('ssid = "x"\nchannel = 15', "channel"),
        ('ssid = "x"\nbssid = "zz"', "MAC"),
        ('ssid = "x"\ncolour = "red"', "unknown"),
        ('ssid = ""', "SSID"),
        ('ssid = "x"\nnetwork = "10.0.0.0/31"', "small"),
    ],
)
def test_bad_access_points_are_refused_with_a_reason(tmp_path: Path, ap: str, why: str) -> None:
    p = tmp_path / "w.toml"
    p.write_text(f"[[ap]]\n{ap}\n")
    with pytest.raises(WorldError, match=why):
        World.load(p)


def test_unknown_table_and_bad_toml(tmp_path: Path) -> None:
    p = tmp_path / "w.toml"
    p.write_text("[weather]\nrain = true\n")
    with pytest.raises(WorldError, match="weather"):
        World.load(p)
    p.write_text("[[ap]\n")
    with pytest.raises(WorldError):
        World.load(p)


def test_wpa_psk_matches_the_ieee_test_vector() -> None:
    # IEEE 802.11i-2004, annex H.4: passphrase "password", SSID "IEEE".
    assert (
        wpa_psk("password", b"IEEE").hex()
        == "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
    )


def test_wps_pin_checksum() -> None:
    assert wps_pin8(1234567) == "12345670"
    assert wps_checksum(0) == 0
    assert wps_pin_valid("12345670") and not wps_pin_valid("12345671")


def test_addresses_from_the_mac() -> None:
    assert link_local("00:80:E1:FA:12:34") == "fe80:0:0:0:280:e1ff:fefa:1234"  # the manual's
    a = autoip("00:80:E1:FA:12:34")
    assert a.startswith("169.254.") and a == autoip("00:80:E1:FA:12:34")
    assert not a.startswith("169.254.0.") and not a.startswith("169.254.255.")


def test_dhcp_pool_is_stable_and_exhausts() -> None:
    pool = DhcpPool("192.168.7.0/29", "192.168.7.1")
    a = pool.lease("00:00:00:00:00:01")
    assert a == pool.lease("00:00:00:00:00:01")
    got = {pool.lease(f"00:00:00:00:01:{i:02X}") for i in range(5)}
    assert None in got  # 6 hosts, one is the gateway
    mini = DhcpPool("192.168.0.0/24", "192.168.0.50", first="192.168.0.51")
    assert mini.lease("02:00:00:00:00:01") == "192.168.0.51"
    assert mini.lease("02:00:00:00:00:02") == "192.168.0.52"


async def test_world_changes_wake_listeners() -> None:
    w = World.default()
    calls: list[int] = []
    w.listeners.append(lambda: calls.append(1))
    w.add(AccessPoint(ssid="Other"))
    w.remove("Other")
    assert calls == [1, 1]
    with pytest.raises(WorldError):
        w.add(AccessPoint(ssid="Dup", bssid=w.access_points[0].bssid))
