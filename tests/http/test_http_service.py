"""The dialect-free pieces on their own: HttpClient with a plain Network, and the firmware
image format."""

from __future__ import annotations

import pytest
from http_peers import WebPeer

from atwifi.services import firmware
from atwifi.services.errors import ServiceError
from atwifi.services.http import HttpClient, HttpFault, HttpRequest
from atwifi.services.mime import content_type


class LoopbackNet:
    tls = None

    async def resolve(self, host: str) -> str:
        if host in ("localhost", "127.0.0.1"):
            return "127.0.0.1"
        raise LookupError(host)

    def check(self, ip: str, port: int) -> None:
        if not ip.startswith("127."):
            raise PermissionError(ip)


class Collect:
    def __init__(self) -> None:
        self.status = 0
        self.body = bytearray()
        self.pieces = 0

    async def head(self, status, reason, headers) -> None:
        self.status = status

    async def data(self, chunk: bytes) -> None:
        self.body += chunk
        self.pieces += 1


@pytest.fixture
async def peer():
    p = WebPeer()
    await p.start()
    yield p
    await p.stop()


async def test_fetch_streams_in_pieces(peer):
    client = HttpClient(LoopbackNet())
    sink = Collect()
    n = 2_000_000
    result = await client.fetch(HttpRequest("127.0.0.1", f"/large?n={n}", port=peer.port), sink)
    assert result.status == sink.status == 200 and result.body_bytes == len(sink.body) == n
    assert sink.pieces > 1  # streamed, not gathered


async def test_redirects_followed_only_when_asked(peer):
    client = HttpClient(LoopbackNet())
    sink = Collect()
    req = HttpRequest("127.0.0.1", "/redirect?to=/chunked", port=peer.port, max_redirects=2)
    result = await client.fetch(req, sink)
    assert result.redirects == 1 and sink.body.startswith(b"chunk 0;")
    loop = HttpRequest("127.0.0.1", "/loop", port=peer.port, max_redirects=3)
    sink = Collect()
    result = await client.fetch(loop, sink)
    assert result.status == 301 and result.redirects == 3 and sink.body == b"again"


async def test_kinds_not_numbers(peer):
    client = HttpClient(LoopbackNet())
    cases = [
        (HttpRequest("nowhere.test"), HttpFault.RESOLVE),
        (HttpRequest("localhost", tls=2, port=peer.port), HttpFault.TLS),  # no TLS service
        (HttpRequest("127.0.0.1", "/a b", port=peer.port), HttpFault.GENERATE),
    ]
    for req, kind in cases:
        with pytest.raises(ServiceError) as e:
            await client.fetch(req, Collect())
        assert e.value.kind is kind


def test_content_types():
    assert content_type("0:/a.JSON") == "application/json"
    assert content_type("x.form") == "application/x-www-form-urlencoded"
    assert content_type("archive.tar.gz") == "application/x-raw-stuff"
    assert content_type("README") == "application/x-raw-stuff"


def test_firmware_images(tmp_path):
    path = tmp_path / "fw"
    key = b"k" * 16
    good = firmware.pack("1.2.3", "200101-0000000-SPWF04S", b"payload")
    path.write_bytes(good)
    info = firmware.check_file(path, secure=False, key=None)
    assert (info.version, info.build, info.size, info.secure) == (
        "1.2.3",
        "200101-0000000-SPWF04S",
        7,
        False,
    )
    bad = {
        "short": good[:10],
        "truncated": good[:-1],
        "trailing": good + b"x",
        "magic": b"XXXX" + good[4:],
        "crc": good[:-1] + bytes([good[-1] ^ 1]),
    }
    for name, blob in bad.items():
        path.write_bytes(blob)
        with pytest.raises(firmware.FirmwareError) as e:
            firmware.check_file(path, secure=False, key=None)
        assert e.value.reason == "format", name
    secure = firmware.pack("1.2.3", "b", b"p", key=key)
    path.write_bytes(secure)
    assert firmware.check_file(path, secure=True, key=key).secure
    for blob, k in ((secure, b"z" * 16), (good, key)):
        path.write_bytes(blob)
        with pytest.raises(firmware.FirmwareError) as e:
            firmware.check_file(path, secure=True, key=k)
        assert e.value.reason == "secure"
