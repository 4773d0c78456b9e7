"""wifi_region limits the channels scanned, joined and used; wifi_tx_power moves what others
hear of the module. Through the console bytes."""

from __future__ import annotations

from radio_helpers import boot, ctl, ok, ssid_config, wind, winds_until  # noqa: F401

CHANNELS_WORLD = "".join(
    f'[[ap]]\nssid = "Net{ch}"\nbssid = "02:AA:00:00:00:{ch:02X}"\nchannel = {ch}\nrssi = -60\n\n'
    for ch in (1, 6, 11, 12, 13, 14)
)


def channels_of(scan: bytes) -> list[int]:
    return [int(line.split(b"CHAN: ")[1][:2]) for line in scan.split(b"\r\n") if b"CHAN: " in line]


async def test_region_limits_the_scan_and_chan_activity(boot) -> None:  # noqa: F811
    m = await boot(CHANNELS_WORLD, wifi_mode=0)
    assert channels_of(await ok(m, "AT+S.SCAN=d")) == [1, 6, 11, 12, 13, 14]  # region 1
    assert (
        await ok(m, "AT+S.STS=wifi_chan_activity") == b"AT-S.Var:wifi_chan_activity=0x00003FFF\r\n"
    )
    for region, want, mask in (
        (2, [1, 6, 11], "0x000007FF"),  # USA 1-11
        (4, [1, 6, 11, 12, 13], "0x00001FFF"),  # ETSI 1-13
        (5, [11], "0x00000600"),  # France 10-11
        (7, [11, 14], "0x00002600"),  # Japan X41: 10, 11, 14
    ):
        await ok(m, f"AT+S.SCFG=wifi_region,{region}")
        assert channels_of(await ok(m, "AT+S.SCAN=d")) == want, region
        line = f"AT-S.Var:wifi_chan_activity={mask}\r\n".encode()
        assert await ok(m, "AT+S.STS=wifi_chan_activity") == line


async def test_an_ap_outside_the_region_is_never_joined(boot) -> None:  # noqa: F811
    m = await boot(CHANNELS_WORLD, wifi_region=2, **ssid_config("Net13"))
    # Two full scan cycles without a join: the AP on channel 13 does not exist for a US module.
    lines = await winds_until(m, b"+WIND:35:")
    lines += await winds_until(m, b"+WIND:35:")
    assert not any(line.startswith((b"+WIND:19:", b"+WIND:24:")) for line in lines), lines
    await ok(m, "AT+S.SCFG=wifi_region,4")  # Europe: channel 13 allowed, the retry joins
    await wind(m, b"+WIND:24:WiFi Up:0:")


async def test_a_miniap_channel_outside_the_region_moves_into_it(boot) -> None:  # noqa: F811
    m = await boot(wifi_mode=3, wifi_region=5, wifi_channelnum=13, **ssid_config("MyAP"))
    await wind(m, b"+WIND:24:WiFi Up::")  # IPv6, the last of the start-up WINDs
    assert await ok(m, "AT+S.STS=wifi_channelnum") == b"AT-S.Var:wifi_channelnum=10\r\n"


FAR_WORLD = '[[ap]]\nssid = "Far"\nbssid = "02:AA:00:00:00:FA"\nrssi = -85\n'


async def test_full_power_reaches_a_far_ap(boot) -> None:  # noqa: F811
    m = await boot(FAR_WORLD, **ssid_config("Far"))
    await wind(m, b"+WIND:24:WiFi Up:0:")


async def test_low_power_sees_a_far_ap_but_it_cannot_hear_the_module(boot) -> None:  # noqa: F811
    m = await boot(FAR_WORLD, wifi_tx_power=5, **ssid_config("Far"))
    lines = await winds_until(m, b"+WIND:77:")
    assert b"+WIND:19:WiFi Join:02:AA:00:00:00:FA" in lines
    assert lines[-1] == b"+WIND:77:WiFi Association Timed Out"
    await ok(m, "AT+S.SCFG=wifi_tx_power,18")
    await wind(m, b"+WIND:24:WiFi Up:0:")


async def test_stations_hear_the_miniap_by_its_tx_power(boot) -> None:  # noqa: F811
    m = await boot(wifi_mode=3, wifi_tx_power=10, **ssid_config("MyAP"))
    await wind(m, b"+WIND:24:WiFi Up::")
    got = await ctl(m).acall("station.add", mac="02:00:00:00:00:07", rssi=-50)
    assert got["module_rssi"] == -58


STA = "02:00:00:00:00:42"


async def test_a_silent_station_is_dropped_after_the_idle_timeout(boot) -> None:  # noqa: F811
    m = await boot(wifi_mode=3, wifi_ap_idle_timeout=2, **ssid_config("MyAP"))
    await wind(m, b"+WIND:24:WiFi Up::")
    await ctl(m).acall("station.add", mac=STA)
    lines = await winds_until(m, b"+WIND:72:")
    assert lines == [
        b"+WIND:28:Station Associated:02:00:00:00:00:42:0",
        b"+WIND:29:DHCP Reply:192.168.0.51:02:00:00:00:00:42",
        b"+WIND:72:Station Disassociated:02:00:00:00:00:42:4",  # 4: inactivity
    ]
    assert await ctl(m).acall("station.list") == []


async def test_an_unrenewed_lease_ends_and_activity_asks_again(boot) -> None:  # noqa: F811
    # No idle timeout: the station stays; its lease (1 s) runs out while it is silent.
    m = await boot(wifi_mode=3, wifi_ap_idle_timeout=0, ip_dhcp_lease_time=1, **ssid_config("MyAP"))
    await wind(m, b"+WIND:24:WiFi Up::")
    c = ctl(m)
    await c.acall("station.add", mac=STA)
    await wind(m, b"+WIND:29:DHCP Reply:192.168.0.51:")
    for _ in range(10_000):
        if (await c.acall("station.list"))[0]["ip"] is None:
            break
        await m.cmd("AT")  # a host's idle traffic while it waits
    else:
        raise AssertionError("the lease never ended")
    assert await c.acall("station.activity", mac=STA) == {
        "peer": 1,
        "mac": STA.upper(),
        "ip": "192.168.0.51",
    }
    lines = await winds_until(m, b"+WIND:29:")
    assert lines[-1] == b"+WIND:29:DHCP Reply:192.168.0.51:02:00:00:00:00:42"
    assert not any(line.startswith(b"+WIND:72:") for line in lines)
