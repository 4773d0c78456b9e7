"""The module's pages in a real browser: headless Chromium (Debian's chromium) driven by
Playwright. The browser opens the status page and the first-set page, submits the form, and
the test checks the WINDs and the join. Screenshots are kept in test-artifacts/httpd/.

Skipped when chromium or the playwright package is missing (CI installs both)."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpd_helpers import LAB_WORLD, port, web, wind  # noqa: F401  (web is a fixture)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "httpd"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() or importlib.util.find_spec("playwright") is None,
        reason="needs Debian's chromium and the playwright package",
    ),
]


@pytest.fixture
async def launch() -> AsyncIterator[Any]:
    """``await launch(*extra_args)``: a headless Chromium (never a downloaded browser)."""
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browsers = []
    async with async_playwright() as pw:

        async def make(*extra: str) -> Any:
            b = await pw.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, *extra])
            browsers.append(b)
            return b

        yield make
        for b in browsers:
            await b.close()


async def shot(page: Any, name: str) -> Path:
    path = ARTIFACTS / name
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


async def test_browser_status_and_first_set_join(web, launch) -> None:  # noqa: F811
    m = await web(world=LAB_WORLD)
    base = f"http://127.0.0.1:{port(m)}"
    browser = await launch()
    page = await browser.new_page()
    await page.goto(f"{base}/status.html")
    assert await page.inner_text("#ssid") == "STTest"
    assert await page.inner_text("#wifi_state") == "10"
    assert await page.inner_text("#ip_ipaddr") == m.device.status.text("ip_ipaddr")
    await shot(page, "status-before.png")
    # The status page's own form: a message for the host.
    await page.fill("#msg", "hello from chromium")
    async with page.expect_navigation():
        await page.click("#send")
    assert await wind(m, b"+WIND:57:") == b"+WIND:57:Output from remote:23:msg=hello+from+chromium"
    # The first-set page: choose LabNet, give its passphrase and the module's password.
    await page.goto(f"{base}/firstset.html")
    await page.fill("#ssid", "LabNet")
    await page.select_option("#wifi_priv_mode", "2")
    await page.fill("#wifi_wpa_psk_text", "lab passphrase 42")
    await page.fill("#Key", "anonymous")
    await shot(page, "firstset-filled.png")
    async with page.expect_navigation():
        await page.click("#join")
    assert "joins LabNet" in await page.inner_text("#result")
    await shot(page, "firstset-result.png")
    assert await wind(m, b"+WIND:64:") == b"+WIND:64:Remote Configuration:wifi_mode:1"
    assert await wind(m, b"+WIND:64:") == b"+WIND:64:Remote Configuration:ssid:LabNet"
    assert await wind(m, b"+WIND:25:") == b"+WIND:25:WiFi Association successful:LabNet"
    up = await wind(m, b"+WIND:24:WiFi Up:")
    address = up.split(b":")[-1].decode()
    assert address.startswith("10.9.0.")
    await page.goto(f"{base}/status.html")
    assert await page.inner_text("#ssid") == "LabNet"
    assert await page.inner_text("#ip_ipaddr") == address
    await shot(page, "status-joined.png")


async def test_browser_captive_portal(web, launch) -> None:  # noqa: F811
    """A phone's browser in the MiniAP: every host it asks for leads to the portal. Chromium
    sends all its requests to the module (as a proxy, the nearest a browser on this host gets
    to a MiniAP whose DNS answers the module's address for every name)."""
    m = await web(wifi_mode=3, wifi_ssid="4d:79:41:50:00", wifi_ssid_len=4)
    browser = await launch(f"--proxy-server=http://127.0.0.1:{port(m)}")
    page = await browser.new_page()
    await page.goto("http://example.com/")
    assert page.url == "http://captiveportal.net/firstset.html"
    assert await page.inner_text("h1") == "First set"
    await shot(page, "captive-portal.png")


async def test_browser_over_https(web, launch) -> None:  # noqa: F811
    """The module's own certificate (a test CA's, not trusted by the browser: it is told to
    accept it), HTTPS on module port 443."""
    import trustme
    from httpd_helpers import ok

    m = await web()
    leaf = trustme.CA().issue_cert("127.0.0.1")
    cert, key = leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes()
    await ok(m, f"AT+S.TLSCERT=cert,{len(cert)}", cert)
    await ok(m, f"AT+S.TLSCERT=key,{len(key)}", key)
    m.send(b"AT+S.RESET\r")
    await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    await m.settle()
    browser = await launch("--ignore-certificate-errors")
    page = await browser.new_page()
    await page.goto(f"https://127.0.0.1:{m.device.httpd.https_port}/status.html")
    assert await page.inner_text("#ssid") == "STTest"
    await shot(page, "status-https.png")
