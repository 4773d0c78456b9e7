"""SSI markers, AT+S.INPUTSSI, form posts (WIND:57), uploads (WIND:90), and remote
configuration (WIND:64) through the shipped first-set page."""

from __future__ import annotations

import re

from httpd_helpers import LAB_WORLD, ok, port, request, web, wind  # noqa: F401

FORM = [("Content-Type", "application/x-www-form-urlencoded")]


def cell(body: bytes, ident: str) -> str:
    m = re.search(rb'id="' + ident.encode() + rb'">([^<]*)<', body)
    assert m, (ident, body)
    return m.group(1).decode()


async def test_status_page_shows_live_values(web) -> None:  # noqa: F811
    m = await web()
    page = (await request(port(m), target="/status.html")).body
    assert b"<!--[" not in page.replace(b"<!--[99", b"")  # every marker resolved
    assert cell(page, "ssid") == "STTest"
    assert cell(page, "wifi_state") == m.device.status.text("wifi_state") == "10"
    assert cell(page, "ip_ipaddr") == m.device.status.text("ip_ipaddr")
    assert cell(page, "nv_model") == "SPWF04SA"
    assert cell(page, "wifi_own_macaddr") == "00:80:E1:FA:12:34"
    # Live: a value changed on the console shows at the next request.
    await ok(m, "AT+S.SCFG=ip_hostname,labmodule")
    page = (await request(port(m), target="/status.html")).body
    assert cell(page, "ip_hostname") == "labmodule"


async def test_markers_never_show_secrets_and_escape_values(web) -> None:  # noqa: F811
    m = await web()
    fs = m.device.fs
    await ok(m, "AT+S.SCFG=wifi_wpa_psk_text,topsecret99")
    await ok(m, "AT+S.SSIDTXT=<b>x</b>")
    await fs.write(
        "1:/s.html",
        b"[<!--[01|Config|wifi_wpa_psk_text|-->][<!--[01|Config|user_desc|-->]"
        b"[<!--[01|Config|ssid|-->][<!--[01|Config|no_such_var|-->]"
        b"[<!--[02|Status|no_such|-->][<!--[77|Other|x|-->][<!--[01|Config|-->]",
    )
    body = (await request(port(m), target="/s.html")).body
    assert body == (b"[][][&lt;b&gt;x&lt;/b&gt;][][][<!--[77|Other|x|-->][<!--[01|Config|-->]")
    assert b"topsecret" not in body and b"anonymous" not in body


async def test_inputssi_tokens(web) -> None:  # noqa: F811
    m = await web()
    fs = m.device.fs
    await fs.write(
        "1:/in.html", b"<p>[<!--[06|Input|0|-->][<!--[06|Input|1|-->][<!--[06|Input|5|-->]</p>"
    )
    p = port(m)
    # Empty buffer: the page asks the host (WIND:56, once per token and page), shows nothing.
    assert (await request(p, target="/in.html")).body == b"<p>[][][]</p>"
    assert await wind(m, b"+WIND:56:") == b"+WIND:56:Input to remote:0"
    assert await wind(m, b"+WIND:56:") == b"+WIND:56:Input to remote:1"
    assert await wind(m, b"+WIND:56:") == b"+WIND:56:Input to remote:5"
    # The first byte separates the tokens.
    assert await ok(m, "AT+S.INPUTSSI=13", b"|hello|world|") == b""
    assert (await request(p, target="/in.html")).body == b"<p>[hello][world][]</p>"
    await ok(m, "AT+S.INPUTSSI=8", b"#a b#<i>")
    assert (await request(p, target="/in.html")).body == b"<p>[a b][<i>][]</p>"
    # No WIND:56 while the buffer holds tokens.
    assert b"+WIND:56" not in m.take()
    # Length 0 clears it.
    await ok(m, "AT+S.INPUTSSI=0")
    assert (await request(p, target="/in.html")).body == b"<p>[][][]</p>"
    assert await wind(m, b"+WIND:56:") == b"+WIND:56:Input to remote:0"
    assert await wind(m, b"+WIND:56:") == b"+WIND:56:Input to remote:1"
    assert await wind(m, b"+WIND:56:") == b"+WIND:56:Input to remote:5"
    assert await m.cmd("AT", echo=False) == b"AT-S.OK\r\n"
    # Over 4096 bytes: refused at once (no data is read); the buffer is as it was.
    await ok(m, "AT+S.INPUTSSI=4", b"|ok|")
    out = await m.cmd("AT+S.INPUTSSI=4097", echo=False)
    assert out == b"AT-S.ERROR:32:Argument exceeds allowed size\r\n"
    assert (await request(p, target="/in.html")).body == b"<p>[ok][][]</p>"
    assert await m.cmd("AT", echo=False) == b"AT-S.OK\r\n"


async def test_form_post_reaches_the_host(web) -> None:  # noqa: F811
    m = await web()
    p = port(m)
    got = await request(p, "POST", "/status.html", FORM, b"msg=hello+module")
    assert got.status == 200 and b"<h1>Status</h1>" in got.body  # the page, served again
    assert await wind(m, b"+WIND:57:") == b"+WIND:57:Output from remote:16:msg=hello+module"
    # Over 128 bytes: truncated; the length is that of the message shown.
    long = b"msg=" + b"x" * 300
    got = await request(p, "POST", "/nosuchpage.cgi", FORM, long)
    assert got.status == 200 and b"304 bytes sent" in got.body
    line = await wind(m, b"+WIND:57:")
    assert line == b"+WIND:57:Output from remote:128:" + long[:128]


async def test_posts_cannot_forge_console_lines(web) -> None:  # noqa: F811
    m = await web()
    p = port(m)
    await request(p, "POST", "/x", [("Content-Type", "text/plain")], b"a\r\nAT-S.OK\r\n+WIND:1:x")
    line = await wind(m, b"+WIND:57:")
    assert line == b"+WIND:57:Output from remote:29:a%0D%0AAT-S.OK%0D%0A+WIND:1:x"
    await request(p, "POST", "/remote.cgi", FORM, b"Key=no%0D%0AAT-S.OK")
    assert await wind(m, b"+WIND:64:") == b"+WIND:64:Remote Configuration:Key:no%0D%0AAT-S.OK"
    assert b"\r\nAT-S.OK" not in m.take()


async def test_multipart_upload_goes_to_the_file_system(web) -> None:  # noqa: F811
    m = await web()
    boundary = "----atwifiBoundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="note"\r\n\r\n'
        "first upload\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="C:\\\\Users\\\\me\\\\up.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
        "uploaded bytes\x00\xff\r\n"
        f"--{boundary}--\r\n"
    ).encode("latin-1")
    got = await request(
        port(m),
        "POST",
        "/upload",
        [("Content-Type", f"multipart/form-data; boundary={boundary}")],
        body,
    )
    assert got.status == 200 and b"Files received: up.txt" in got.body
    assert await wind(m, b"+WIND:90:") == b"+WIND:90:File Received::up.txt"
    assert await wind(m, b"+WIND:57:") == b"+WIND:57:Output from remote:17:note=first+upload"
    assert await m.device.fs.read("1:/up.txt") == b"uploaded bytes\x00\xff"
    out = await m.cmd("AT+S.FSP=1:/up.txt", echo=False)
    assert b"uploaded bytes" in out
    served = await request(port(m), target="/up.txt")
    assert served.body == b"uploaded bytes\x00\xff"


async def test_upload_with_a_bad_name_is_refused(web) -> None:  # noqa: F811
    m = await web()
    boundary = "b0"
    for name in ("__LOCKED__", "a:b", ".."):
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="{name}"\r\n\r\n'
            f"x\r\n--{boundary}--\r\n"
        ).encode()
        got = await request(
            port(m),
            "POST",
            "/u",
            [("Content-Type", f"multipart/form-data; boundary={boundary}")],
            body,
        )
        assert got.status == 400, name
    assert not m.device.fs.exists("__LOCKED__")
    assert b"+WIND:90" not in m.take()


async def test_remote_configuration_as_multipart(web) -> None:  # noqa: F811
    m = await web()
    b = "xyz"
    body = (
        f'--{b}\r\nContent-Disposition: form-data; name="ip_hostname"\r\n\r\nbench-7\r\n'
        f'--{b}\r\nContent-Disposition: form-data; name="Key"\r\n\r\nanonymous\r\n--{b}--\r\n'
    ).encode()
    ctype = [("Content-Type", f"multipart/form-data; boundary={b}")]
    got = await request(port(m), "POST", "/remote.cgi", ctype, body)
    assert got.status == 200 and b"joins" not in got.body  # not a radio setting: no rejoin
    assert await wind(m, b"+WIND:64:") == b"+WIND:64:Remote Configuration:ip_hostname:bench-7"
    assert m.device.config.get("ip_hostname") == "bench-7"


async def test_remote_configuration_wrong_password(web) -> None:  # noqa: F811
    m = await web()
    got = await request(
        port(m), "POST", "/remote.cgi", FORM, b"ssid=Evil&wifi_wpa_psk_text=12345678&Key=guess"
    )
    assert got.status == 403 and b"Wrong password" in got.body
    assert await wind(m, b"+WIND:64:") == b"+WIND:64:Remote Configuration:Key:guess"
    assert b"+WIND:64" not in m.take()
    ssid = await m.cmd("AT+S.SSIDTXT", echo=False)
    assert ssid.startswith(b"AT-S.Network:STTest\r\n")


async def test_first_set_page_joins_the_chosen_network(web) -> None:  # noqa: F811
    m = await web(world=LAB_WORLD)
    page = (await request(port(m), target="/firstset.html")).body
    assert b'action="/remote.cgi"' in page and b"STTest" in page
    form = (
        b"wifi_mode=1&ssid=LabNet&wifi_priv_mode=2"
        b"&wifi_wpa_psk_text=lab+passphrase+42&Key=anonymous"
    )
    got = await request(port(m), "POST", "/remote.cgi", FORM, form)
    assert got.status == 200 and b"joins LabNet" in got.body
    # Every item but the right password, in the form's order.
    assert await wind(m, b"+WIND:64:") == b"+WIND:64:Remote Configuration:wifi_mode:1"
    assert await wind(m, b"+WIND:64:") == b"+WIND:64:Remote Configuration:ssid:LabNet"
    assert await wind(m, b"+WIND:64:") == b"+WIND:64:Remote Configuration:wifi_priv_mode:2"
    assert (
        await wind(m, b"+WIND:64:")
        == b"+WIND:64:Remote Configuration:wifi_wpa_psk_text:lab passphrase 42"
    )
    assert await wind(m, b"+WIND:25:") == b"+WIND:25:WiFi Association successful:LabNet"
    up = await wind(m, b"+WIND:24:WiFi Up:")
    assert up.startswith(b"+WIND:24:WiFi Up:0:10.9.0.")
    # Saved: the next power-on joins LabNet too.
    assert b"Key" not in m.take()
    boot = await m.restart()
    assert b"+WIND:25:WiFi Association successful:LabNet" in boot
