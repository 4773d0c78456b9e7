"""Station mode through the module's bytes: joins, failures, retries, addresses."""

from __future__ import annotations

import re

from radio_helpers import (  # noqa: F401  (boot is a fixture)
    boot,
    ctl,
    numbers,
    ok,
    ssid_config,
    wind,
    winds_until,
)

WPA2_WORLD = """
[[ap]]
ssid = "HomeWPA2"
bssid = "02:00:00:00:00:02"
channel = 6
rssi = -62
security = "wpa2"
passphrase = "correct horse battery"
network = "10.0.42.0/24"
dns = ["10.0.42.53", "10.0.42.54"]
"""

UP4 = re.compile(rb"\+WIND:24:WiFi Up:0:(\d+\.\d+\.\d+\.\d+)")


async def sts(m, name: str) -> str:  # type: ignore[no-untyped-def]
    out = await ok(m, f"AT+S.STS={name}")
    line = out.strip().splitlines()[-1].decode()
    assert line.startswith(f"AT-S.Var:{name}="), out
    return line.split("=", 1)[1]


async def test_default_world_boots_and_joins_sttest_with_both_wind24(boot) -> None:  # noqa: F811
    m = await boot()
    lines = await winds_until(m, b"+WIND:24:WiFi Up::")
    assert lines[:4] == [
        b"+WIND:21:WiFi Scanning",
        b"+WIND:35:WiFi Scan Complete:00",
        b"+WIND:19:WiFi Join:00:18:F8:3C:D9:18",
        b"+WIND:25:WiFi Association successful:STTest",
    ]
    v4 = UP4.fullmatch(lines[4])
    assert v4 and v4.group(1).startswith(b"192.168.1.")
    assert lines[5] == b"+WIND:24:WiFi Up::fe80:0:0:0:280:e1ff:fefa:1234"
    assert len(lines) == 6  # no WPA handshake on an open network
    assert await sts(m, "wifi_state") == "10"
    assert await sts(m, "ip_ipaddr") == v4.group(1).decode()
    assert await sts(m, "ip_netmask") == "255.255.255.0"
    assert await sts(m, "ip_gw") == "192.168.1.1"
    assert await sts(m, "ip_dns1") == "192.168.1.1"
    assert await sts(m, "wifi_bssid") == "00:18:F8:3C:D9:18"
    assert await sts(m, "wifi_channelnum") == "11"
    assert await sts(m, "ip_linklocal") == "fe80:0:0:0:280:e1ff:fefa:1234"
    assert await sts(m, "ip_from_AutoIP") == "0"
    peers = await ok(m, "AT+S.PEERS=0,rx_rssi")
    assert peers == b"AT-S.Var:0.rx_rssi=-51\r\n"
    assert m.device.radio.ip_ready and m.device.radio.address == v4.group(1).decode()


async def test_no_ipv6_line_when_ip_use_v6_is_0(boot) -> None:  # noqa: F811
    m = await boot(ip_use_v6=0)
    await wind(m, b"+WIND:24:WiFi Up:0:")
    await ok(m, "AT")  # nothing else came: the reply is the next thing
    assert m.take() == b""


async def test_wpa2_right_passphrase_joins_with_handshake(boot) -> None:  # noqa: F811
    m = await boot(
        WPA2_WORLD,
        **ssid_config("HomeWPA2"),
        wifi_priv_mode=2,
        wifi_wpa_psk_text="correct horse battery",
    )
    lines = await winds_until(m, b"+WIND:24:WiFi Up::")
    assert numbers(lines) == [21, 35, 19, 25, 51, 24, 24]
    assert b"+WIND:51:WPA Handshake Complete" in lines
    assert UP4.fullmatch(lines[-2]).group(1).startswith(b"10.0.42.")  # type: ignore[union-attr]
    assert await sts(m, "ip_dns2") == "10.0.42.54"
    assert await sts(m, "wifi_channelnum") == "6"


async def test_wpa2_raw_psk_is_honoured(boot) -> None:  # noqa: F811
    from atwifi.services.radio.security import wpa_psk

    psk = wpa_psk("correct horse battery", b"HomeWPA2").hex(":")
    m = await boot(WPA2_WORLD, **ssid_config("HomeWPA2"), wifi_priv_mode=2, wifi_wpa_psk_raw=psk)
    await wind(m, b"+WIND:24:WiFi Up:0:")


async def test_wpa2_wrong_passphrase_fails_and_keeps_trying(boot) -> None:  # noqa: F811
    m = await boot(
        WPA2_WORLD, **ssid_config("HomeWPA2"), wifi_priv_mode=2, wifi_wpa_psk_text="wrong horse"
    )
    first = await winds_until(m, b"+WIND:40:")
    assert numbers(first) == [21, 35, 19, 25, 40]
    assert first[-1] == b"+WIND:40:WiFi Deauthentication:15"
    again = await winds_until(m, b"+WIND:40:")
    assert numbers(again) == [21, 35, 19, 25, 40]
    # The host corrects the passphrase: the next try uses it.
    await ok(m, "AT+S.SCFG=wifi_wpa_psk_text,correct horse battery")
    await wind(m, b"+WIND:24:WiFi Up:0:10.0.42.")


async def test_open_module_rejects_a_wpa2_network(boot) -> None:  # noqa: F811
    m = await boot(WPA2_WORLD, **ssid_config("HomeWPA2"))
    lines = await winds_until(m, b"+WIND:74:")
    assert lines[-1] == b"+WIND:74:Rejected found Network"
    assert numbers(lines) == [21, 35, 74]
    assert numbers(await winds_until(m, b"+WIND:74:")) == [21, 35, 74]


async def test_missing_network_rescans_then_joins_when_it_appears(boot) -> None:  # noqa: F811
    m = await boot(WPA2_WORLD)  # the module looks for STTest, which is not there
    for _ in range(2):
        assert numbers(await winds_until(m, b"+WIND:35:")) == [21, 35]
    await ctl(m).acall("ap.add", ssid="STTest", network="172.16.5.0/24")
    await wind(m, b"+WIND:24:WiFi Up:0:172.16.5.")


WEP_WORLD = """
[[ap]]
ssid = "OldWEP"
security = "wep"
wep_keys = ["", "0102030405"]
"""


def wep_config(key: str, auth_type: int = 0) -> dict[str, object]:
    raw = bytes.fromhex(key)
    return {
        **ssid_config("OldWEP"),
        "wifi_priv_mode": 1,
        "wifi_auth_type": auth_type,
        "wifi_wep_default_key": 1,
        "wifi_wep_keys[1]": (raw + bytes(16 - len(raw))).hex(":"),
        "wifi_wep_key_lens": f"00:{len(raw):02X}:00:00",
    }


async def test_wep_right_key_joins_without_handshake(boot) -> None:  # noqa: F811
    m = await boot(WEP_WORLD, **wep_config("0102030405"))
    lines = await winds_until(m, b"+WIND:24:WiFi Up:0:")
    assert numbers(lines) == [21, 35, 19, 25, 24]


async def test_wep_wrong_key_shared_key_times_out_and_retries(boot) -> None:  # noqa: F811
    m = await boot(WEP_WORLD, **wep_config("0102030406", auth_type=1))
    for _ in range(2):
        lines = await winds_until(m, b"+WIND:76:")
        assert numbers(lines) == [21, 35, 19, 76]
        assert lines[-1] == b"+WIND:76:WiFi Authentication Timed Out"


async def test_wep_wrong_key_open_system_gets_no_dhcp_answer(boot) -> None:  # noqa: F811
    # Open-system WEP associates whatever the key; nothing decrypts, so DHCP stays silent.
    m = await boot(WEP_WORLD, **wep_config("0102030406"))
    lines = await winds_until(m, b"+WIND:24:WiFi Up:1:")
    assert numbers(lines) == [21, 35, 19, 25, 85, 24]
    assert lines[-2] == b"+WIND:85:DHCP failed to get a lease:0"
    assert lines[-1].startswith(b"+WIND:24:WiFi Up:1:169.254.")


ENTERPRISE_WORLD = """
[[ap]]
ssid = "CorpNet"
security = "wpa2-enterprise"
identities = ["alice"]
"""


async def test_enterprise_identity_accepted_or_not(boot) -> None:  # noqa: F811
    # TTLS-MSCHAPv2 (wifi_eap_type 2): an identity and a password, no client certificate.
    good = await boot(
        ENTERPRISE_WORLD,
        **ssid_config("CorpNet"),
        wifi_priv_mode=3,
        wifi_eap_identity="alice",
        wifi_eap_type=2,
    )
    assert numbers(await winds_until(good, b"+WIND:24:WiFi Up:0:")) == [21, 35, 19, 25, 51, 24]
    bad = await boot(ENTERPRISE_WORLD, **ssid_config("CorpNet"), wifi_priv_mode=3, wifi_eap_type=2)
    lines = await winds_until(bad, b"+WIND:40:")
    assert lines[-1] == b"+WIND:40:WiFi Deauthentication:23"


async def test_static_address_when_dhcp_client_is_off(boot) -> None:  # noqa: F811
    m = await boot(ip_use_dhcpc=0, ip_ipaddr="192.168.1.77", ip_gw="192.168.1.1")
    line = await wind(m, b"+WIND:24:WiFi Up:0:")
    assert line == b"+WIND:24:WiFi Up:0:192.168.1.77"
    assert await sts(m, "ip_dns1") == "208.67.222.222"


async def test_dhcp_failure_gives_wind85_then_autoip(boot) -> None:  # noqa: F811
    m = await boot()
    await wind(m, b"+WIND:24:WiFi Up::")
    c = ctl(m)
    assert await c.acall("dhcp.fail") == ["STTest"]
    await c.acall("link.drop", kind="deauth")
    lines = await winds_until(m, b"+WIND:24:WiFi Up:1:")
    assert numbers(lines) == [40, 33, 21, 35, 19, 25, 85, 24]
    assert lines[-2] == b"+WIND:85:DHCP failed to get a lease:0"
    autoip = lines[-1].rsplit(b":", 1)[1].decode()
    assert autoip.startswith("169.254.")
    assert await sts(m, "ip_from_AutoIP") == "1"
    assert await sts(m, "ip_ipaddr") == autoip


async def test_dhcp_only_client_waits_for_the_server(boot) -> None:  # noqa: F811
    m = await boot(ip_use_dhcpc=1)
    await wind(m, b"+WIND:24:WiFi Up::")
    c = ctl(m)
    await c.acall("dhcp.fail", ap="STTest")
    await c.acall("link.drop", kind="disassoc")
    lines = await winds_until(m, b"+WIND:85:")
    assert numbers(lines) == [41, 33, 21, 35, 19, 25, 85]
    await c.acall("dhcp.fail", on=False)
    await wind(m, b"+WIND:24:WiFi Up:0:192.168.1.")


async def test_ap_removed_gives_network_lost_and_rejoin_when_back(boot) -> None:  # noqa: F811
    m = await boot()
    await wind(m, b"+WIND:24:WiFi Up::")
    c = ctl(m)
    removed = await c.acall("ap.remove", ap="STTest")
    lines = await winds_until(m, b"+WIND:33:")
    assert lines == [b"+WIND:30:WiFi BSS Lost", b"+WIND:33:WiFi Network Lost"]
    # (status read directly: a command now would race with the rescan's WINDs)
    assert m.device.status.text("ip_ipaddr") == "0.0.0.0"
    assert not m.device.radio.ip_ready
    assert numbers(await winds_until(m, b"+WIND:35:")) == [21, 35]
    del removed["present"]
    await c.acall("ap.add", **removed)
    lines = await winds_until(m, b"+WIND:24:WiFi Up::")
    assert numbers(lines)[-4:] == [19, 25, 24, 24]


async def test_short_beacon_loss_is_regained(boot) -> None:  # noqa: F811
    m = await boot()
    await wind(m, b"+WIND:24:WiFi Up::")
    await ctl(m).acall("link.drop", beacons=3)
    lines = await winds_until(m, b"+WIND:14:")
    assert lines == [b"+WIND:30:WiFi BSS Lost", b"+WIND:14:WiFi BSS Regained:10"]
    assert m.device.radio.ip_ready


async def test_ap_security_change_drops_the_station(boot) -> None:  # noqa: F811
    m = await boot()
    await wind(m, b"+WIND:24:WiFi Up::")
    await ctl(m).acall("ap.set", ap="STTest", security="wpa2", passphrase="now protected")
    lines = await winds_until(m, b"+WIND:74:")
    assert numbers(lines) == [40, 33, 21, 35, 74]
    assert lines[0] == b"+WIND:40:WiFi Deauthentication:2"


async def test_signal_low_and_ok_with_threshold_and_hysteresis(boot) -> None:  # noqa: F811
    m = await boot(wifi_rssi_thresh=-70, wifi_rssi_hyst=5)
    await wind(m, b"+WIND:24:WiFi Up::")
    c = ctl(m)
    await c.acall("ap.set", ap="STTest", rssi=-80)
    assert await wind(m, b"+WIND:15:") == b"+WIND:15:WiFi Signal Low:-80"
    await c.acall("ap.set", ap="STTest", rssi=-67)  # above the threshold, within hysteresis
    await c.acall("ap.set", ap="STTest", rssi=-60)
    assert await wind(m, b"+WIND:1") == b"+WIND:16:WiFi Signal Ok:-60"


async def test_ip_services_hear_link_up_and_down(boot) -> None:  # noqa: F811
    m = await boot()
    await wind(m, b"+WIND:24:WiFi Up::")
    calls: list[str] = []

    class Net:  # device.net's hooks (NTP starts at link-up)
        def on_link_up(self) -> None:
            # The link is up for whoever hears it: SOCKON/PING check these.
            assert m.device.radio.ip_ready and m.device.status.get("wifi_state") == 10
            calls.append("up")

        def on_link_down(self) -> None:
            calls.append("down")

    m.device.net = Net()
    await ctl(m).acall("link.drop", kind="deauth")
    await wind(m, b"+WIND:24:WiFi Up:0:")
    assert calls == ["down", "up"]


async def test_utf8_ssid_goes_out_as_its_bytes(boot) -> None:  # noqa: F811
    m = await boot('[[ap]]\nssid = "Café ☕"\n', **ssid_config("Café ☕"))
    line = await wind(m, b"+WIND:25:")
    assert line == "+WIND:25:WiFi Association successful:Café ☕".encode()
    out = await m.cmd("AT+S.SCAN=s", echo=False)
    assert "SSID: 'Café ☕' CAPS: 0421 \r\n".encode() in out


async def test_ap_back_within_beacon_loss_window_is_regained(boot) -> None:  # noqa: F811
    # A slow world (beacon loss window 200 beacons x 2 ms x 10 = 4 s) so the AP surely
    # comes back inside it.
    world = '[radio]\ntime_scale = 10\n\n[[ap]]\nssid = "STTest"\n'
    m = await boot(world, wifi_beacon_loss_thresh=200)
    await wind(m, b"+WIND:24:WiFi Up::")
    c = ctl(m)
    await c.acall("ap.set", ap="STTest", present=False)
    assert await wind(m, b"+WIND:") == b"+WIND:30:WiFi BSS Lost"
    await c.acall("ap.set", ap="STTest", present=True)
    assert await wind(m, b"+WIND:") == b"+WIND:14:WiFi BSS Regained:200"
    assert m.device.radio.ip_ready
