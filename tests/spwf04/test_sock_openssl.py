"""The module against OpenSSL's own tools: `openssl s_server` as the peer of a TLS client
socket, `openssl s_client` as the client of an s2 server."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time

import pytest
import trustme
from sock_wire import sockr, wind55

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl binary")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def read_until(stream: asyncio.StreamReader, marker: bytes) -> bytes:
    out = b""
    async with asyncio.timeout(15):
        while marker not in out:
            chunk = await stream.read(4096)
            if not chunk:
                raise EOFError(out)
            out += chunk
    return out


async def test_client_against_openssl_s_server(quiet_module, tmp_path):
    m = quiet_module
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost")
    leaf.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        "openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert",
        str(tmp_path / "server.pem"), "-naccept", "1", "-ign_eof",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None
        await read_until(proc.stdout, b"ACCEPT")
        data = ca.cert_pem.bytes()
        assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(data)}", data) == b"AT-S.OK\r\n"
        # Unset clock first: the module refuses the server (21), then TIME fixes it.
        assert await m.cmd(f"AT+S.SOCKON=localhost,{port},,s") == (b"AT-S.Certificate Error:21\r\n")
        await m.cmd(f"AT+S.TIME={int(time.time())}")
        # s_server took its one connection already (-naccept 1): start a second one.
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    proc = await asyncio.create_subprocess_exec(
        "openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert",
        str(tmp_path / "server.pem"), "-naccept", "1", "-ign_eof",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None
        await read_until(proc.stdout, b"ACCEPT")
        reply = await m.cmd(f"AT+S.SOCKON=localhost,{port},,s")
        assert reply == b"AT-S.On:127.0.0.1:0\r\nAT-S.OK\r\n"
        assert await m.cmd("AT+S.SOCKW=0,13", b"from module\r\n") == b"AT-S.OK\r\n"
        await read_until(proc.stdout, b"from module")
        proc.stdin.write(b"from openssl\n")
        await proc.stdin.drain()
        await wind55(m)
        data, _, _ = await sockr(m, "AT+S.SOCKR=0")
        assert data == b"from openssl\n"
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_s2_server_against_openssl_s_client(quiet_module, tmp_path):
    m = quiet_module
    await m.cmd(f"AT+S.TIME={int(time.time())}")
    ca = trustme.CA()
    me = ca.issue_cert("localhost")
    for kind, data in (
        ("Ca", ca.cert_pem.bytes()),
        ("Cert", me.cert_chain_pems[0].bytes()),
        ("Key", me.private_key_pem.bytes()),
    ):
        assert await m.cmd(f"AT+S.TLSCERT={kind},{len(data)}", data) == b"AT-S.OK\r\n"
    port = free_port()
    assert await m.cmd(f"AT+S.SOCKDON={port},s2") == b"AT-S.On:0\r\nAT-S.OK\r\n"
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client = ca.issue_cert("client.test")
    client.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.pem"))
    proc = await asyncio.create_subprocess_exec(
        "openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile",
        str(tmp_path / "ca.pem"), "-verify_return_error", "-verify_hostname", "localhost",
        "-cert", str(tmp_path / "client.pem"), "-quiet", "-ign_eof",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None
        await m.read_until(b"+WIND:61:Incoming Socket Client:127.0.0.1:")
        proc.stdin.write(b"hello module\n")
        await proc.stdin.drain()
        await wind55(m)
        data, _, _ = await sockr(m, "AT+S.SOCKDR=0,0")
        assert data == b"hello module\n"
        assert await m.cmd("AT+S.SOCKDW=0,0,10", b"hi openssl") == b"AT-S.OK\r\n"
        await read_until(proc.stdout, b"hi openssl")
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
