"""AT+S.TFTPGET / AT+S.TFTPPUT against real TFTP servers on loopback (tftpy's, ours)."""

from __future__ import annotations

import asyncio
import os

import pytest
from tftp_peers import GIVE_UP, fast, files, fsc, fsp, silent_port, tftpy_server

from atwifi.services.errors import ServiceError
from atwifi.services.tftp import TftpFault, TftpServer

OK = b"AT-S.OK\r\n"


@pytest.fixture
async def m(quiet_module):
    fast(quiet_module)
    return quiet_module


@pytest.mark.parametrize("size", [0, 5, 511, 512, 1024, 1500, 12000])
async def test_get_default_local_name(m, tmp_path, size):
    root = tmp_path / "root"
    root.mkdir()
    content = os.urandom(size)
    (root / "hello.bin").write_bytes(content)
    with tftpy_server(root) as port:
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},hello.bin") == OK
    assert await fsp(m, "2:/hello.bin") == content


async def test_get_named_local_file_and_path(m, tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "cfg.txt").write_bytes(b"line1\nline2\n")
    with tftpy_server(root) as port:
        # The middleware's form: empty local name -> 2:/<last part of the remote path>.
        assert await m.cmd(f"AT+S.TFTPGET=localhost,{port},sub/cfg.txt,") == OK
        assert await m.cmd(f"AT+S.TFTPGET=localhost,{port},sub/cfg.txt,1:/copy.txt") == OK
    assert await fsp(m, "2:/cfg.txt") == b"line1\nline2\n"
    assert await fsp(m, "1:/copy.txt") == b"line1\nline2\n"


async def test_get_replaces_existing_file(m, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "f").write_bytes(b"new")
    await fsc(m, "2:/f", b"old old old")
    with tftpy_server(root) as port:
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},f") == OK
    assert await fsp(m, "2:/f") == b"new"


async def test_get_not_found_and_access_violation(m, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret").write_bytes(b"x")
    with tftpy_server(root) as port:
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},nosuch") == (
            b"AT-S.ERROR:51:Unable to open file\r\n"
        )
        # tftpy answers a path outside its root with ERROR 4 (illegal operation).
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},../secret") == (
            b"AT-S.ERROR:111:Request failed\r\n"
        )
    srv = TftpServer(_FullStore(), _Quiet(), timing=m.device.tftp.timing)
    await srv.start("127.0.0.1", 0)
    try:
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{srv.port},locked") == (
            b"AT-S.ERROR:50:Unable to access filesystem\r\n"
        )
    finally:
        await srv.stop()
    assert b"nosuch" not in await files(m) and b"secret" not in await files(m)
    assert await m.cmd("AT") == OK


async def test_get_larger_than_the_volume_leaves_nothing(m, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "big").write_bytes(os.urandom(70000))  # user flash: 64 KiB
    await fsc(m, "1:/big", b"previous")
    with tftpy_server(root) as port:
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},big,1:/big") == (
            b"AT-S.ERROR:51:Unable to open file\r\n"
        )
    assert await fsp(m, "1:/big") == b"previous"
    assert await m.cmd("AT") == OK


async def test_get_into_read_only_volume_sends_nothing(m):
    s, port = silent_port()
    with s:
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},x,3:/x") == (
            b"AT-S.ERROR:51:Unable to open file\r\n"
        )
        s.setblocking(False)
        with pytest.raises(BlockingIOError):
            s.recv(100)


async def test_no_server_times_out(m):
    m.device.tftp.timing = GIVE_UP
    s, port = silent_port()
    with s:
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},x") == (
            b"AT-S.ERROR:111:Request failed\r\n"
        )
        assert await m.cmd(f"AT+S.TFTPPUT=127.0.0.1,{port},3:/index.html") == (
            b"AT-S.ERROR:111:Request failed\r\n"
        )
        # RRQ, then one resend per retry (GIVE_UP: 3).
        s.setblocking(False)
        got = []
        while True:
            try:
                got.append(s.recv(600))
            except BlockingIOError:
                break
        assert got.count(b"\x00\x01x\x00octet\x00") == 4
    assert await m.cmd("AT") == OK


async def test_names_and_policy(m):
    assert await m.cmd("AT+S.TFTPGET=nosuch.invalid,69,x") == (
        b"AT-S.ERROR:65:DNS address failure\r\n"
    )
    assert await m.cmd("AT+S.TFTPGET=192.0.2.1,69,x") == b"AT-S.ERROR:74:Failed to open socket\r\n"
    assert await m.cmd("AT+S.TFTPPUT=192.0.2.1,69,3:/index.html") == (
        b"AT-S.ERROR:74:Failed to open socket\r\n"
    )
    assert await m.cmd("AT+S.TFTPGET=127.0.0.1,69") == b"AT-S.ERROR:2:Missing argument(s)\r\n"
    assert await m.cmd("AT") == OK


async def test_put(m, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    content = os.urandom(3000)
    await fsc(m, "2:/up.bin", content)
    with tftpy_server(root) as port:
        assert await m.cmd(f"AT+S.TFTPPUT=127.0.0.1,{port},2:/up.bin") == OK
        assert await m.cmd(f"AT+S.TFTPPUT=127.0.0.1,{port},index.html") == OK  # app flash
    assert (root / "up.bin").read_bytes() == content
    assert (root / "index.html").read_bytes() == await fsp(m, "3:/index.html")


async def test_put_failures(m, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    await fsc(m, "2:/deny.bin", b"no")
    with tftpy_server(root, deny=("deny.bin",)) as port:
        assert await m.cmd(f"AT+S.TFTPPUT=127.0.0.1,{port},2:/nosuch") == (
            b"AT-S.ERROR:51:Unable to open file\r\n"
        )
        assert await m.cmd(f"AT+S.TFTPPUT=127.0.0.1,{port},2:/deny.bin") == (
            b"AT-S.ERROR:50:Unable to access filesystem\r\n"
        )
    assert await m.cmd("AT") == OK


class _FullStore:
    async def read(self, name: str) -> bytes:
        raise ServiceError(TftpFault.ACCESS if name == "locked" else TftpFault.NOT_FOUND, name)

    async def room(self, name: str, size: int) -> None:
        if size > 1000:
            raise ServiceError(TftpFault.DISK_FULL, name)

    async def write(self, name: str, data: bytes) -> None:
        await self.room(name, len(data))


class _Quiet:
    def received(self, ip: str, name: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass


async def test_put_server_disk_full(m):
    await fsc(m, "2:/big", os.urandom(5000))
    srv = TftpServer(_FullStore(), _Quiet(), timing=m.device.tftp.timing)
    await srv.start("127.0.0.1", 0)
    try:
        assert await m.cmd(f"AT+S.TFTPPUT=127.0.0.1,{srv.port},2:/big") == (
            b"AT-S.ERROR:79:Write failed\r\n"
        )
    finally:
        await srv.stop()
    assert await m.cmd("AT") == OK


async def test_lost_and_repeated_packets(m):
    """A server that ignores the first request, sends block 1 twice and never sees our first
    ACK of block 2: the module resends and keeps exactly one copy of each block."""
    loop = asyncio.get_running_loop()
    blocks = [b"a" * 512, b"b" * 100]
    seen: list[bytes] = []

    class Peer(asyncio.DatagramProtocol):
        def connection_made(self, transport):  # noqa: ANN001
            self.t = transport

        def datagram_received(self, data, addr):  # noqa: ANN001
            seen.append(data)
            if data.startswith(b"\x00\x01"):
                if sum(x.startswith(b"\x00\x01") for x in seen) == 1:
                    return  # the first RRQ is "lost"
                self.t.sendto(b"\x00\x03\x00\x01" + blocks[0], addr)
                self.t.sendto(b"\x00\x03\x00\x01" + blocks[0], addr)  # a duplicate
            elif data == b"\x00\x04\x00\x01":
                if seen.count(data) == 1:
                    self.t.sendto(b"\x00\x03\x00\x02" + blocks[1], addr)
            elif data == b"\x00\x04\x00\x02" and seen.count(data) == 1:
                pass  # "lost": the module must not care, the transfer is complete

    transport, _ = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},f") == OK
    finally:
        transport.close()
    assert await fsp(m, "2:/f") == blocks[0] + blocks[1]


async def test_bad_packets_from_the_server(m):
    loop = asyncio.get_running_loop()

    class Liar(asyncio.DatagramProtocol):
        def connection_made(self, transport):  # noqa: ANN001
            self.t = transport

        def datagram_received(self, data, addr):  # noqa: ANN001
            if data.startswith(b"\x00\x01"):
                self.t.sendto(b"\x00\x03\x00\x01" + b"x" * 600, addr)  # DATA too long

    transport, _ = await loop.create_datagram_endpoint(Liar, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        assert await m.cmd(f"AT+S.TFTPGET=127.0.0.1,{port},f") == (
            b"AT-S.ERROR:111:Request failed\r\n"
        )
    finally:
        transport.close()
    assert b"\tf\r\n" not in await files(m)
    assert await m.cmd("AT") == OK


async def test_no_link(m):
    assert await m.cmd("AT+S.WIFI=0") == OK
    await m.settle()
    m.take()
    assert await m.cmd("AT+S.TFTPGET=127.0.0.1,69,x") == b"AT-S.ERROR:60:IP not ready to send\r\n"
    assert await m.cmd("AT+S.SMTP=127.0.0.1,25,,,,,a@b.test,c@d.test,,,s,,1", b"x") == (
        b"AT-S.ERROR:60:IP not ready to send\r\n"
    )
    assert await m.cmd("AT") == OK


async def test_ipv6_server(m):
    import socket as _socket

    try:
        with _socket.socket(_socket.AF_INET6, _socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")

    class _Store(_FullStore):
        async def read(self, name: str) -> bytes:
            return b"over six"

    srv = TftpServer(_Store(), _Quiet(), timing=m.device.tftp.timing)
    await srv.start("::1", 0)
    try:
        assert await m.cmd(f"AT+S.TFTPGET=[::1],{srv.port},v6.txt") == OK
        assert await m.cmd(f"AT+S.TFTPGET=::1,{srv.port},v6b.txt") == OK
    finally:
        await srv.stop()
    assert await fsp(m, "2:/v6.txt") == b"over six"
