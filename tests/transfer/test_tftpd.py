"""The module's TFTP server (ip_use_tftpd=1): Debian's tftp-hpa client and tftpy's client
(independent implementations) and atwifi's own client, all on loopback."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from pathlib import Path

import pytest
import tftpy
from tftp_peers import fast, files, fsc, fsp

from atwifi.services import tftp as tftp_client
from atwifi.services.errors import ServiceError
from atwifi.services.tftp import TftpFault

OK = b"AT-S.OK\r\n"
TFTP = shutil.which("tftp")
needs_tftp_hpa = pytest.mark.skipif(TFTP is None, reason="Debian's tftp-hpa is not installed")


@pytest.fixture
async def m(quiet_module):
    fast(quiet_module)
    return quiet_module


def port_of(m) -> int:  # noqa: ANN001
    server = m.device.tftp.server
    assert server is not None
    assert m.device.endpoints["tftp"] == f"udp 127.0.0.1:{server.port}"
    return server.port


async def hpa(port: int, *command: str, mode: str = "binary", cwd: Path) -> str:
    proc = await asyncio.create_subprocess_exec(
        TFTP or "tftp",
        "-m",
        mode,
        "127.0.0.1",
        str(port),
        "-c",
        *command,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return out.decode(errors="replace")


async def wind90(m) -> bytes:  # noqa: ANN001
    return await m.read_until(re.compile(rb"\+WIND:90:[^\r]*\r\n"))


@needs_tftp_hpa
async def test_tftp_hpa_put_and_get(m, tmp_path):
    port = port_of(m)
    content = os.urandom(3333)
    (tmp_path / "up.bin").write_bytes(content)
    out = await hpa(port, "put", "up.bin", "up.bin", cwd=tmp_path)
    assert "rror" not in out, out
    assert await wind90(m) == b"+WIND:90:File Received:127.0.0.1:up.bin\r\n"
    assert await fsp(m, "2:/up.bin") == content  # a bare name lands on the RAM disk
    out = await hpa(port, "get", "up.bin", "back.bin", cwd=tmp_path)
    assert "rror" not in out, out
    assert (tmp_path / "back.bin").read_bytes() == content
    out = await hpa(port, "get", "index.html", "index.html", cwd=tmp_path)
    assert (tmp_path / "index.html").read_bytes() == await fsp(m, "3:/index.html")


@needs_tftp_hpa
async def test_tftp_hpa_netascii(m, tmp_path):
    port = port_of(m)
    (tmp_path / "t.txt").write_bytes(b"one\ntwo\n")
    out = await hpa(port, "put", "t.txt", "t.txt", mode="ascii", cwd=tmp_path)
    assert "rror" not in out, out
    await wind90(m)
    assert await fsp(m, "2:/t.txt") == b"one\ntwo\n"
    out = await hpa(port, "get", "t.txt", "u.txt", mode="ascii", cwd=tmp_path)
    assert (tmp_path / "u.txt").read_bytes() == b"one\ntwo\n"


@needs_tftp_hpa
async def test_tftp_hpa_errors(m, tmp_path):
    port = port_of(m)
    out = await hpa(port, "get", "nosuch", "x", cwd=tmp_path)
    assert "Error code 1" in out, out
    (tmp_path / "big").write_bytes(os.urandom(20000))  # the RAM disk holds 16 KiB
    out = await hpa(port, "put", "big", "big", cwd=tmp_path)
    assert "Error code 3" in out, out
    assert b"big" not in await files(m)
    assert await m.cmd("AT") == OK


async def test_tftpy_client_into_volumes(m, tmp_path):
    port = port_of(m)
    content = os.urandom(1024)
    (tmp_path / "f.bin").write_bytes(content)

    def upload(name: str) -> None:
        tftpy.TftpClient("127.0.0.1", port).upload(name, str(tmp_path / "f.bin"), timeout=2)

    await asyncio.to_thread(upload, "1:/f.bin")
    assert await wind90(m) == b"+WIND:90:File Received:127.0.0.1:1:/f.bin\r\n"
    assert await fsp(m, "1:/f.bin") == content
    await fsc(m, "2:/made.txt", b"made by FSC")

    def download(name: str, to: Path) -> None:
        tftpy.TftpClient("127.0.0.1", port).download(name, str(to), timeout=2)

    await asyncio.to_thread(download, "2:/made.txt", tmp_path / "made.txt")
    assert (tmp_path / "made.txt").read_bytes() == b"made by FSC"


async def test_own_client_errors(m):
    port = port_of(m)
    t = m.device.tftp.timing
    with pytest.raises(ServiceError) as e:
        await tftp_client.put("127.0.0.1", port, "3:/index.html", b"x", timing=t)
    assert e.value.kind is TftpFault.ACCESS  # the application flash is read-only
    with pytest.raises(ServiceError) as e:
        await tftp_client.put("127.0.0.1", port, "1:/big", os.urandom(70000), timing=t)
    assert e.value.kind is TftpFault.DISK_FULL  # the user flash holds 64 KiB
    with pytest.raises(ServiceError) as e:
        await tftp_client.get("127.0.0.1", port, "nosuch", timing=t)
    assert e.value.kind is TftpFault.NOT_FOUND
    with pytest.raises(ServiceError) as e:
        await tftp_client.put("127.0.0.1", port, "a/b", b"x", timing=t)
    assert e.value.kind is TftpFault.ACCESS  # not a module name
    assert b"big" not in await files(m)
    # Module to module: its own client against its own server.
    await fsc(m, "2:/src.bin", b"loop" * 300)
    assert await m.cmd(f"AT+S.TFTPPUT=127.0.0.1,{port},2:/src.bin") == OK
    assert await wind90(m) == b"+WIND:90:File Received:127.0.0.1:src.bin\r\n"
    assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},src.bin,1:/copy.bin") == OK
    assert await fsp(m, "1:/copy.bin") == b"loop" * 300
    assert await m.cmd("AT") == OK


async def test_protected_application_flash_is_not_served(m):
    port = port_of(m)
    # FSUPDATE is not there yet: lock the application flash the way its image would.
    await m.device.fs.replace_volume(3, {"__LOCKED__": b"", "secret.html": b"s"})
    with pytest.raises(ServiceError) as e:
        await tftp_client.get("127.0.0.1", port, "secret.html", timing=m.device.tftp.timing)
    assert e.value.kind is TftpFault.ACCESS


async def test_garbage_and_floods_on_port_69(m):
    port = port_of(m)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    try:
        for junk in (b"", b"\x00", b"\x00\x09abc", b"\x00\x03\x00\x01data", os.urandom(700)):
            transport.sendto(junk, ("127.0.0.1", port))
        for i in range(200):
            transport.sendto(b"\x00\x01nosuch%d\x00octet\x00" % i, ("127.0.0.1", port))
    finally:
        transport.close()
    assert await m.cmd("AT") == OK
    got = await tftp_client.get("127.0.0.1", port, "index.html", timing=m.device.tftp.timing)
    assert got == await fsp(m, "3:/index.html")


async def test_same_port_after_reset(m):
    port = port_of(m)
    m.send(b"AT+S.RESET\r")
    await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    await m.settle()
    assert port_of(m) == port
    fast(m)
    got = await tftp_client.get("127.0.0.1", port, "index.html", timing=m.device.tftp.timing)
    assert got == await fsp(m, "3:/index.html")


async def test_off_when_ip_use_tftpd_is_0(m):
    assert await m.cmd("AT+S.SCFG=ip_use_tftpd,0") == OK
    assert await m.cmd("AT+S.WCFG") == OK
    m.send(b"AT+S.RESET\r")
    await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    await m.settle()
    assert m.device.tftp.server is None
    assert "tftp" not in m.device.endpoints


def _touch(path: Path) -> Path:
    path.touch()
    return path


async def test_files_too_big_for_tftp_are_never_read(tmp_path):
    from harness import InProcessModule

    ext = tmp_path / "ext"
    ext.mkdir()
    os.truncate(_touch(ext / "huge.bin"), 40 * 1024 * 1024)  # sparse: costs no disk
    m = InProcessModule(tmp_path / "state", ext_folder=ext)
    await m.boot()
    try:
        fast(m)
        assert await m.cmd("AT+S.SCFG=console_echo,0", echo=True) == OK
        port = port_of(m)
        with pytest.raises(ServiceError) as e:
            await tftp_client.get("127.0.0.1", port, "0:/huge.bin", timing=m.device.tftp.timing)
        assert e.value.kind is TftpFault.REMOTE
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        with s:
            out = await m.cmd(f"AT+S.TFTPPUT=127.0.0.1,{s.getsockname()[1]},0:/huge.bin")
            assert out == b"AT-S.ERROR:111:Request failed\r\n"
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(100)  # nothing was sent
        assert await m.cmd("AT") == OK
    finally:
        await m.device.shutdown()
