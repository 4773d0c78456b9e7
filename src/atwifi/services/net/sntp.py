"""An asyncio SNTP client (RFC 4330): one 48-byte mode-3 request, one mode-4 answer.

The result is the server's time, not an offset against the host clock: the virtual module
has its own clock (it starts at 1970 on power-on), so what it needs is "what time is it".
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from typing import TYPE_CHECKING

from atwifi.services.errors import ServiceError
from atwifi.services.net.errors import NetFault

if TYPE_CHECKING:
    from atwifi.services.net.dial import Dialer

NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01
PACKET = struct.Struct("!BBbbII4sQQQQ")  # 48 bytes: header, root delay/dispersion, ref id, 4 stamps
_VERSION = 4


class SntpError(ServiceError):
    """No usable answer: timeout, refused, malformed, or a kiss-of-death (``NetFault.NTP``)."""

    def __init__(self, detail: str) -> None:
        super().__init__(NetFault.NTP, detail)


def to_ntp(t: float) -> int:
    """Unix seconds -> 64-bit NTP timestamp (era 0 and its 2036 wrap)."""
    return int(round((t + NTP_EPOCH_OFFSET) * (1 << 32))) & 0xFFFF_FFFF_FFFF_FFFF


def from_ntp(stamp: int) -> float:
    """64-bit NTP timestamp -> unix seconds. Seconds values with the top bit clear are taken
    as era 1 (after 2036-02-07), as RFC 4330 section 3 suggests."""
    secs, frac = stamp >> 32, stamp & 0xFFFF_FFFF
    if not secs & 0x8000_0000:
        secs += 1 << 32
    return secs - NTP_EPOCH_OFFSET + frac / (1 << 32)


def request(transmit: int) -> bytes:
    """A client request: LI 0, version 4, mode 3; only the transmit timestamp is set (the
    server copies it into its originate field, which is how the answer is matched)."""
    return PACKET.pack((0 << 6) | (_VERSION << 3) | 3, 0, 0, 0, 0, 0, b"\0" * 4, 0, 0, 0, transmit)


def parse_reply(data: bytes, sent: int) -> tuple[float, float]:
    """Check a server reply to the request stamped ``sent``; returns (receive, transmit) in
    unix seconds."""
    if len(data) < PACKET.size:
        raise SntpError(f"short reply ({len(data)} bytes)")
    flags, stratum, _poll, _prec, _rd, _rdisp, refid, _ref, orig, recv, xmit = PACKET.unpack_from(
        data
    )
    li, version, mode = flags >> 6, (flags >> 3) & 7, flags & 7
    if mode not in (4, 5):
        raise SntpError(f"not a server reply (mode {mode})")
    if version < 1 or version > 4:
        raise SntpError(f"unknown NTP version {version}")
    if stratum == 0:
        code = refid.decode("ascii", "replace").strip("\0")
        raise SntpError(f"kiss-of-death from server ({code or 'no code'})")
    if li == 3:
        raise SntpError("server clock not synchronised (leap indicator 3)")
    if orig != sent:
        raise SntpError("reply does not answer our request (originate timestamp differs)")
    if xmit == 0:
        raise SntpError("reply has no transmit timestamp")
    return from_ntp(recv) if recv else from_ntp(xmit), from_ntp(xmit)


class _Client(asyncio.DatagramProtocol):
    def __init__(self, sent: int) -> None:
        self.sent = sent
        self.done: asyncio.Future[tuple[float, float, float]] = (
            asyncio.get_running_loop().create_future()
        )

    def datagram_received(self, data: bytes, addr: object) -> None:
        if self.done.done():
            return
        try:
            recv, xmit = parse_reply(data, self.sent)
        except SntpError as e:
            # A stray or bad datagram: keep waiting for the real answer unless it was a
            # definite refusal from the server.
            if "kiss-of-death" in str(e) or "leap indicator" in str(e):
                self.done.set_exception(e)
            return
        self.done.set_result((recv, xmit, time.monotonic()))

    def error_received(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(SntpError(f"network error: {exc}"))


async def query(
    server_ip: str,
    port: int = 123,
    timeout_s: float = 5.0,
    *,
    dialer: Dialer | None = None,
    host: str | None = None,
) -> float:
    """Ask ``server_ip`` for the time; returns unix seconds at the moment the answer arrived.

    With ``dialer`` (the module's connection path, services/net/dial.py) the endpoint is its:
    the policy, then the fault rules (refuse: OSError; loss, delay on the answer). Without,
    the caller has checked the destination against the network policy."""
    loop = asyncio.get_running_loop()
    # The transmit field carries random bits rather than our clock: the module's clock may be
    # unset, and a random stamp makes forged or stray answers unmatchable (RFC 4330 sec. 6 allows it).
    sent = int.from_bytes(os.urandom(8), "big") | 1
    if dialer is None:
        transport, proto = await loop.create_datagram_endpoint(
            lambda: _Client(sent), remote_addr=(server_ip, port)
        )
    else:
        transport, proto, _ = await dialer.datagram(
            lambda: _Client(sent), host=host or server_ip, ip=server_ip, port=port
        )
    try:
        t1 = time.monotonic()
        transport.sendto(request(sent))
        try:
            recv, xmit, t4 = await asyncio.wait_for(proto.done, timeout_s)
        except TimeoutError as e:
            raise SntpError(f"no answer from {server_ip}:{port} within {timeout_s:g} s") from e
    finally:
        transport.close()
    # Round trip minus the server's own holding time; half of it is the way back.
    delay = max(0.0, (t4 - t1) - (xmit - recv))
    return xmit + delay / 2
