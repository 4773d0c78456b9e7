from __future__ import annotations

import pytest
from netsupport import needs_ipv6

from atwifi.services.net.ping import PingBlocked, checksum, echo_request, ping
from atwifi.services.net.policy import NetworkPolicy


async def test_ping_loopback_for_real() -> None:
    r = await ping("127.0.0.1", count=3, size=56, timeout_s=5, policy=NetworkPolicy())
    assert r.sent == 3
    assert [x.seq for x in r.replies] == [1, 2, 3]
    if r.method != "tcp-probe":
        assert all(x.size == 56 for x in r.replies)
    assert all(x.ms >= 0 for x in r.replies)


async def test_ping_sizes() -> None:
    r = await ping("127.0.0.1", count=1, size=0, timeout_s=5)
    assert len(r.replies) == 1 and r.replies[0].size == 0
    r = await ping("127.0.0.1", count=1, size=100000, timeout_s=5)
    assert len(r.replies) == 1
    if r.method != "tcp-probe":
        assert r.replies[0].size == 1472


@needs_ipv6
async def test_ping_ipv6_loopback() -> None:
    r = await ping("::1", count=1, timeout_s=5, policy=NetworkPolicy())
    assert len(r.replies) == 1


async def test_blocked_destination_sends_nothing() -> None:
    with pytest.raises(PingBlocked):
        await ping("192.0.2.1", policy=NetworkPolicy())


def test_checksum_verifies() -> None:
    pkt = echo_request(0x1234, 7, b"abcde")
    assert checksum(pkt) == 0
    assert pkt[0] == 8


async def test_fallback_tcp_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a host where neither ICMP socket kind may be opened: the probe still finds
    # the (real) loopback host, and says it was a probe.
    from atwifi.services.net import ping as ping_mod

    monkeypatch.setattr(ping_mod, "_open", lambda v6: None)
    r = await ping("127.0.0.1", count=2, timeout_s=5)
    assert r.method == "tcp-probe"
    assert [(x.seq, x.size) for x in r.replies] == [(1, 0), (2, 0)]
