# ruff: noqa: F811  (pytest fixtures imported from netsupport are parameters here)
from __future__ import annotations

import struct

import pytest
from netsupport import FIXED_TIME, SntpServer, closed_udp_port, sntp_server  # noqa: F401  (fixtures)

from atwifi.services.net import sntp
from atwifi.services.net.sntp import SntpError, from_ntp, parse_reply, query, request, to_ntp


async def test_query_returns_server_time(sntp_server: SntpServer) -> None:
    t = await query("127.0.0.1", sntp_server.port, timeout_s=5)
    # the server's clock plus half a loopback round trip
    assert FIXED_TIME <= t < FIXED_TIME + 5
    req = sntp_server.requests[0]
    assert len(req) == 48
    assert req[0] & 7 == 3  # mode 3: client
    assert (req[0] >> 3) & 7 == 4  # version 4


async def test_kiss_of_death_is_an_error(sntp_server: SntpServer) -> None:
    sntp_server.kiss = True
    with pytest.raises(SntpError, match="kiss-of-death|leap"):
        await query("127.0.0.1", sntp_server.port, timeout_s=5)


async def test_nobody_listening(closed_udp_port: int) -> None:
    # the ICMP port-unreachable comes back at once; the timeout is only a safety net
    with pytest.raises(SntpError):
        await query("127.0.0.1", closed_udp_port, timeout_s=5)


def test_timestamp_round_trip() -> None:
    for t in (0.0, FIXED_TIME, 2_085_978_496.5, 1_700_000_000.25):  # 2036 wrap included
        assert abs(from_ntp(to_ntp(t)) - t) < 1e-6


def _reply(**over: int | bytes) -> bytes:
    f = {
        "flags": (4 << 3) | 4,
        "stratum": 1,
        "refid": b"LOCL",
        "orig": 77,
        "recv": to_ntp(5.0),
        "xmit": to_ntp(6.0),
    }
    f.update(over)
    return sntp.PACKET.pack(
        f["flags"], f["stratum"], 0, 0, 0, 0, f["refid"], 0, f["orig"], f["recv"], f["xmit"]
    )


def test_parse_reply_checks() -> None:
    assert parse_reply(_reply(), 77) == (5.0, 6.0)
    with pytest.raises(SntpError, match="short"):
        parse_reply(_reply()[:40], 77)
    with pytest.raises(SntpError, match="mode"):
        parse_reply(_reply(flags=(4 << 3) | 3), 77)
    with pytest.raises(SntpError, match="originate"):
        parse_reply(_reply(), 78)
    with pytest.raises(SntpError, match="kiss"):
        parse_reply(_reply(stratum=0, refid=b"DENY"), 77)
    with pytest.raises(SntpError, match="transmit"):
        parse_reply(_reply(xmit=0), 77)


def test_request_shape() -> None:
    r = request(0x1122334455667788)
    assert len(r) == 48 and r[0] == 0x23
    assert struct.unpack_from("!Q", r, 40)[0] == 0x1122334455667788
