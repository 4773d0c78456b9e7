from __future__ import annotations

import pytest

from atwifi.services.net.policy import ANY, LOOPBACK, NetworkPolicy


def test_default_is_loopback_only() -> None:
    p = NetworkPolicy()
    assert p.allows("127.0.0.1")
    assert p.allows("127.5.6.7")
    assert p.allows("::1")
    assert p.allows("::ffff:127.0.0.1")
    assert not p.allows("10.0.0.1")
    assert not p.allows("8.8.8.8")
    assert not p.allows("0.0.0.0")
    assert not p.allows("::2")
    assert not p.allows("::ffff:8.8.8.8")
    assert p.loopback_only


def test_any_opens_everything() -> None:
    p = NetworkPolicy(ANY)
    assert p.allows("8.8.8.8") and p.allows("2001:db8::1") and p.allows("127.0.0.1")
    assert not p.loopback_only


def test_not_an_address_is_refused() -> None:
    p = NetworkPolicy(ANY)
    assert not p.allows("example.com")
    assert not p.allows("")
    assert not p.allows("300.1.1.1")


def test_custom_networks() -> None:
    p = NetworkPolicy(["127.0.0.0/8", "192.168.7.0/24"])
    assert p.allows("192.168.7.200")
    assert not p.allows("192.168.8.1")
    assert not p.loopback_only
    assert NetworkPolicy(["127.0.0.1/32"]).loopback_only


@pytest.mark.parametrize(
    ("spec", "loopback_only", "probe", "allowed"),
    [
        (None, True, "10.1.1.1", False),
        ("loopback", True, "127.0.0.2", True),
        ("any", False, "10.1.1.1", True),
        ("ANY", False, "10.1.1.1", True),
        ("loopback,10.0.0.0/8", False, "10.1.1.1", True),
        (["loopback", "10.0.0.0/8"], False, "11.1.1.1", False),
        ("", True, "127.0.0.1", True),
    ],
)
def test_from_spec(spec: object, loopback_only: bool, probe: str, allowed: bool) -> None:
    p = NetworkPolicy.from_spec(spec)  # type: ignore[arg-type]
    assert p.loopback_only is loopback_only
    assert p.allows(probe) is allowed


def test_bad_network_is_reported() -> None:
    with pytest.raises(ValueError, match="bad network"):
        NetworkPolicy(["10.0.0.0/33"])
    assert tuple(str(n) for n in NetworkPolicy().networks) == LOOPBACK
