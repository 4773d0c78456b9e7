"""Properties: the loopback policy never lets anything else through; parsers of untrusted
bytes (SNTP replies, hosts files, server values) fail only in the documented way."""

from __future__ import annotations

import contextlib
import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from atwifi.services.net.policy import NetworkPolicy
from atwifi.services.net.resolver import parse_hosts
from atwifi.services.net.sntp import SntpError, parse_reply
from atwifi.spwf04.parts.net import split_server

LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")


@given(st.ip_addresses(v=4))
def test_loopback_policy_v4(addr: ipaddress.IPv4Address) -> None:
    assert NetworkPolicy().allows(str(addr)) == (addr in LOOPBACK_V4)


@given(st.ip_addresses(v=6))
def test_loopback_policy_v6(addr: ipaddress.IPv6Address) -> None:
    mapped = addr.ipv4_mapped
    want = addr == ipaddress.ip_address("::1") or (mapped is not None and mapped in LOOPBACK_V4)
    assert NetworkPolicy().allows(str(addr)) == want


@given(st.text(max_size=60))
def test_policy_never_raises_on_text(text: str) -> None:
    NetworkPolicy().allows(text)


@given(st.binary(max_size=96), st.integers(min_value=0, max_value=2**64 - 1))
def test_sntp_reply_parser_only_raises_sntp_error(data: bytes, sent: int) -> None:
    with contextlib.suppress(SntpError):
        parse_reply(data, sent)


@given(st.text(max_size=300))
def test_hosts_parser_total(text: str) -> None:
    for name, addrs in parse_hosts(text).items():
        assert name == name.lower() and addrs
        for a in addrs:
            ipaddress.ip_address(a)


@given(st.text(max_size=40))
def test_split_server_total(text: str) -> None:
    try:
        host, port = split_server(text)
    except ValueError:
        return
    assert 0 < port < 65536
