"""AT+S.SCAN, AT+S.WIFI, AT+S.WPS, other modes, and the control channel, through the bytes."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import pytest
from radio_helpers import (  # noqa: F401  (boot is a fixture)
    boot,
    ctl,
    numbers,
    ok,
    ssid_config,
    wind,
    winds_until,
)

from atwifi.control import ControlClient, ControlError
from atwifi.control.cli import main as ctl_main

SRC = Path(__file__).resolve().parents[2] / "src"

SCAN_WORLD = """
[[ap]]
ssid = "STTest"
bssid = "00:18:F8:3C:D9:18"
channel = 11
rssi = -51

[[ap]]
ssid = "OldRouter"
bssid = "02:AA:00:00:00:01"
channel = 1
rssi = -78
security = "wpa"
passphrase = "password1"

[[ap]]
ssid = "HomeWPA2"
bssid = "02:AA:00:00:00:02"
channel = 6
rssi = -62
security = "wpa2"
passphrase = "correct horse battery"
wps = true

[[ap]]
ssid = "Mixed"
bssid = "02:AA:00:00:00:03"
channel = 13
rssi = -9
security = "wpa-wpa2"
passphrase = "password2"
"""


async def joined(boot, world: str | None = None, **cfg: object):  # type: ignore[no-untyped-def]  # noqa: F811
    m = await boot(world, **cfg)
    await wind(m, b"+WIND:24:WiFi Up::")
    return m


async def test_scan_lines_byte_for_byte(boot) -> None:  # noqa: F811
    m = await joined(boot, SCAN_WORLD)
    out = await m.cmd("AT+S.SCAN=d", echo=False)
    assert out == (
        b"AT-S.Parsing Networks:4\r\n"
        b"1:\t BSS 02:AA:00:00:00:01 CHAN: 01 RSSI: -78 SSID: 'OldRouter' CAPS: 0431 WPA \r\n"
        b"2:\t BSS 02:AA:00:00:00:02 CHAN: 06 RSSI: -62 SSID: 'HomeWPA2' CAPS: 0431 WPS WPA2 \r\n"
        b"3:\t BSS 00:18:F8:3C:D9:18 CHAN: 11 RSSI: -51 SSID: 'STTest' CAPS: 0421 \r\n"
        b"4:\t BSS 02:AA:00:00:00:03 CHAN: 13 RSSI: -9 SSID: 'Mixed' CAPS: 0431 WPA WPA2 \r\n"
        b"AT-S.OK\r\n"
    )


DUP_WORLD = """
[[ap]]
ssid = "STTest"
bssid = "00:18:F8:3C:D9:18"
channel = 11
rssi = -51

[[ap]]
ssid = "Mesh"
bssid = "02:AA:00:00:00:0A"
channel = 1
rssi = -80

[[ap]]
ssid = "Mesh"
bssid = "02:AA:00:00:00:0B"
channel = 6
rssi = -40
"""


async def test_scan_s_lists_every_network_once_strongest_kept(boot) -> None:  # noqa: F811
    m = await joined(boot, DUP_WORLD)
    lines = (
        b"1:\t BSS 02:AA:00:00:00:0B CHAN: 06 RSSI: -40 SSID: 'Mesh' CAPS: 0421 \r\n"
        b"2:\t BSS 00:18:F8:3C:D9:18 CHAN: 11 RSSI: -51 SSID: 'STTest' CAPS: 0421 \r\n"
    )
    # The drivers' own spellings: "s," (mbed, X-CUBE-WIFI1) and "s".
    for cmd in ("AT+S.SCAN=s,", "AT+S.SCAN=s"):
        assert (
            await m.cmd(cmd, echo=False) == b"AT-S.Parsing Networks:2\r\n" + lines + b"AT-S.OK\r\n"
        )
    # Another configured SSID changes nothing: s is not "only the configured one".
    await ok(m, "AT+S.SSIDTXT=Nowhere")
    assert await m.cmd("AT+S.SCAN=s,", echo=False) == (
        b"AT-S.Parsing Networks:2\r\n" + lines + b"AT-S.OK\r\n"
    )


async def test_scan_m_drops_duplicate_bssids_only(boot) -> None:  # noqa: F811
    m = await joined(boot, SCAN_WORLD)
    every = await m.cmd("AT+S.SCAN=d", echo=False)
    assert every.startswith(b"AT-S.Parsing Networks:4\r\n")
    assert await m.cmd("AT+S.SCAN=m", echo=False) == every


async def test_scan_s_before_a_join_lists_every_network(boot) -> None:  # noqa: F811
    m = await boot(SCAN_WORLD, wifi_mode=0)
    out = await m.cmd("AT+S.SCAN=s,", echo=False)
    assert out.startswith(b"AT-S.Parsing Networks:4\r\n"), out


async def test_scan_errors(boot) -> None:  # noqa: F811
    m = await joined(boot)
    assert await m.cmd("AT+S.SCAN=x", echo=False) == b"AT-S.ERROR:7:Invalid argument(s)\r\n"
    # No file system (none mounted): writing the output file fails as the module does.
    m.device.fs = None
    out = await m.cmd("AT+S.SCAN=d,scan.txt", echo=False)
    assert out == b"AT-S.ERROR:50:Unable to access filesystem\r\n"
    await ok(m, "AT+S.WIFI=0")
    assert await m.cmd("AT+S.SCAN=d", echo=False) == b"+WIND:38:WiFi Powered Down\r\n" + (
        b"AT-S.ERROR:18:Radio not running\r\n"
    )


async def test_scan_to_file_uses_the_file_system(boot) -> None:  # noqa: F811
    m = await joined(boot)
    written: dict[str, bytes] = {}

    class FakeFs:  # the fs helper's service; only its write() matters here
        async def write(self, name: str, data: bytes) -> None:
            written[name] = data

    m.device.fs = FakeFs()
    assert await m.cmd("AT+S.SCAN=d,scan.txt", echo=False) == b"AT-S.OK\r\n"
    assert written == {
        "scan.txt": b"1:\t BSS 00:18:F8:3C:D9:18 CHAN: 11 RSSI: -51 SSID: 'STTest' CAPS: 0421 \r\n"
    }


async def test_wifi_off_while_joined_and_on_again(boot) -> None:  # noqa: F811
    m = await joined(boot)
    assert await ok(m, "AT+S.WIFI=0") == b""
    assert await m.read_until(b"\r\n") == b"+WIND:38:WiFi Powered Down\r\n"
    assert m.device.status.text("wifi_state") == "2"
    assert m.device.status.text("ip_ipaddr") == "0.0.0.0"
    assert m.device.status.text("wifi_bssid") == "00:00:00:00:00:00"
    assert not m.device.radio.ip_ready
    assert await ok(m, "AT+S.WIFI=0") == b""  # already off: nothing more happens
    await ok(m, "AT+S.WIFI=1")
    lines = await winds_until(m, b"+WIND:24:WiFi Up::")
    assert numbers(lines) == [32, 21, 35, 19, 25, 24, 24]
    assert lines[0] == b"+WIND:32:WiFi Hardware Started"
    assert await m.cmd("AT+S.WIFI=2", echo=False) == b"AT-S.ERROR:8:Invalid value\r\n"


async def test_wifi_mode_0_boots_idle_with_wind32(boot) -> None:  # noqa: F811
    m = await boot(wifi_mode=0)  # boot() itself waited for +WIND:32
    await ok(m, "AT")
    assert m.take() == b""
    assert m.device.status.text("wifi_state") == "3"
    out = await m.cmd("AT+S.SCAN=d", echo=False)  # an idle radio still scans
    assert out.startswith(b"AT-S.Parsing Networks:1\r\n")


async def test_reset_rejoins_and_keeps_the_world(boot) -> None:  # noqa: F811
    m = await joined(boot)
    await ctl(m).acall("ap.set", ap="STTest", channel=3)
    m.send(b"AT+S.RESET\r")
    lines = await winds_until(m, b"+WIND:24:WiFi Up::")
    assert b"+WIND:32:WiFi Hardware Started" in lines
    assert m.device.status.text("wifi_channelnum") == "3"  # the changed world survived


# -- MiniAP and IBSS ------------------------------------------------------------------------


async def test_miniap_started_with_stations_via_control(boot) -> None:  # noqa: F811
    m = await boot(wifi_mode=3, **ssid_config("MyAP"), wifi_channelnum=6)
    lines = await winds_until(m, b"+WIND:24:WiFi Up::")
    assert lines == [
        b"+WIND:26:Started AP:MyAP",
        b"+WIND:24:WiFi Up:0:192.168.0.50",
        b"+WIND:24:WiFi Up::fe80:0:0:0:280:e1ff:fefa:1234",
    ]
    assert m.device.status.text("wifi_state") == "8"
    c = ctl(m)
    got = await c.acall("station.add", mac="02:62:1f:51:8f:0b")
    assert got["ip"] == "192.168.0.51" and got["peer"] == 1
    assert await winds_until(m, b"+WIND:29:") == [
        b"+WIND:28:Station Associated:02:62:1F:51:8F:0B:0",
        b"+WIND:29:DHCP Reply:192.168.0.51:02:62:1F:51:8F:0B",
    ]
    peers = await ok(m, "AT+S.PEERS=1,addr")
    assert peers == b"AT-S.Var:1.addr=02:62:1F:51:8F:0B\r\n"
    assert m.device.status.text("wifi_num_assoc") == "1"
    await c.acall("station.remove", mac="02:62:1F:51:8F:0B")
    assert await wind(m, b"+WIND:72:") == b"+WIND:72:Station Disassociated:02:62:1F:51:8F:0B:8"
    assert m.device.status.text("wifi_num_assoc") == "0"


async def test_miniap_dhcp_server_limits(boot) -> None:  # noqa: F811
    m = await boot(wifi_mode=3, ip_num_clients=1, ip_macfilter="00:00:00:00:00:00")
    await wind(m, b"+WIND:24:WiFi Up::")
    c = ctl(m)
    await c.acall("station.add", mac="02:00:00:00:00:01")
    await wind(m, b"+WIND:29:")
    second = await c.acall("station.add", mac="02:00:00:00:00:02")
    assert second["ip"] is None  # ip_num_clients reached: associated, no lease
    assert await wind(m, b"+WIND:28:") == b"+WIND:28:Station Associated:02:00:00:00:00:02:0"
    await ok(m, "AT")
    assert m.take() == b""
    with pytest.raises(ControlError, match="associated already"):
        await c.acall("station.add", mac="02:00:00:00:00:02")

    filtered = await boot(wifi_mode=3, ip_macfilter="02:00:00:00:00:09")
    await wind(filtered, b"+WIND:24:WiFi Up::")
    assert (await ctl(filtered).acall("station.add", mac="02:00:00:00:00:01"))["ip"] is None
    assert (await ctl(filtered).acall("station.add", mac="02:00:00:00:00:09"))["ip"]


async def test_miniap_without_dhcp_server(boot) -> None:  # noqa: F811
    m = await boot(wifi_mode=3, ip_use_dhcpd=0)
    await wind(m, b"+WIND:24:WiFi Up::")
    assert (await ctl(m).acall("station.add", mac="02:00:00:00:00:01"))["ip"] is None


async def test_ibss_starts_a_cell_and_takes_autoip(boot) -> None:  # noqa: F811
    m = await boot(wifi_mode=2, **ssid_config("AdHoc"))
    lines = await winds_until(m, b"+WIND:24:WiFi Up:1:")
    assert numbers(lines) == [21, 35, 26, 85, 24]
    assert lines[2] == b"+WIND:26:Started AP:AdHoc"


# -- WPS ----------------------------------------------------------------------------------------

WPS_WORLD = """
[[ap]]
ssid = "HomeWPA2"
security = "wpa2"
passphrase = "correct horse battery"
wps = true
wps_pin = "12345670"
"""


async def test_wps_pin_mode_prints_the_pin_and_joins(boot) -> None:  # noqa: F811
    m = await boot(WPS_WORLD)  # looks for STTest (absent) until WPS gives it credentials
    await winds_until(m, b"+WIND:35:")
    out = await ok(m, "AT+S.WPS=1")
    assert out.endswith(b"AT-S.Generated user PIN:12345670\r\n")
    lines = await winds_until(m, b"+WIND:24:WiFi Up::")
    assert 81 in numbers(lines)
    assert numbers(lines)[-6:] == [35, 19, 25, 51, 24, 24]
    out = await m.cmd("AT+S.SSIDTXT", echo=False)
    assert out == b"AT-S.Network:HomeWPA2\r\nAT-S.OK\r\n"
    assert m.device.config.get("wifi_priv_mode") == 2


async def test_wps_push_button_and_random_pin(boot) -> None:  # noqa: F811
    m = await boot(WPS_WORLD, wifi_wps_walk_time=1)
    await winds_until(m, b"+WIND:35:")
    out = await ok(m, "AT+S.WPS=2")
    pin = out.strip().rsplit(b":", 1)[1]
    assert out.strip().startswith(b"AT-S.Generated random PIN:") and len(pin) == 8
    # The registrar expects 12345670: a random PIN does not match, the walk time runs out.
    lines = await winds_until(m, b"+WIND:82:")
    assert lines[-1] == b"+WIND:82:WPS enrollment attempt timed out"
    assert 81 in numbers(lines)
    assert b"PIN" not in await ok(m, "AT+S.WPS=0")  # push button: no PIN line
    await wind(m, b"+WIND:24:WiFi Up:0:")


async def test_wps_errors(boot) -> None:  # noqa: F811
    m = await joined(boot, wifi_wps_pin=123)
    assert await m.cmd("AT+S.WPS=1", echo=False) == b"AT-S.ERROR:39:PIN needs to be 7 digits\r\n"
    assert await m.cmd("AT+S.WPS=3", echo=False) == b"AT-S.ERROR:8:Invalid value\r\n"
    assert await m.cmd("AT+S.WPS", echo=False) == b"AT-S.ERROR:2:Missing argument(s)\r\n"
    ap = await boot(wifi_mode=3)
    await wind(ap, b"+WIND:24:WiFi Up::")
    out = await ap.cmd("AT+S.WPS=0", echo=False)
    assert out == b"AT-S.ERROR:67:WPS only allowed on STA mode\r\n"


# -- the control channel ----------------------------------------------------------------------


async def test_control_errors_keep_the_channel_up(boot) -> None:  # noqa: F811
    m = await joined(boot)
    c = ctl(m)
    with pytest.raises(ControlError, match="unknown verb"):
        await c.acall("no.such")
    with pytest.raises(ControlError, match="usage"):
        await c.acall("ap.remove")
    with pytest.raises(ControlError, match="no access point"):
        await c.acall("ap.remove", ap="Nope")
    with pytest.raises(ControlError, match="not running a MiniAP"):
        await c.acall("station.add", mac="02:00:00:00:00:01")
    with pytest.raises(ControlError, match="rssi"):
        await c.acall("ap.set", ap="STTest", rssi=5)
    with pytest.raises(ControlError, match="unknown access point fields"):
        await c.acall("ap.add", ssid="X", colour="red")
    with pytest.raises(ControlError, match="kind"):
        await c.acall("link.drop", kind="meteor")
    assert await c.acall("ping") == "pong"
    assert {h["verb"].split()[0] for h in await c.acall("help")} >= {
        "ap.add",
        "ap.remove",
        "ap.set",
        "link.drop",
        "dhcp.fail",
        "station.add",
        "station.remove",
        "world.show",
    }
    world = await c.acall("world.show")
    assert world["policy"] == {"allow": ["127.0.0.0/8", "::1/128"]}
    status = await c.acall("radio.status")
    assert status["ip_ready"] is True and status["status"]["wifi_state"] == "10"


async def test_control_sync_client_and_cli(boot, capsys) -> None:  # noqa: F811
    m = await joined(boot)
    state = m.options.state_dir
    sync = ControlClient(state)
    aps = await asyncio.to_thread(sync.call, "ap.list")
    assert [a["ssid"] for a in aps] == ["STTest"]
    rc = await asyncio.to_thread(
        ctl_main, ["--state", str(state), "ap.add", "ssid=Cafe", "rssi=-70", "wps=true"]
    )
    assert rc == 0
    added = json.loads(capsys.readouterr().out)
    assert added["ssid"] == "Cafe" and added["rssi"] == -70 and added["wps"] is True
    rc = await asyncio.to_thread(ctl_main, ["--state", str(state), "ap.remove", "ap=Nope"])
    assert rc == 1
    assert "no access point" in capsys.readouterr().err
    out = await m.cmd("AT+S.SCAN=d", echo=False)
    assert b"SSID: 'Cafe' CAPS: 0421 WPS \r\n" in out


async def test_control_bad_json_line(boot) -> None:  # noqa: F811
    m = await joined(boot)
    from atwifi.control.protocol import bindable, socket_path

    with bindable(socket_path(m.options.state_dir)) as name:
        reader, writer = await asyncio.open_unix_connection(name)
    writer.write(b"{not json\n" + b'{"verb": 5}\n' + b'{"id": 7, "verb": "ping"}\n')
    replies = [json.loads(await reader.readline()) for _ in range(3)]
    writer.close()
    assert [r["ok"] for r in replies] == [False, False, True]
    assert replies[2] == {"id": 7, "ok": True, "result": "pong"}


@pytest.mark.skipif(
    importlib.util.find_spec("atwifi.transports") is None,
    reason="atwifi serve needs the transports (another branch)",
)
async def test_served_module_joins_and_obeys_atwifi_ctl(served, tmp_path) -> None:
    """The real `atwifi serve` process: reset, join STTest, then `atwifi ctl` from a shell."""
    import os
    import subprocess
    import sys

    await served.send(b"AT+S.RESET\r")
    up = await served.read_until(b"+WIND:24:WiFi Up::")
    assert b"+WIND:25:WiFi Association successful:STTest\r\n+WIND:24:WiFi Up:0:192.168.1." in up
    env = dict(os.environ, PYTHONPATH=str(SRC))
    args = [sys.executable, "-m", "atwifi", "ctl", "--state", str(tmp_path / "state")]
    done = await asyncio.to_thread(
        subprocess.run, [*args, "ap.remove", "ap=STTest"], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ssid"] == "STTest"
    lost = await served.read_until(b"+WIND:33:WiFi Network Lost\r\n")
    assert lost.endswith(b"+WIND:30:WiFi BSS Lost\r\n+WIND:33:WiFi Network Lost\r\n")


async def test_control_socket_in_a_deep_state_folder(tmp_path) -> None:
    from radio_helpers import InProcessModule

    deep = tmp_path / ("d" * 60) / ("e" * 60) / "state"
    assert len(str(deep / "ctl.sock")) > 108  # too long for a Unix socket address
    m = InProcessModule(deep)
    await m.device.power_on()
    try:
        assert await ControlClient(deep).acall("ping") == "pong"
        assert await asyncio.to_thread(ControlClient(deep).call, "ping") == "pong"
    finally:
        await m.device.shutdown()
    assert not (deep / "ctl.sock").exists()  # removed at power-off
