"""The TFTP client: one transfer per call, RFC 1350 with retransmission.

``get`` and ``put`` talk to one server address (resolved and allowed by the caller). The
server answers from a new port (its transfer id, TID); packets from any other port get ERROR 5
and are otherwise ignored, as the RFC says. A lost packet is sent again after
``Timing.timeout`` seconds, at most ``Timing.retries`` times; a duplicate ACK is never answered
with a retransmission (the "Sorcerer's Apprentice" bug).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TYPE_CHECKING, NamedTuple

from atwifi.services.errors import ServiceError
from atwifi.services.tftp import packet as P
from atwifi.services.tftp.udp import Addr, Endpoint, open_endpoint, wildcard_for

if TYPE_CHECKING:
    from atwifi.services.net.dial import Dialer

ROOM_EVERY = 64  # a download asks ``room`` whether it still fits every 64 blocks (32 KiB)


class TftpFault(Enum):
    NOT_FOUND = "file not found"  # the server's ERROR 1
    ACCESS = "access violation"  # the server's ERROR 2
    DISK_FULL = "disk full"  # the server's ERROR 3
    REMOTE = "server error"  # any other ERROR from the server
    TIMEOUT = "no answer"  # nothing came back after every retransmission
    PROTOCOL = "protocol error"  # the peer sent something that is not the next step
    TOO_BIG = "file too big for TFTP"  # more than 65535 blocks
    CONNECT = "cannot reach the server"  # the network policy forbids it, or it was refused


_FAULT_OF_CODE = {
    P.Code.NOT_FOUND: TftpFault.NOT_FOUND,
    P.Code.ACCESS: TftpFault.ACCESS,
    P.Code.DISK_FULL: TftpFault.DISK_FULL,
}


class Timing(NamedTuple):
    """Retransmission: wait ``timeout`` seconds for each answer, resend ``retries`` times,
    then give up (factory: 2 s, 5 retries, so a silent server fails after 12 s)."""

    timeout: float = 2.0
    retries: int = 5


DEFAULT = Timing()


async def _endpoint(dialer: Dialer | None, host: str | None, ip: str, port: int) -> Endpoint:
    """The transfer's UDP endpoint: through the module's connection path (``dialer``: the
    network policy, the fault rules: refuse, and loss/delay/bandwidth on what the server
    sends) when one is given."""
    if dialer is None:
        return await open_endpoint(wildcard_for(ip))
    from atwifi.services.net.dial import Blocked

    try:
        _, ep, _ = await dialer.datagram(
            Endpoint,
            host=host or ip,
            ip=ip,
            port=port,
            connect=False,
            local_addr=(wildcard_for(ip), 0),
        )
    except Blocked as e:
        raise ServiceError(TftpFault.CONNECT, f"{ip}:{port}: {e}") from None
    except OSError as e:  # refused (a fault), or no socket
        raise ServiceError(TftpFault.CONNECT, f"{ip}:{port}: {e}") from None
    return ep  # type: ignore[no-any-return]


def remote_error(pkt: P.Error) -> ServiceError:
    kind = _FAULT_OF_CODE.get(pkt.code, TftpFault.REMOTE)  # type: ignore[call-overload]
    return ServiceError(kind, f"server: {pkt.code} {pkt.message}", code=pkt.code)


class _Transfer:
    """The state both directions share: the server, its TID once known, the last packet."""

    def __init__(self, ep: Endpoint, ip: str, port: int, timing: Timing) -> None:
        self.ep = ep
        self.ip = ip
        self.dest: Addr = (ip, port)
        self.tid: Addr | None = None
        self.timing = timing
        self.last = b""
        self.tries = 0
        self.deadline: float | None = None

    def send(self, raw: bytes) -> None:
        self.last = raw
        self.ep.send(raw, self.tid or self.dest)

    def fail(self, code: P.Code, detail: str) -> ServiceError:
        if self.tid is not None:
            self.ep.send(P.error(code), self.tid)
        return ServiceError(TftpFault.PROTOCOL, detail)

    def progress(self) -> None:
        """The transfer moved on: the retransmission count starts again."""
        self.tries = 0
        self.deadline = None

    async def next(self) -> P.Packet:
        """The next packet of this transfer, resending the last one on each timeout. Packets
        that do not move the transfer on (foreign ports, duplicates) do not reset the timer,
        so a peer cannot keep the command waiting for ever."""
        loop = asyncio.get_running_loop()
        while True:
            if self.deadline is None:
                self.deadline = loop.time() + self.timing.timeout
            got = await self.ep.recv(max(0.0, self.deadline - loop.time()))
            if got is None:
                self.tries += 1
                if self.tries > self.timing.retries:
                    raise ServiceError(
                        TftpFault.TIMEOUT,
                        f"no answer from {self.ip}:{self.dest[1]} after "
                        f"{self.timing.retries} retries",
                    )
                self.deadline = None
                self.ep.send(self.last, self.tid or self.dest)
                continue
            raw, addr = got
            if addr[0] != self.ip:
                continue  # not our server at all
            if self.tid is not None and addr != self.tid:
                self.ep.send(P.error(P.Code.UNKNOWN_TID), addr)
                continue
            try:
                pkt = P.parse(raw)
            except P.PacketError as e:
                if self.tid is None:
                    self.tid = addr
                raise self.fail(P.Code.ILLEGAL, f"bad packet: {e}") from None
            if self.tid is None:
                self.tid = addr
            return pkt


async def get(
    ip: str,
    port: int,
    filename: str,
    *,
    room: Callable[[int], Awaitable[None]] | None = None,
    timing: Timing = DEFAULT,
    dialer: Dialer | None = None,
    host: str | None = None,
) -> bytes:
    """Download ``filename`` (octet mode). ``room(size)`` is awaited as the file grows and may
    raise to stop the transfer (the server then gets ERROR 3, disk full); its exception
    propagates unchanged. ``dialer``/``host``: the connection path, the name as given."""
    ep = await _endpoint(dialer, host, ip, port)
    try:
        t = _Transfer(ep, ip, port, timing)
        t.send(P.request(P.Op.RRQ, filename))
        buf = bytearray()
        expected = 1
        while True:
            pkt = await t.next()
            if isinstance(pkt, P.Error):
                raise remote_error(pkt)
            if not isinstance(pkt, P.Data):
                raise t.fail(P.Code.ILLEGAL, f"expected DATA {expected}, got {pkt!r}")
            if pkt.block != expected:
                if expected > 1 and pkt.block == expected - 1:
                    t.send(t.last)  # our ACK was lost: the server sent the block again
                continue
            t.progress()
            buf += pkt.data
            if len(pkt.data) == P.BLOCK and expected == P.MAX_BLOCKS:
                ep.send(P.error(P.Code.DISK_FULL), t.tid or t.dest)
                raise ServiceError(TftpFault.TOO_BIG, f"{filename}: more than 65535 blocks")
            if room is not None and (len(pkt.data) < P.BLOCK or expected % ROOM_EVERY == 0):
                try:
                    await room(len(buf))
                except BaseException:
                    ep.send(P.error(P.Code.DISK_FULL), t.tid or t.dest)
                    raise
            t.send(P.ack(expected))
            if len(pkt.data) < P.BLOCK:
                return bytes(buf)
            expected += 1
    finally:
        ep.close()


async def put(
    ip: str,
    port: int,
    filename: str,
    payload: bytes,
    *,
    timing: Timing = DEFAULT,
    dialer: Dialer | None = None,
    host: str | None = None,
) -> None:
    """Upload ``payload`` as ``filename`` (octet mode)."""
    blocks = len(payload) // P.BLOCK + 1  # the last block is short, maybe empty
    if blocks > P.MAX_BLOCKS:
        raise ServiceError(TftpFault.TOO_BIG, f"{len(payload)} bytes: more than 65535 blocks")
    ep = await _endpoint(dialer, host, ip, port)
    try:
        t = _Transfer(ep, ip, port, timing)
        t.send(P.request(P.Op.WRQ, filename))
        acked = -1  # the WRQ is answered by ACK 0
        while True:
            pkt = await t.next()
            if isinstance(pkt, P.Error):
                raise remote_error(pkt)
            if not isinstance(pkt, P.Ack):
                raise t.fail(P.Code.ILLEGAL, f"expected ACK {acked + 1}, got {pkt!r}")
            if pkt.block != acked + 1:
                continue  # a duplicate ACK: never resend on it
            acked = pkt.block
            t.progress()
            if acked == blocks:
                return
            n = acked + 1
            t.send(P.data(n, payload[(n - 1) * P.BLOCK : n * P.BLOCK]))
    finally:
        ep.close()
