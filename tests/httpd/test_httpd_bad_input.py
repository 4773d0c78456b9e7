"""Bad input to the web server: each gets an HTTP error or a closed connection, the module
keeps serving others and answering AT, and no byte outside the volumes is ever served."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from httpd_helpers import ok, port, raw, request, web  # noqa: F401  (web is a fixture)

from harness import TIMEOUT

SECRET = b"SECRET-OUTSIDE-THE-VOLUMES"


async def still_fine(m) -> None:
    assert (await request(port(m), target="/index.html")).status == 200
    assert await m.cmd("AT", echo=False) == b"AT-S.OK\r\n"


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
        b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET relative HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,  # TLS to the HTTP port
    ],
)
async def test_malformed_requests_get_400(web, data: bytes) -> None:  # noqa: F811
    m = await web()
    out = await raw(port(m), data)
    assert out.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 505 ")), out
    await still_fine(m)


async def test_huge_headers_get_431(web) -> None:  # noqa: F811
    m = await web()
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    out = await raw(port(m), big)
    assert out.startswith(b"HTTP/1.1 431 "), out[:80]
    many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-H: v\r\n" * 3000 + b"\r\n"
    assert (await raw(port(m), many)).startswith(b"HTTP/1.1 431 ")
    long_line = b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert (await raw(port(m), long_line)).startswith(b"HTTP/1.1 431 ")
    await still_fine(m)


async def test_big_body_gets_413(web) -> None:  # noqa: F811
    m = await web()
    limit = m.device.httpd.limits.max_body
    head = b"POST /status.html HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (limit + 1)
    out = await raw(port(m), head)
    assert out.startswith(b"HTTP/1.1 413 ")
    chunked = b"POST /status.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    piece = b"%x\r\n" % 65536 + b"z" * 65536 + b"\r\n"
    out = await raw(port(m), chunked + piece * 5 + b"0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 413 ")
    assert b"+WIND:57" not in m.take()
    await still_fine(m)


async def test_slow_client_gets_408_and_others_are_served(web) -> None:  # noqa: F811
    m = await web()
    server = m.device.httpd
    server.limits.header_timeout = 0.3  # the test's own deadline: the default is 10 s
    reader, writer = await asyncio.open_connection("127.0.0.1", port(m))
    writer.write(b"GET /index.html HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never ends its headers
    await writer.drain()
    # Meanwhile another client is served.
    assert (await request(port(m), target="/index.html")).status == 200
    out = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    assert out.startswith(b"HTTP/1.1 408 "), out
    # A client that connects and says nothing is closed quietly after the idle timeout.
    server.limits.idle_timeout = 0.3
    reader, writer = await asyncio.open_connection("127.0.0.1", port(m))
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
    writer.close()
    await still_fine(m)


async def test_slow_body_gets_408(web) -> None:  # noqa: F811
    m = await web()
    m.device.httpd.limits.body_timeout = 0.3
    reader, writer = await asyncio.open_connection("127.0.0.1", port(m))
    writer.write(b"POST /status.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    await writer.drain()
    out = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    assert out.startswith(b"HTTP/1.1 408 ")
    assert b"+WIND:57" not in m.take()
    await still_fine(m)


ESCAPES = [
    "/../secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/%252e%252e/secret.txt",
    "/..\\secret.txt",
    "/..%5csecret.txt",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/etc/passwd",
    "/state/flash",
    "/0:/secret.txt",
    "/1:/../../secret.txt",
    "/ext/../../secret.txt",
    "/link.txt",
    "/linkdir/secret.txt",
    "/__LOCKED__",
    "/%00index.html",
    "/index.html%00.txt",
    "/.~atwifi-tmp",
    "/%C0%AEsecret.txt",
    "/..",
    "/.",
    "http://x/../secret.txt",
]


async def test_no_byte_outside_the_volumes(web, tmp_path: Path) -> None:  # noqa: F811
    outside = tmp_path / "secret.txt"
    outside.write_bytes(SECRET)
    ext = tmp_path / "ext"
    ext.mkdir()
    (ext / "plain.txt").write_bytes(b"inside")
    os.symlink(outside, ext / "link.txt")
    os.symlink(tmp_path, ext / "linkdir")
    m = await web(ext_folder=ext)
    await m.device.fs.write("1:/__LOCKED__", b"")
    p = port(m)
    assert (await request(p, target="/plain.txt")).body == b"inside"
    for target in ESCAPES:
        out = await raw(
            p, b"GET " + target.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert SECRET not in out, target
        assert b"root:" not in out, target
        assert out.startswith((b"HTTP/1.1 404 ", b"HTTP/1.1 400 ")), (target, out[:60])
    await still_fine(m)


async def test_locked_application_flash_stays_private(web) -> None:  # noqa: F811
    m = await web()
    fs = m.device.fs
    assert (await request(port(m), target="/uPython_test.py")).status == 200  # not locked yet
    app = fs.volumes[3]
    files = {n: await app.read(n) for n in await app.list()}
    files["__LOCKED__"] = b"lock"
    await app.replace_all(files)
    assert fs.locked
    p = port(m)
    # The pages still work (they are the module's web application)...
    assert (await request(p, target="/firstset.html")).status == 200
    # ...its script is not a web page: private, as from the console.
    assert (await request(p, target="/uPython_test.py")).status == 404
    # A user file of that name is the user's, and is served.
    await fs.write("1:/uPython_test.py", b"print('mine')")
    assert (await request(p, target="/uPython_test.py")).body == b"print('mine')"
    # ...but the lock file is never served, and the console cannot read the pages.
    assert (await request(p, target="/__LOCKED__")).status == 404
    out = await m.cmd("AT+S.FSP=3:/firstset.html", echo=False)
    assert out.startswith(b"AT-S.ERROR:")
    await still_fine(m)


async def test_reset_during_requests(web) -> None:  # noqa: F811
    m = await web()
    reader, writer = await asyncio.open_connection("127.0.0.1", port(m))
    writer.write(b"GET /index.html HTTP/1.1\r\nHost: x\r\nX-Half: ")
    await writer.drain()
    m.send(b"AT+S.RESET\r")
    await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    await m.settle()
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""  # the reset closed it
    writer.close()
    await still_fine(m)
    await ok(m, "AT+S.INPUTSSI=0")


async def test_a_failing_provider_gives_500_and_the_server_goes_on(web) -> None:  # noqa: F811
    m = await web()
    pages = m.device.httpd.provider

    def broken(fields, page):
        raise RuntimeError("bug")

    original = pages.ssi
    pages.ssi = broken
    try:
        got = await request(port(m), target="/status.html")
        assert got.status == 500
    finally:
        pages.ssi = original
    await still_fine(m)
