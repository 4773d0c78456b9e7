"""The module's web server: volumes, methods, MIME types, gzip, cache headers, limits."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

from httpd_helpers import ok, port, raw, request, web  # noqa: F401  (web is a fixture)

from harness import TIMEOUT


async def test_serves_application_flash_pages(web) -> None:  # noqa: F811
    m = await web()
    p = port(m)
    index = await request(p, target="/")
    assert index.status == 200 and index.reason == b"OK"
    assert index.headers["content-type"] == "text/html"
    assert b"SPWF04Sx Wi-Fi module" in index.body
    assert int(index.headers["content-length"]) == len(index.body)
    same = await request(p, target="/index.html")
    assert same.body == index.body
    assert (await request(p, target="/nothing.html")).status == 404
    # The console still answers while (and after) the server serves.
    assert await m.cmd("AT", echo=False) == b"AT-S.OK\r\n"


async def test_head_options_and_other_methods(web) -> None:  # noqa: F811
    m = await web()
    p = port(m)
    head = await request(p, "HEAD", "/index.html")
    get = await request(p, "GET", "/index.html")
    assert head.status == 200 and head.body == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    missing = await request(p, "HEAD", "/nothing.html")
    assert missing.status == 404 and missing.body == b""
    opts = await request(p, "OPTIONS", "/index.html")
    assert opts.status == 204 and opts.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    star = await raw(p, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert star.startswith(b"HTTP/1.1 400 ")  # "*" names no file: the server has no options
    put = await request(p, "PUT", "/index.html", body=b"x")
    assert put.status == 405 and put.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    delete = await request(p, "DELETE", "/index.html")
    assert delete.status == 405


async def test_table5_content_types_and_user_files_win(web) -> None:  # noqa: F811
    m = await web()
    p = port(m)
    fs = m.device.fs
    cases = {
        "a.css": "text/css",
        "a.txt": "text/plain",
        "a.xml": "text/xml",
        "a.xls": "text/xls",
        "a.gif": "image/gif",
        "a.jpg": "image/jpg",
        "a.bmp": "image/bmp",
        "a.png": "image/png",
        "a.ico": "image/x-icon",
        "a.class": "application/x-java-applet",
        "a.swf": "application/x-shockwave-flash",
        "a.json": "application/json",
        "a.woff": "application/font-woff",
        "a.form": "application/x-www-form-urlencoded",
        "a.fhtml": "text/html",
        "a.HTML": "text/html",
        "a.bin": "application/x-raw-stuff",
        "noext": "application/x-raw-stuff",
    }
    for name in cases:
        await fs.write(f"1:/{name}", name.encode())
    for name, ctype in cases.items():
        got = await request(p, target=f"/{name}")
        assert (got.status, got.headers["content-type"], got.body) == (200, ctype, name.encode())
    # A user-flash file of the same name as an application-flash page wins; the RAM disk
    # wins over both (the file system's own order: RAM, external, user, application).
    await fs.write("1:/index.html", b"<p>mine</p>")
    assert (await request(p, target="/")).body == b"<p>mine</p>"
    await fs.write("2:/index.html", b"<p>ram</p>")
    assert (await request(p, target="/")).body == b"<p>ram</p>"


async def test_gzip_files(web) -> None:  # noqa: F811
    m = await web()
    p = port(m)
    page = b"<html><body>" + b"compressed " * 200 + b"</body></html>"
    packed = gzip.compress(page)
    await m.device.fs.write("1:/big.html.gz", packed)
    got = await request(p, target="/big.html", headers=[("Accept-Encoding", "gzip, br")])
    assert got.status == 200
    assert got.headers["content-encoding"] == "gzip"
    assert got.headers["content-type"] == "text/html"
    assert gzip.decompress(got.body) == page
    # A plain file of the same name wins over the .gz (whatever the client takes).
    await m.device.fs.write("1:/big.html", b"plain")
    plain = await request(p, target="/big.html", headers=[("Accept-Encoding", "gzip")])
    assert "content-encoding" not in plain.headers and plain.body == b"plain"
    # The .gz itself, asked by its own name, is a file like any other.
    direct = await request(p, target="/big.html.gz")
    assert direct.headers["content-type"] == "application/x-raw-stuff"
    assert "content-encoding" not in direct.headers and direct.body == packed


async def test_cache_headers_follow_the_module_clock(web) -> None:  # noqa: F811
    m = await web()
    p = port(m)
    first = await request(p, target="/index.html")
    assert first.headers["date"].endswith(" 1970 " + first.headers["date"][-12:])
    m.device.clock.set(1_700_000_000)  # 2023-11-14 22:13:20 UTC, as an NTP answer would set
    got = await request(p, target="/index.html")
    assert got.headers["date"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert got.headers["cache-control"] == "max-age=300"
    assert got.headers["expires"] == "Tue, 14 Nov 2023 22:18:20 GMT"
    live = await request(p, target="/status.html")
    assert live.headers["cache-control"] == "no-store"
    assert live.headers["expires"] == live.headers["date"]


async def test_keep_alive_and_pipelining(web) -> None:  # noqa: F811
    m = await web()
    reader, writer = await asyncio.open_connection("127.0.0.1", port(m))
    writer.write(
        b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n"
        b"HEAD /status.html HTTP/1.1\r\nHost: a\r\n\r\n"
        b"GET /firstset.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    # Three answers in order on one connection; HEAD's has headers only.
    assert data.count(b"HTTP/1.1 200 OK\r\n") == 3
    first, second, third = data.split(b"HTTP/1.1 200 OK\r\n")[1:]
    assert b"Wi-Fi module" in first
    assert b"<html" not in second and b"content-length" in second.lower()
    assert b"First set" in third


async def test_connection_limit(web) -> None:  # noqa: F811
    m = await web()
    p = port(m)
    server = m.device.httpd
    limit = server.limits.max_connections
    held = []
    for _ in range(limit):
        r, w = await asyncio.open_connection("127.0.0.1", p)
        w.write(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")  # busy: in the middle of a request
        held.append((r, w))
    # Each held connection is being served (waiting for its request) once the server took it.
    await asyncio.wait_for(server.wait_active(lambda n: n == limit), TIMEOUT)
    over = await raw(p, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert over.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    # The held ones are still served.
    r, w = held[0]
    w.write(b"Connection: close\r\n\r\n")
    assert (await asyncio.wait_for(r.read(), TIMEOUT)).startswith(b"HTTP/1.1 200 OK")
    for _, w in held:
        w.close()

    await asyncio.wait_for(server.wait_active(lambda n: n == 0), TIMEOUT)
    assert (await request(p, target="/")).status == 200


async def test_idle_kept_alive_connections_make_room(web) -> None:  # noqa: F811
    m = await web()
    p = port(m)
    server = m.device.httpd
    limit = server.limits.max_connections
    held = []
    for _ in range(limit):  # each has had its answer and idles, kept alive (as browsers do)
        r, w = await asyncio.open_connection("127.0.0.1", p)
        w.write(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        await r.readuntil(b"</html>\n")
        held.append((r, w))
    await asyncio.wait_for(server.wait_active(lambda n: n == limit), TIMEOUT)
    # A new client is served: the oldest idle connection is closed for it.
    assert (await request(p, target="/status.html")).status == 200
    r0, w0 = held[0]
    assert await asyncio.wait_for(r0.read(), TIMEOUT) == b""
    # The others are still open and served.
    r1, w1 = held[1]
    w1.write(b"GET /firstset.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await asyncio.wait_for(r1.read(), TIMEOUT)).startswith(b"HTTP/1.1 200 OK")
    for _, w in held:
        w.close()


async def test_large_file_streams(web, tmp_path: Path) -> None:  # noqa: F811
    ext = tmp_path / "ext"
    ext.mkdir()
    blob = bytes(range(256)) * 4096  # 1 MiB
    (ext / "big.bin").write_bytes(blob)
    m = await web(ext_folder=ext)
    got = await request(port(m), target="/big.bin")
    assert got.status == 200 and got.body == blob
    assert got.headers["content-type"] == "application/x-raw-stuff"


async def test_httpd_off_and_port_map(web, tmp_path: Path) -> None:  # noqa: F811
    off = await web(ip_use_httpd=0)
    assert off.device.httpd.http_port is None
    assert off.device.httpd.urls() == {}
    # INPUTSSI still fills its buffer (it is the module's RAM, served or not).
    await ok(off, "AT+S.INPUTSSI=3", b"|a|")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    mapped = await web(port_map={80: free})
    assert mapped.device.httpd.http_port == free
    assert (await request(free, target="/")).status == 200


async def test_same_port_after_reset(web) -> None:  # noqa: F811
    m = await web()
    before = port(m)
    m.send(b"AT+S.RESET\r")
    await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    await m.settle()
    assert port(m) == before
    assert (await request(before, target="/")).status == 200


async def test_https_with_the_modules_certificate(web, tmp_path: Path) -> None:  # noqa: F811
    import ssl

    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    m = await web()
    cert = leaf.cert_chain_pems[0].bytes()
    key = leaf.private_key_pem.bytes()
    await ok(m, f"AT+S.TLSCERT=cert,{len(cert)}", cert)
    await ok(m, f"AT+S.TLSCERT=key,{len(key)}", key)
    assert m.device.httpd.https_port is None  # HTTPS comes with the next boot
    m.send(b"AT+S.RESET\r")
    await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    await m.settle()
    tls_port = m.device.httpd.https_port
    assert tls_port is not None
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    got = await request(tls_port, target="/index.html", ssl=ctx)
    assert got.status == 200 and b"Wi-Fi module" in got.body
