"""The MiniAP's captive portal: stations' requests for any host are sent to ip_apredirect,
and the module's DNS answers its own address for ip_apdomainname."""

from __future__ import annotations

import pytest
from httpd_helpers import ok, port, request, web, wind  # noqa: F401  (web is a fixture)

from atwifi.control import ControlClient, ControlError
from atwifi.services.httpd.dns import lookup

MINIAP = {"wifi_mode": 3, "wifi_ssid": "4d:79:41:50:00", "wifi_ssid_len": 4}
MAC = "02:00:00:00:00:01"


async def miniap(web):  # noqa: F811
    m = await web(**MINIAP)
    assert m.device.httpd.provider.captive() is not None
    return m


async def test_dns_answers_the_modules_address(web) -> None:  # noqa: F811
    m = await miniap(web)
    dns_port = m.device.httpd.dns.port
    assert await lookup(dns_port, "captiveportal.net") == "192.168.0.50"
    assert await lookup(dns_port, "CaptivePortal.NET") == "192.168.0.50"
    assert await lookup(dns_port, "example.com") == "192.168.0.50"  # captive: every name
    await ok(m, "AT+S.SCFG=ip_apdomainname,setup.lan")
    assert await lookup(dns_port, "setup.lan") == "192.168.0.50"
    # Garbage is dropped; the server keeps answering.
    m.device.httpd.dns.datagram_received(b"\x00garbage", ("127.0.0.1", 9))
    assert await lookup(dns_port, "captiveportal.net") == "192.168.0.50"


async def test_dns_refuses_without_a_miniap(web) -> None:  # noqa: F811
    m = await web()  # station mode
    assert await lookup(m.device.httpd.dns.port, "captiveportal.net") is None


async def test_station_is_sent_to_the_portal(web) -> None:  # noqa: F811
    m = await miniap(web)
    c = ControlClient(m.options.state_dir)
    added = await c.acall("station.add", mac=MAC)
    assert added["ip"] == "192.168.0.51"
    got = await c.acall("station.fetch", mac=MAC, url="http://example.com/some/page?x=1")
    assert got["status"] == 200
    assert got["redirects"] == [
        {
            "url": "http://example.com/some/page?x=1",
            "status": 302,
            "location": "http://captiveportal.net/firstset.html",
        }
    ]
    assert got["url"] == "http://captiveportal.net/firstset.html"
    assert got["address"] == "192.168.0.50"
    assert "First set" in got["body"] and got["station"] == {"mac": MAC, "ip": "192.168.0.51"}
    # The portal's own name: "/" opens ip_apredirect; other pages are served as they are.
    home = await c.acall("station.fetch", mac=MAC, url="http://captiveportal.net/", follow=False)
    assert home["status"] == 302
    assert home["headers"]["location"] == "http://captiveportal.net/firstset.html"
    status = await c.acall("station.fetch", mac=MAC, url="http://captiveportal.net/status.html")
    assert status["status"] == 200 and status["redirects"] == []
    by_ip = await c.acall("station.fetch", mac=MAC, url="http://192.168.0.50/index.html")
    assert by_ip["status"] == 200 and "Wi-Fi module" in by_ip["body"]
    # A changed ip_apredirect is followed at once.
    await ok(m, "AT+S.SCFG=ip_apredirect,status.html")
    again = await c.acall("station.fetch", mac=MAC, url="http://neverssl.example/")
    assert again["url"] == "http://captiveportal.net/status.html"
    # The host's own loopback requests are never redirected.
    assert (await request(port(m), target="/index.html")).status == 200


async def test_station_posts_the_first_set_form(web) -> None:  # noqa: F811
    from httpd_helpers import LAB_WORLD

    m = await web(world=LAB_WORLD, **MINIAP)
    c = ControlClient(m.options.state_dir)
    await c.acall("station.add", mac=MAC)
    got = await c.acall(
        "station.fetch",
        mac=MAC,
        url="http://captiveportal.net/remote.cgi",
        method="POST",
        data="wifi_mode=1&ssid=LabNet&wifi_priv_mode=2&wifi_wpa_psk_text=lab passphrase 42"
        "&Key=anonymous",
    )
    assert got["status"] == 200 and "joins LabNet" in got["body"]
    assert await wind(m, b"+WIND:64:") == b"+WIND:64:Remote Configuration:wifi_mode:1"
    assert await wind(m, b"+WIND:25:") == b"+WIND:25:WiFi Association successful:LabNet"


async def test_station_fetch_refusals(web) -> None:  # noqa: F811
    m = await miniap(web)
    c = ControlClient(m.options.state_dir)
    with pytest.raises(ControlError, match="no station"):
        await c.acall("station.fetch", mac=MAC, url="http://example.com/")
    await c.acall("station.add", mac=MAC)
    with pytest.raises(ControlError, match="http://"):
        await c.acall("station.fetch", mac=MAC, url="ftp://example.com/")
    with pytest.raises(ControlError, match="unreachable"):
        await c.acall("station.fetch", mac=MAC, url="http://10.1.2.3/")
    with pytest.raises(ControlError, match="refused"):
        await c.acall("station.fetch", mac=MAC, url="http://example.com:8080/")
    station_mode = await web()
    with pytest.raises(ControlError):
        await ControlClient(station_mode.options.state_dir).acall(
            "station.fetch", mac=MAC, url="http://example.com/"
        )
