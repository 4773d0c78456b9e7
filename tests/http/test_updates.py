"""FSUPDATE and FWUPDATE through the console: downloads from real servers on 127.0.0.1."""

from __future__ import annotations

import time

import pytest
import trustme
from http_peers import WebPeer, cut_after, raw_server

from atwifi.services import firmware
from atwifi.services.fs import image

OK = b"AT-S.OK\r\n"
ST200 = b"AT-S.Http Server Status Code:200\r\n"
NEW_BUILD = "261201-abc1234-SPWF04S"


def http_error(n: int) -> bytes:
    return b"AT-S.Http Client Error:%d\r\n" % n


@pytest.fixture
async def peer():
    p = WebPeer()
    await p.start()
    yield p
    await p.stop()


async def listing(m) -> bytes:
    return await m.cmd("AT+S.FSL")


async def reset(m) -> bytes:
    m.send(b"AT+S.RESET\r")
    return await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")


async def test_fsupdate_replaces_a_volume(quiet_module, peer):
    m = quiet_module
    assert await m.cmd("AT+S.FSC=1:/old.txt,3", b"old") == OK
    peer.files["fs.img"] = image.pack({"a.txt": b"alpha", "b.bin": bytes(300)})
    assert await m.cmd(f"AT+S.FSUPDATE=e,127.0.0.1,/files/fs.img,{peer.port}") == ST200 + OK
    out = await listing(m)
    assert b"AT-S.File:E\t5\ta.txt\r\n" in out and b"AT-S.File:E\t300\tb.bin\r\n" in out
    assert b"old.txt" not in out
    # Redirects are followed for updates; the external volume and the application flash too.
    peer.files["x.img"] = image.pack({"x.txt": b"ext"})
    to = f"http://127.0.0.1:{peer.port}/files/x.img"
    assert await m.cmd(f"AT+S.FSUPDATE=x,127.0.0.1,/redirect?to={to},{peer.port}") == ST200 + OK
    assert b"AT-S.File:X\t3\tx.txt\r\n" in await listing(m)
    peer.files["app.img"] = image.pack({"index.html": b"<html>new app</html>"})
    assert await m.cmd(f"AT+S.FSUPDATE=i,127.0.0.1,/files/app.img,{peer.port}") == ST200 + OK
    await reset(m)
    await m.settle()
    out = await listing(m)
    assert b"AT-S.File:I\t20\tindex.html\r\n" in out and b"firstset.html" not in out
    assert b"AT-S.File:E\t5\ta.txt\r\n" in out


async def test_failed_fsupdate_leaves_the_old_volume(quiet_module, peer):
    m = quiet_module
    assert await m.cmd("AT+S.FSC=1:/keep.txt,4", b"keep") == OK
    before = await listing(m)
    good = image.pack({"new.txt": b"n" * 2000})
    # Cut in the middle of the body.
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(good)
    srv, port = await raw_server(cut_after(head, good[:1000]))
    async with srv:
        assert await m.cmd(f"AT+S.FSUPDATE=e,127.0.0.1,/fs.img,{port}") == ST200 + http_error(9)
    assert await listing(m) == before
    # Not an image, a damaged image, an image too big for the volume: 50, as FSWRITE.
    peer.files["junk"] = b"this is not an image"
    peer.files["bad.img"] = good[:-1] + bytes([good[-1] ^ 1])
    peer.files["big.img"] = image.pack({"big.bin": bytes(70 * 1024)})
    for name in ("junk", "bad.img", "big.img"):
        out = await m.cmd(f"AT+S.FSUPDATE=e,127.0.0.1,/files/{name},{peer.port}")
        assert out == ST200 + b"AT-S.ERROR:50:Unable to access filesystem\r\n", name
        assert await listing(m) == before
    # Not found: the status is shown, then the client error.
    out = await m.cmd(f"AT+S.FSUPDATE=e,127.0.0.1,/files/none.img,{peer.port}")
    assert out == b"AT-S.Http Server Status Code:404\r\n" + http_error(9)
    # A redirect loop: after 5 hops the 301 is the reply.
    out = await m.cmd(f"AT+S.FSUPDATE=e,127.0.0.1,/loop,{peer.port}")
    assert out == b"AT-S.Http Server Status Code:301\r\n" + http_error(9)
    # Far larger than any image for a 64 KiB flash: stopped while it downloads.
    out = await m.cmd(f"AT+S.FSUPDATE=e,127.0.0.1,/large?n=400000,{peer.port}")
    assert out == ST200 + http_error(15)
    assert await listing(m) == before
    assert await m.cmd("AT+S.FSUPDATE=q,127.0.0.1") == b"AT-S.ERROR:7:Invalid argument(s)\r\n"
    assert await m.cmd("AT") == OK


async def test_fwupdate_then_reset_runs_the_new_firmware(quiet_module, peer):
    m = quiet_module
    peer.files["fw.fota"] = firmware.pack("1.2.0", NEW_BUILD, b"\x00firmware" * 1000)
    assert await m.cmd(f"AT+S.FWUPDATE=e,127.0.0.1,/files/fw.fota,{peer.port}") == ST200 + OK
    assert await m.cmd("AT+S.STS=build") == b"AT-S.Var:build=171117-0328fe3-SPWF04S\r\n" + OK
    boot = await reset(m)
    lines = boot.split(b"\r\n")
    assert lines[lines.index(b"AT-S.OK") + 1 :][:5] == [
        b"+WIND:17:Boot Messages:Boot 1.0",
        b"+WIND:17:Boot Messages:Performing F/W update",
        b"+WIND:17:Boot Messages:Completed F/W update",
        b"+WIND:17:Boot Messages:Cleanup",
        b"+WIND:1:Poweron:" + NEW_BUILD.encode(),
    ]
    await m.settle()
    assert await m.cmd("AT+S.STS=build") == b"AT-S.Var:build=" + NEW_BUILD.encode() + b"\r\n" + OK
    assert await m.cmd("AT+S.STS=fw_version") == b"AT-S.Var:fw_version=1.2.0\r\n" + OK
    # The next boot has nothing to apply and keeps the new firmware, power cycles included.
    boot = await m.restart()
    assert b"+WIND:17" not in boot and b"+WIND:1:Poweron:" + NEW_BUILD.encode() in boot


async def test_bad_firmware_aborts_and_the_old_one_runs(quiet_module, peer):
    m = quiet_module
    good = firmware.pack("9.9.9", NEW_BUILD, b"payload" * 100)
    peer.files["bad.fota"] = good[:-1] + bytes([good[-1] ^ 0xFF])
    assert await m.cmd(f"AT+S.FWUPDATE=e,127.0.0.1,/files/bad.fota,{peer.port}") == ST200 + OK
    boot = await reset(m)
    assert (
        b"+WIND:17:Boot Messages:Boot 1.0\r\n"
        b"+WIND:17:Boot Messages:Aborting F/W update:2\r\n"
        b"+WIND:17:Boot Messages:Cleanup\r\n"
        b"+WIND:1:Poweron:171117-0328fe3-SPWF04S\r\n"
    ) in boot
    await m.settle()
    assert await m.cmd("AT+S.STS=fw_version") == b"AT-S.Var:fw_version=1.1.0\r\n" + OK
    # A cut download stores nothing: the next reset has nothing to apply.
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(good)
    srv, port = await raw_server(cut_after(head, good[:100]))
    async with srv:
        assert await m.cmd(f"AT+S.FWUPDATE=e,127.0.0.1,,{port}") == ST200 + http_error(9)
    assert b"+WIND:17" not in await reset(m)


async def test_secure_firmware_needs_the_key(quiet_module, peer):
    m = quiet_module
    key = bytes(range(16))
    hexkey = ":".join(f"{b:02X}" for b in key)
    assert await m.cmd(f"AT+S.SCFG=aes128_key,{hexkey}") == OK
    assert await m.cmd("AT+S.WCFG") == OK  # the boot loader reads the saved key
    peer.files["fw.sfota"] = firmware.pack("2.0.0", NEW_BUILD, b"s" * 500, key=key)
    peer.files["plain.sfota"] = firmware.pack("2.0.0", NEW_BUILD, b"s" * 500)
    peer.files["other.sfota"] = firmware.pack("2.0.0", NEW_BUILD, b"s" * 500, key=bytes(16))
    for name in ("plain.sfota", "other.sfota"):
        assert await m.cmd(f"AT+S.FWUPDATE=e,127.0.0.1,/files/{name},{peer.port}") == ST200 + OK
        boot = await reset(m)
        assert b"+WIND:17:Boot Messages:Aborting F/W update:3\r\n" in boot, name
        await m.settle()
    assert await m.cmd(f"AT+S.FWUPDATE=e,127.0.0.1,/files/fw.sfota,{peer.port}") == ST200 + OK
    boot = await reset(m)
    assert b"+WIND:17:Boot Messages:Completed F/W update\r\n" in boot
    assert b"+WIND:1:Poweron:" + NEW_BUILD.encode() in boot


async def test_fwupdate_download_errors(quiet_module, peer):
    m = quiet_module
    out = await m.cmd(f"AT+S.FWUPDATE=e,127.0.0.1,/files/none.fota,{peer.port}")
    assert out == b"AT-S.Http Server Status Code:404\r\n" + http_error(9)
    assert await m.cmd("AT+S.FWUPDATE=e,no-such-host.invalid") == http_error(0)
    assert await m.cmd("AT+S.FWUPDATE=x,127.0.0.1") == b"AT-S.ERROR:7:Invalid argument(s)\r\n"
    m.device.http.idle_timeout = 0.3
    out = await m.cmd(f"AT+S.FWUPDATE=e,127.0.0.1,/slow,{peer.port}")
    assert out == ST200 + http_error(4)
    assert b"+WIND:17" not in await reset(m)


async def test_fsupdate_over_tls_and_a_redirect_to_https(quiet_module):
    m = quiet_module
    ca = trustme.CA()
    peer = WebPeer(ca)
    await peer.start()
    try:
        pem = ca.cert_pem.bytes()
        assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(pem)}", pem) == OK
        peer.files["s.img"] = image.pack({"secure.txt": b"over tls"})
        line = f"AT+S.FSUPDATE=e,localhost,/files/s.img,{peer.tls_port},2"
        assert await m.cmd(line) == b"AT-S.Certificate Error:21\r\n"  # clock unset
        assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
        assert await m.cmd(line) == ST200 + OK
        assert b"AT-S.File:E\t8\tsecure.txt\r\n" in await listing(m)
        peer.files["r.img"] = image.pack({"redirected.txt": b"r"})
        to = f"https://localhost:{peer.tls_port}/files/r.img"
        out = await m.cmd(f"AT+S.FSUPDATE=e,localhost,/redirect?to={to},{peer.port}")
        assert out == ST200 + OK
        assert b"redirected.txt" in await listing(m)
    finally:
        await peer.stop()
