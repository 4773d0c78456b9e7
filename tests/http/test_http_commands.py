"""HTTPGET and HTTPPOST through the console, against real HTTP(S) servers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time

import pytest
import trustme
from http_peers import WebPeer, cut_after, pattern, raw_server, reset_after

OK = b"AT-S.OK\r\n"


def status(code: int) -> bytes:
    return b"AT-S.Http Server Status Code:%d\r\n" % code


def http_error(n: int) -> bytes:
    return b"AT-S.Http Client Error:%d\r\n" % n


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def peer(ca):
    p = WebPeer(ca)
    await p.start()
    yield p
    await p.stop()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def alive(m) -> None:
    assert await m.cmd("AT") == OK


async def test_get_prints_status_then_body_then_ok(quiet_module, peer):
    m = quiet_module
    body = b"<html>hello from the index</html>"
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/index.html,{peer.port}") == status(200) + body + OK
    # The path defaults to /index.html; empty fields are defaults, as the middleware sends them.
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,,{peer.port},0,,,,") == status(200) + body + OK
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,index.html,{peer.port}") == status(200) + body + OK
    req = peer.requests[-1]
    assert req["method"] == "GET" and req["path"] == "/index.html"
    assert req["headers"]["Host"] == f"127.0.0.1:{peer.port}"
    assert req["headers"]["User-Agent"] == "SPWF04SA"
    assert "Authorization" not in req["headers"]
    await alive(m)


async def test_get_with_echo_on_as_the_middleware_reads_it(module, peer):
    m = module  # echo on (factory): every byte after the echo up to AT-S.OK is the response
    line = f"AT+S.HTTPGET=localhost,/echo?x=1&y=two,{peer.port},0,,,,"
    out = await m.cmd(line)
    assert out.startswith(status(200)) and out.endswith(OK)
    reply = json.loads(out[len(status(200)) : -len(OK)])
    assert reply["path"] == "/echo?x=1&y=two" and reply["method"] == "GET"
    assert reply["host"] == f"localhost:{peer.port}"


async def test_basic_auth(quiet_module, peer):
    m = quiet_module
    ok = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/auth,{peer.port},0,user,secret")
    assert ok == status(200) + b"welcome, user" + OK
    # HTTP errors are replies like any other: the status says it, AT-S.OK ends it.
    no = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/auth,{peer.port},0,user,wrong")
    assert no == status(401) + b"who are you?" + OK
    assert (
        await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/auth,{peer.port}")
        == status(401) + b"who are you?" + OK
    )


async def test_chunked_body_is_dechunked(quiet_module, peer):
    out = await quiet_module.cmd(f"AT+S.HTTPGET=127.0.0.1,/chunked,{peer.port}")
    assert out == status(200) + b"".join(b"chunk %d;" % i for i in range(5)) + OK


async def test_large_body_streams_exactly(quiet_module, peer):
    n = 3 * 1024 * 1024 + 17
    out = await quiet_module.cmd(f"AT+S.HTTPGET=127.0.0.1,/large?n={n},{peer.port}")
    assert out[: len(status(200))] == status(200)
    assert out[len(status(200)) : -len(OK)] == pattern(n)
    await alive(quiet_module)


async def test_redirect_and_errors_are_printed_not_followed(quiet_module, peer):
    m = quiet_module
    assert (
        await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/redirect,{peer.port}") == status(302) + b"moved" + OK
    )
    for code in (404, 500):
        out = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/status/{code},{peer.port}")
        assert out == status(code) + b"status body %d" % code + OK


async def test_reply_saved_in_a_file(quiet_module, peer):
    m = quiet_module
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,,{peer.port},,,,,2:/page.html") == status(200) + OK
    page = b"<html>hello from the index</html>"
    assert (
        await m.cmd("AT+S.FSP=2:/page.html")
        == b"AT-S.Reading:%d:%d\r\n"
        % (
            len(page),
            len(page),
        )
        + page
        + OK
    )
    # Bigger than the RAM disk: the download stops, nothing is written, the old file stays.
    out = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/large?n=200000,{peer.port},,,,,2:/page.html")
    assert out == status(200) + http_error(15)
    assert (await m.cmd("AT+S.FSP=2:/page.html")).endswith(page + OK)
    # The application flash is read-only: the file cannot be opened for writing.
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,,{peer.port},,,,,3:/x.html") == http_error(12)
    # User flash keeps it across a reset.
    assert (
        await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/chunked,{peer.port},,,,,1:/c.txt") == status(200) + OK
    )
    assert (await m.cmd("AT+S.FSP=1:/c.txt")).endswith(b"chunk 4;" + OK)
    await alive(m)


async def test_custom_request_file_sent_as_it_is(quiet_module, peer):
    m = quiet_module
    raw = f"POST /echo?custom=1 HTTP/1.1\r\nHost: 127.0.0.1:{peer.port}\r\nContent-Length: 5\r\nContent-Type: text/x-mine\r\nConnection: close\r\n\r\nhello".encode()
    assert await m.cmd(f"AT+S.FSC=2:/req.txt,{len(raw)}", raw) == OK
    out = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,,{peer.port},,,,2:/req.txt")
    reply = json.loads(out[len(status(200)) : -len(OK)])
    assert reply == {
        "body": "hello",
        "content_type": "text/x-mine",
        "host": f"127.0.0.1:{peer.port}",
        "length": 5,
        "method": "POST",
        "path": "/echo?custom=1",
    }
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,,{peer.port},,,,2:/missing.txt") == http_error(12)
    # HEAD: the reply has no body, whatever its Content-Length says.
    head = b"HEAD /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert await m.cmd(f"AT+S.FSC=2:/head.txt,{len(head)}", head) == OK
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,,{peer.port},,,,2:/head.txt") == status(200) + OK
    await alive(m)


async def test_post_a_file_with_its_content_type(quiet_module, peer):
    m = quiet_module
    cases = {
        "2:/data.json": "application/json",
        "2:/page.fhtml": "text/html",
        "2:/logo.PNG": "image/png",
        "2:/f.form": "application/x-www-form-urlencoded",
        "2:/blob.bin": "application/x-raw-stuff",
        "2:/noext": "application/x-raw-stuff",
    }
    for name, ctype in cases.items():
        payload = b'{"a": 1}\r\n\x00\xff'
        assert await m.cmd(f"AT+S.FSC={name},{len(payload)}", payload) == OK
        out = await m.cmd(f"AT+S.HTTPPOST=127.0.0.1,/echo,{peer.port},,,,,{name}")
        reply = json.loads(out[len(status(200)) : -len(OK)])
        assert reply["method"] == "POST" and reply["content_type"] == ctype, name
        assert reply["body"].encode("latin-1") == payload
        assert await m.cmd(f"AT+S.FSD={name}") == OK
    # No file: an empty POST. The reply can go to a file (in_filename, as 6.54 prints it).
    out = await m.cmd(f"AT+S.HTTPPOST=127.0.0.1,/echo,{peer.port},0,user,secret,2:/answer.json")
    assert out == status(200) + OK
    fsp = await m.cmd("AT+S.FSP=2:/answer.json")
    reply = json.loads(fsp[fsp.index(b"\r\n") + 2 : -len(OK)])
    assert reply["length"] == 0 and reply["content_type"] is None
    assert peer.requests[-1]["headers"]["Authorization"] == "Basic dXNlcjpzZWNyZXQ="
    # A file to post that does not exist.
    assert await m.cmd(f"AT+S.HTTPPOST=127.0.0.1,/echo,{peer.port},,,,,2:/nope.txt") == http_error(
        12
    )
    await alive(m)


async def test_network_failures(quiet_module, peer):
    m = quiet_module
    # No DNS leaves the machine under the loopback policy: an unknown name does not resolve.
    assert await m.cmd("AT+S.HTTPGET=no-such-host.invalid") == http_error(0)
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,,{closed_port()}") == http_error(3)
    # The network policy keeps the module on loopback: nothing is sent to 10.0.0.1.
    assert await m.cmd("AT+S.HTTPGET=10.0.0.1") == http_error(2)
    # A path HTTP cannot carry.
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/a b,{peer.port}") == http_error(8)
    await alive(m)


async def test_timeouts(quiet_module, peer):
    m = quiet_module
    m.device.http.response_timeout = 0.3
    m.device.http.idle_timeout = 0.3
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/stall,{peer.port}") == http_error(10)
    out = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,/slow,{peer.port}")
    assert out == status(200) + b"first part;" + http_error(4)
    await alive(m)


async def test_cut_reset_and_garbage_replies(quiet_module):
    m = quiet_module
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    cases = [
        (cut_after(head, b"x" * 10), status(200) + b"x" * 10 + http_error(9)),
        (reset_after(head + b"y" * 10), None),
        (cut_after(b"SSH-2.0-OpenSSH\r\n\r\n", b""), http_error(9)),
        (cut_after(b"", b""), http_error(9)),
        # HTTP/1.0 without a length: the body runs until the server closes.
        (cut_after(b"HTTP/1.0 200 OK\r\n\r\n", b"to the end"), status(200) + b"to the end" + OK),
        # A head that never ends: h11 gives up at 16 KiB, memory stays bounded.
        (cut_after(b"HTTP/1.1 200 OK\r\n" + b"X-Flood: " + b"a" * 200_000, b""), http_error(9)),
    ]
    for handle, expect in cases:
        srv, port = await raw_server(handle)
        async with srv:
            out = await m.cmd(f"AT+S.HTTPGET=127.0.0.1,,{port}")
        if expect is None:
            assert out.endswith(http_error(9)), out
        else:
            assert out == expect
        await alive(m)


async def test_tls_checked_against_the_module_clock(quiet_module, peer, ca):
    m = quiet_module
    pem = ca.cert_pem.bytes()
    assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(pem)}", pem) == OK
    line = f"AT+S.HTTPGET=localhost,/index.html,{peer.tls_port},2"
    # 1970: every certificate is outside its validity window.
    assert await m.cmd(line) == b"AT-S.Certificate Error:21\r\n"
    assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
    body = b"<html>hello from the index</html>"
    assert await m.cmd(line) == status(200) + body + OK
    # Autodetect: TLS where the server speaks it, plain HTTP where it does not.
    assert await m.cmd(f"AT+S.HTTPGET=localhost,,{peer.tls_port},1") == status(200) + body + OK
    assert await m.cmd(f"AT+S.HTTPGET=localhost,,{peer.port},1") == status(200) + body + OK
    # TLS required of a plain server: a TLS connect error.
    assert await m.cmd(f"AT+S.HTTPGET=localhost,,{peer.port},2") == http_error(7)
    # The name checked is the host name given.
    assert await m.cmd(f"AT+S.HTTPGET=127.0.0.1,,{peer.tls_port},2") == status(200) + body + OK
    await alive(m)


async def test_tls_unknown_ca_never_falls_back(quiet_module, peer):
    m = quiet_module
    other = trustme.CA().cert_pem.bytes()
    assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(other)}", other) == OK
    assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
    for mode in (1, 2):
        out = await m.cmd(f"AT+S.HTTPGET=localhost,,{peer.tls_port},{mode}")
        assert out == b"AT-S.Certificate Error:23\r\n"
    await alive(m)


async def test_bad_arguments(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.HTTPGET") == b"AT-S.ERROR:2:Missing argument(s)\r\n"
    assert await m.cmd("AT+S.HTTPGET=127.0.0.1,,80,3") == b"AT-S.ERROR:8:Invalid value\r\n"
    assert await m.cmd("AT+S.HTTPGET=127.0.0.1,,70000") == b"AT-S.ERROR:8:Invalid value\r\n"
    assert await m.cmd("AT+S.HTTPGET=127.0.0.1,,80,0,,,,,,") == (
        b"AT-S.ERROR:6:Too many argument(s)\r\n"
    )
    await alive(m)


async def test_post_a_large_file_in_pieces(quiet_module, peer, ca):
    m = quiet_module
    payload = pattern(300_000)
    assert await m.cmd(f"AT+S.FSC=0:/big.bin,{len(payload)}", payload) == OK
    pem = ca.cert_pem.bytes()
    assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(pem)}", pem) == OK
    assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
    out = await m.cmd(f"AT+S.HTTPPOST=localhost,/echo,{peer.tls_port},2,,,,0:/big.bin")
    reply = json.loads(out[len(status(200)) : -len(OK)])
    assert reply["length"] == len(payload) and reply["content_type"] == "application/x-raw-stuff"
    assert reply["body"].encode("latin-1") == payload
