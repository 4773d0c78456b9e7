"""The TFTP service on its own (no device): codec round trips, the server's bounds."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tftp_peers import FAST, GIVE_UP

from atwifi.services import tftp
from atwifi.services.errors import ServiceError
from atwifi.services.tftp import TftpFault, TftpServer
from atwifi.services.tftp import packet as P


class Store:
    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        self.files = dict(files or {})
        self.gate: asyncio.Event | None = None
        self.waiting = 0
        self.four_waiting = asyncio.Event()

    async def read(self, name: str) -> bytes:
        if self.gate is not None:
            self.waiting += 1
            if self.waiting >= 4:
                self.four_waiting.set()
            await self.gate.wait()
        if name not in self.files:
            raise ServiceError(TftpFault.NOT_FOUND, name)
        return self.files[name]

    async def room(self, name: str, size: int) -> None:
        return None

    async def write(self, name: str, data: bytes) -> None:
        self.files[name] = data


class _Ev:
    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self.notes: list[str] = []

    def received(self, ip: str, name: str) -> None:
        self.got.append((ip, name))

    def note(self, text: str) -> None:
        self.notes.append(text)


@given(st.binary(max_size=600))
def test_netascii_round_trip(raw):
    assert P.from_netascii(P.to_netascii(raw)) == raw


@given(st.binary(max_size=64))
def test_parse_never_crashes(raw):
    with contextlib.suppress(P.PacketError):
        P.parse(raw)


def test_codec_shapes():
    assert P.parse(P.request(P.Op.WRQ, "a.bin")) == P.Request(P.Op.WRQ, "a.bin", "octet")
    assert P.parse(b"\x00\x01f\x00NetASCII\x00blksize\x001428\x00") == P.Request(
        P.Op.RRQ, "f", "netascii", {"blksize": "1428"}
    )
    assert P.parse(P.data(7, b"xy")) == P.Data(7, b"xy")
    assert P.parse(P.ack(65535)) == P.Ack(65535)
    assert P.error(1) == b"\x00\x05\x00\x01File not found\x00"
    assert P.parse(P.error(3, "full")) == P.Error(3, "full")
    for bad in (b"\x00\x01f\x00", b"\x00\x04\x00", b"\x00\x03\x00\x01" + b"x" * 513, b"\x00\x07ab"):
        with pytest.raises(P.PacketError):
            P.parse(bad)


async def _server(store: Store, events: _Ev | None = None, **kw) -> TftpServer:  # noqa: ANN003
    srv = TftpServer(store, events or _Ev(), timing=FAST, **kw)
    await srv.start("127.0.0.1", 0)
    return srv


async def test_round_trip_and_wind_event():
    ev = _Ev()
    srv = await _server(Store(), ev)
    try:
        for size in (0, 512, 1025):
            data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
            await tftp.put("127.0.0.1", srv.port, f"f{size}", data, timing=FAST)
            assert await tftp.get("127.0.0.1", srv.port, f"f{size}", timing=FAST) == data
    finally:
        await srv.stop()
    assert ev.got == [("127.0.0.1", "f0"), ("127.0.0.1", "f512"), ("127.0.0.1", "f1025")]


async def test_policy_blocks_requests():
    ev = _Ev()
    srv = await _server(Store({"f": b"x"}), ev, allowed=lambda ip: False)
    try:
        with pytest.raises(ServiceError) as e:
            await tftp.get("127.0.0.1", srv.port, "f", timing=GIVE_UP)
        assert e.value.kind is TftpFault.TIMEOUT
    finally:
        await srv.stop()
    assert any("blocked by network policy" in n for n in ev.notes)


async def _recv(s: socket.socket) -> bytes:
    raw, _ = await asyncio.wait_for(asyncio.get_running_loop().sock_recvfrom(s, 600), 5)
    return raw


def _udp() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    return s


async def test_busy_and_modes():
    store = Store({"f": b"x"})
    store.gate = asyncio.Event()
    srv = await _server(store)
    loop = asyncio.get_running_loop()
    socks = []
    try:
        for _ in range(4):  # four transfers waiting on the store
            s = _udp()
            s.sendto(P.request(P.Op.RRQ, "f"), ("127.0.0.1", srv.port))
            s.sendto(P.request(P.Op.RRQ, "f"), ("127.0.0.1", srv.port))  # a repeat: ignored
            socks.append(s)
        await asyncio.wait_for(store.four_waiting.wait(), 5)
        with pytest.raises(ServiceError) as e:
            await tftp.get("127.0.0.1", srv.port, "f", timing=FAST)
        assert e.value.kind is TftpFault.REMOTE and "busy" in e.value.detail.lower()
        store.gate.set()
        stranger = _udp()
        for s in list(socks):
            raw, tid = await asyncio.wait_for(loop.sock_recvfrom(s, 600), 5)
            assert P.parse(raw) == P.Data(1, b"x")
            if s is socks[0]:  # not that transfer's peer: ERROR 5, the transfer unharmed
                stranger.sendto(P.ack(1), tid)
                assert P.parse(await _recv(stranger)) == P.Error(5, "Unknown transfer ID")
            s.sendto(P.ack(1), tid)
        socks.append(stranger)
        s = _udp()
        socks.append(s)
        s.sendto(b"\x00\x01f\x00mail\x00", ("127.0.0.1", srv.port))
        pkt = P.parse(await _recv(s))
        assert isinstance(pkt, P.Error) and pkt.code == P.Code.ILLEGAL
    finally:
        for s in socks:
            s.close()
        await srv.stop()


async def test_too_big_put_sends_nothing():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    with s, pytest.raises(ServiceError) as e:
        await tftp.put("127.0.0.1", s.getsockname()[1], "f", bytes(P.MAX_BLOCKS * 512), timing=FAST)
    assert e.value.kind is TftpFault.TOO_BIG


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")
async def test_ipv6_loopback():
    srv = TftpServer(Store({"f": b"six" * 300}), _Ev(), timing=FAST)
    await srv.start("::1", 0)
    try:
        assert await tftp.get("::1", srv.port, "f", timing=FAST) == b"six" * 300
        await tftp.put("::1", srv.port, "g", b"up", timing=FAST)
    finally:
        await srv.stop()
