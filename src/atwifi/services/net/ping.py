"""Real ICMP echo ("ping") from asyncio, with an honest fallback.

Ways to send an echo request, tried in this order:
  1. an unprivileged ICMP datagram socket (Linux, when the process's group is inside
     net.ipv4.ping_group_range): the kernel fills in the identifier and checksum;
  2. a raw ICMP socket (needs root or CAP_NET_RAW);
  3. neither: a TCP connect probe to port 7 (echo). A connect that completes or is refused
     proves the host answers; the reply is reported with 0 bytes, because no echo payload
     came back. ``PingResult.method`` says which way was used, so callers can tell users.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from atwifi.services.net.policy import NetworkPolicy

ECHO_REQUEST_V4, ECHO_REPLY_V4 = 8, 0
ECHO_REQUEST_V6, ECHO_REPLY_V6 = 128, 129
_HDR = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
MAX_SIZE = 1472  # payload that fits one Ethernet frame without fragmentation


class PingBlocked(Exception):
    """The network policy forbids this destination; nothing was sent."""


@dataclass(frozen=True)
class Reply:
    seq: int
    size: int  # payload bytes received (truncated to the requested size)
    ms: int  # round trip in whole milliseconds


@dataclass
class PingResult:
    address: str
    method: str  # "icmp-dgram", "icmp-raw" or "tcp-probe"
    replies: list[Reply] = field(default_factory=list)
    sent: int = 0
    errors: list[str] = field(default_factory=list)  # send errors, e.g. no route to host


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident: int, seq: int, payload: bytes, v6: bool = False) -> bytes:
    kind = ECHO_REQUEST_V6 if v6 else ECHO_REQUEST_V4
    if v6:  # the kernel computes ICMPv6 checksums (they cover a pseudo-header we lack)
        return _HDR.pack(kind, 0, 0, ident, seq) + payload
    c = checksum(_HDR.pack(kind, 0, 0, ident, seq) + payload)
    return _HDR.pack(kind, 0, c, ident, seq) + payload


def _open(v6: bool) -> tuple[socket.socket, str] | None:
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    for kind, name in ((socket.SOCK_DGRAM, "icmp-dgram"), (socket.SOCK_RAW, "icmp-raw")):
        try:
            s = socket.socket(fam, kind, proto)
        except OSError:
            continue
        s.setblocking(False)
        return s, name
    return None


def _icmp_part(data: bytes, v6: bool) -> bytes:
    # Raw IPv4 sockets (and macOS datagram ones) hand us the IP header too; Linux datagram
    # and all IPv6 sockets do not. An ICMP message never starts with 0x4_, an IPv4 header does.
    if not v6 and data and data[0] >> 4 == 4:
        return data[(data[0] & 0x0F) * 4 :]
    return data


# loop.sock_sendto / sock_recvfrom are the selector loop's; uvloop (`serve --loop uvloop`)
# has them as NotImplementedError. Readiness callbacks work on both.
async def _wait_ready(loop: asyncio.AbstractEventLoop, sock: socket.socket, write: bool) -> None:
    fut = loop.create_future()

    def ready() -> None:
        if not fut.done():
            fut.set_result(None)

    fd = sock.fileno()
    if write:
        loop.add_writer(fd, ready)
    else:
        loop.add_reader(fd, ready)
    try:
        await fut
    finally:
        if write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


async def _sendto(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, data: bytes, addr: tuple[str, int]
) -> None:
    while True:
        try:
            sock.sendto(data, addr)
            return
        except (BlockingIOError, InterruptedError):
            await _wait_ready(loop, sock, write=True)


async def _recvfrom(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, n: int
) -> tuple[bytes, object]:
    while True:
        try:
            return sock.recvfrom(n)
        except (BlockingIOError, InterruptedError):
            await _wait_ready(loop, sock, write=False)


async def _echo(
    sock: socket.socket,
    method: str,
    addr: str,
    v6: bool,
    ident: int,
    seq: int,
    size: int,
    timeout_s: float,
) -> Reply | None:
    loop = asyncio.get_running_loop()
    payload = (os.urandom(8) + bytes(range(256)) * 6)[:size]
    raw = method == "icmp-raw"
    reply_kind = ECHO_REPLY_V6 if v6 else ECHO_REPLY_V4
    t0 = time.monotonic()
    await _sendto(loop, sock, echo_request(ident, seq, payload, v6), (addr, 0))
    deadline = t0 + timeout_s

    async def wait_reply() -> Reply:
        while True:
            data, _src = await _recvfrom(loop, sock, 65535)
            icmp = _icmp_part(data, v6)
            if len(icmp) < _HDR.size:
                continue
            kind, _code, _c, rid, rseq = _HDR.unpack_from(icmp)
            # A raw socket sees every ICMP message on the host (our own request on loopback
            # included); a datagram socket's identifier is rewritten by the kernel.
            if kind != reply_kind or rseq != seq or (raw and rid != ident):
                continue
            body = icmp[_HDR.size :]
            if body != payload[: len(body)]:
                continue
            ms = int((time.monotonic() - t0) * 1000)
            return Reply(seq=seq, size=min(len(body), size), ms=ms)

    try:
        return await asyncio.wait_for(wait_reply(), max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        return None


async def _tcp_probe(addr: str, seq: int, timeout_s: float) -> Reply | None:
    t0 = time.monotonic()
    try:
        _r, w = await asyncio.wait_for(asyncio.open_connection(addr, 7), timeout_s)
    except ConnectionRefusedError:
        pass  # a RST came back: the host is there
    except (OSError, TimeoutError):
        return None
    else:
        w.close()
    return Reply(seq=seq, size=0, ms=int((time.monotonic() - t0) * 1000))


async def ping(
    address: str,
    count: int = 1,
    size: int = 56,
    timeout_s: float = 1.0,
    policy: NetworkPolicy | None = None,
    on_reply: Callable[[Reply], Awaitable[None]] | None = None,
) -> PingResult:
    """Send ``count`` echo requests of ``size`` payload bytes to ``address`` (an IP literal),
    one after another, waiting up to ``timeout_s`` seconds for each answer. Lost requests
    simply have no Reply. ``on_reply`` is awaited with each reply as it arrives (progress
    output). Raises PingBlocked when ``policy`` forbids the destination."""
    if policy is not None and not policy.allows(address):
        raise PingBlocked(address)
    v6 = ":" in address
    size = max(0, min(size, MAX_SIZE))
    opened = _open(v6)
    result = PingResult(address=address, method=opened[1] if opened else "tcp-probe")
    ident = int.from_bytes(os.urandom(2), "big")
    try:
        for i in range(count):
            seq = (i + 1) & 0xFFFF
            result.sent += 1
            try:
                if opened is None:
                    reply = await _tcp_probe(address, seq, timeout_s)
                else:
                    reply = await _echo(
                        opened[0], opened[1], address, v6, ident, seq, size, timeout_s
                    )
            except OSError as e:
                # No route, network down...: the request is lost, as on a real stack.
                result.errors.append(os.strerror(e.errno) if e.errno else str(e))
                if e.errno in (errno.EACCES, errno.EPERM):
                    break
                continue
            if reply is not None:
                result.replies.append(reply)
                if on_reply is not None:
                    await on_reply(reply)
    finally:
        if opened is not None:
            opened[0].close()
    return result
