from __future__ import annotations

from pathlib import Path

import pytest

from atwifi.services.net.policy import ANY, NetworkPolicy
from atwifi.services.net.resolver import ResolveError, Resolver, parse_hosts


@pytest.fixture
def hosts_file(tmp_path: Path) -> Path:
    p = tmp_path / "hosts"
    p.write_text(
        "# comment line\n"
        "127.0.0.1\tlocalhost\n"
        "::1 ip6-only.test\n"
        "127.0.0.9   filebroker.test  alias.test # trailing comment\n"
        "::1 both.test\n"
        "127.0.0.10 both.test\n"
        "not-an-ip bogus.test\n"
        "\n"
    )
    return p


async def test_ip_literals_pass_through(hosts_file: Path) -> None:
    r = Resolver({}, NetworkPolicy(), hosts_file)
    assert await r.resolve("127.0.0.1") == "127.0.0.1"
    assert await r.resolve("10.20.30.40") == "10.20.30.40"  # resolving sends nothing
    assert await r.resolve("::1") == "::1"
    assert await r.resolve("[::1]") == "::1"


async def test_world_hosts_first_and_case_insensitive(hosts_file: Path) -> None:
    r = Resolver({"Broker.Example": "127.0.0.5", "filebroker.test": "127.0.0.6"}, None, hosts_file)
    assert await r.resolve("broker.example") == "127.0.0.5"
    assert await r.resolve("BROKER.EXAMPLE.") == "127.0.0.5"
    # [hosts] wins over the hosts file
    assert await r.resolve("filebroker.test") == "127.0.0.6"


async def test_hosts_file(hosts_file: Path) -> None:
    r = Resolver({}, NetworkPolicy(), hosts_file)
    assert await r.resolve("alias.test") == "127.0.0.9"
    assert await r.resolve("Localhost") == "127.0.0.1"
    assert await r.resolve("ip6-only.test") == "::1"
    assert await r.resolve("both.test") == "127.0.0.10"  # IPv4 preferred


async def test_unknown_name_under_loopback_policy_sends_nothing(hosts_file: Path) -> None:
    r = Resolver({}, NetworkPolicy(), hosts_file)
    with pytest.raises(ResolveError) as e:
        await r.resolve("ptbtime1.ptb.de")
    assert e.value.blocked
    with pytest.raises(ResolveError):
        await r.resolve("bogus.test")
    with pytest.raises(ResolveError):
        await r.resolve("")


async def test_missing_hosts_file(tmp_path: Path) -> None:
    r = Resolver({"a.test": "127.0.0.2"}, NetworkPolicy(), tmp_path / "nope")
    assert await r.resolve("a.test") == "127.0.0.2"
    with pytest.raises(ResolveError):
        await r.resolve("b.test")


async def test_open_policy_uses_host_resolver_for_local_names(tmp_path: Path) -> None:
    # "localhost" is answered by the host's resolver from its own hosts file; the names
    # queried here never need a packet to leave the machine.
    r = Resolver({}, NetworkPolicy(ANY), tmp_path / "empty")
    assert await r.resolve("localhost") in ("127.0.0.1", "::1")


def test_world_hosts_must_be_addresses() -> None:
    with pytest.raises(ValueError):
        Resolver({"x.test": "not-an-ip"})


def test_parse_hosts() -> None:
    got = parse_hosts("127.0.0.1 a b\n# x\n::1 a\n\n1.2.3.4\n")
    assert got == {"a": ["127.0.0.1", "::1"], "b": ["127.0.0.1"]}
