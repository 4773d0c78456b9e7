# ruff: noqa: F811  (pytest fixtures imported from netsupport are parameters here)
"""Net (device.net) against a minimal stand-in device: the SNTP server and ping are real.

The end-to-end tests through the module's console bytes are in test_e2e_net.py."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from netsupport import FIXED_TIME, SntpServer, closed_udp_port, sntp_server  # noqa: F401  (fixtures)

from atwifi.errors import AtError
from atwifi.spwf04.parts.net import Net, policy_for, split_server, wind84_fields


class Clock:
    def __init__(self) -> None:
        self.t: float | None = None

    def set(self, t: float) -> None:
        self.t = t


class StandIn:
    """Just the device members Net uses."""

    def __init__(
        self,
        cfg: dict[str, Any],
        world: object = None,
        net: str | None = None,
        hosts_file: Path | None = None,
    ) -> None:
        self.config = SimpleNamespace(get=lambda name: cfg[name])
        self.cfg = cfg
        self.clock = Clock()
        self.world = world
        self.options = SimpleNamespace(net=net, hosts_file=hosts_file)
        self.notes: list[str] = []
        self.winds: list[tuple[int, tuple[object, ...]]] = []
        self.tasks: list[asyncio.Task[Any]] = []
        self.wind_event = asyncio.Event()

    def trace_note(self, text: str) -> None:
        self.notes.append(text)

    def wind(self, n: int, *fields: object) -> None:
        self.winds.append((n, fields))
        self.wind_event.set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        t = asyncio.create_task(coro)
        self.tasks.append(t)
        return t


def ntp_cfg(
    server1: str, server2: str = "", startup: int = 1, refresh: int = 3600
) -> dict[str, Any]:
    return {
        "ip_ntp_server1": server1,
        "ip_ntp_server2": server2,
        "ip_ntp_startup": startup,
        "ip_ntp_refresh": refresh,
    }


@pytest.fixture
def empty_hosts(tmp_path: Path) -> Path:
    p = tmp_path / "hosts"
    p.write_text("127.0.0.1 localhost\n")
    return p


async def test_sync_time_sets_clock_and_raises_wind84(
    sntp_server: SntpServer, empty_hosts: Path
) -> None:
    dev = StandIn(ntp_cfg(f"127.0.0.1:{sntp_server.port}"), hosts_file=empty_hosts)
    net = Net(dev)  # type: ignore[arg-type]
    assert await net.sync_time()
    assert dev.clock.t is not None and int(dev.clock.t) == int(FIXED_TIME)
    # 2031-02-03 04:05:06, a Monday (1 with Sunday = 0)
    assert dev.winds == [(84, ("31.2.3", 1, "4.5.6"))]


async def test_world_name_and_fallback_to_server2(
    sntp_server: SntpServer, empty_hosts: Path, closed_udp_port: int
) -> None:
    world = SimpleNamespace(hosts={"ntp.example": "127.0.0.1"}, policy=None)
    dev = StandIn(
        ntp_cfg(f"127.0.0.1:{closed_udp_port}", f"ntp.example:{sntp_server.port}"),
        world=world,
        hosts_file=empty_hosts,
    )
    assert await Net(dev).sync_time()  # type: ignore[arg-type]
    assert [n for n, _ in dev.winds] == [84]
    assert any(str(closed_udp_port) in note for note in dev.notes)


async def test_factory_servers_send_nothing_under_loopback(empty_hosts: Path) -> None:
    dev = StandIn(ntp_cfg("ptbtime1.ptb.de", "ntp0.ipv6.fau.de"), hosts_file=empty_hosts)
    assert not await Net(dev).sync_time()  # type: ignore[arg-type]
    assert dev.winds == [] and dev.clock.t is None
    assert sum("DNS blocked by network policy" in n for n in dev.notes) == 2


async def test_blocked_ntp_server_address(empty_hosts: Path) -> None:
    dev = StandIn(ntp_cfg("192.0.2.1"), hosts_file=empty_hosts)
    assert not await Net(dev).sync_time()  # type: ignore[arg-type]
    assert any("blocked by network policy: 192.0.2.1" in n for n in dev.notes)


async def test_on_link_up_runs_in_background(sntp_server: SntpServer, empty_hosts: Path) -> None:
    dev = StandIn(ntp_cfg(f"127.0.0.1:{sntp_server.port}"), hosts_file=empty_hosts)
    net = Net(dev)  # type: ignore[arg-type]
    net.on_link_up()
    await asyncio.wait_for(dev.wind_event.wait(), 10)
    assert dev.winds[0][0] == 84
    # the refresh timer is pending; link down cancels it
    task = dev.tasks[0]
    assert not task.done()
    net.on_link_down()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_on_link_up_respects_ntp_startup(sntp_server: SntpServer, empty_hosts: Path) -> None:
    dev = StandIn(ntp_cfg(f"127.0.0.1:{sntp_server.port}", startup=0), hosts_file=empty_hosts)
    Net(dev).on_link_up()  # type: ignore[arg-type]
    assert dev.tasks == []


async def test_refresh_zero_means_once(sntp_server: SntpServer, empty_hosts: Path) -> None:
    dev = StandIn(ntp_cfg(f"127.0.0.1:{sntp_server.port}", refresh=0), hosts_file=empty_hosts)
    Net(dev).on_link_up()  # type: ignore[arg-type]
    await asyncio.wait_for(dev.tasks[0], 10)
    assert [n for n, _ in dev.winds] == [84]


async def test_resolve_and_check(empty_hosts: Path) -> None:
    world = SimpleNamespace(
        hosts={"broker.example": "127.0.0.1", "far.example": "192.0.2.7"}, policy=None
    )
    dev = StandIn({}, world=world, hosts_file=empty_hosts)
    net = Net(dev)  # type: ignore[arg-type]
    assert await net.resolve("Broker.Example") == "127.0.0.1"
    assert await net.resolve("localhost") == "127.0.0.1"
    with pytest.raises(AtError) as e:
        await net.resolve("unknown.example")
    assert e.value.number == 65
    assert await net.resolve("far.example") == "192.0.2.7"
    net.check("127.0.0.1")
    assert not net.allowed("192.0.2.7")
    with pytest.raises(AtError) as e:
        net.check("192.0.2.7")
    assert e.value.number == 74
    assert "blocked by network policy: 192.0.2.7" in dev.notes


async def test_world_policy_and_any_option(empty_hosts: Path) -> None:
    world = SimpleNamespace(hosts={}, policy=["127.0.0.0/8", "192.0.2.0/24"])
    assert Net(StandIn({}, world=world, hosts_file=empty_hosts)).allowed("192.0.2.9")  # type: ignore[arg-type]
    assert not Net(StandIn({}, world=world, hosts_file=empty_hosts)).allowed("198.51.100.1")  # type: ignore[arg-type]
    assert Net(StandIn({}, net="any", hosts_file=empty_hosts)).allowed("198.51.100.1")  # type: ignore[arg-type]


async def test_ping_blocked_sends_nothing(empty_hosts: Path) -> None:
    dev = StandIn({}, hosts_file=empty_hosts)
    r = await Net(dev).ping("192.0.2.1", 2, 56)  # type: ignore[arg-type]
    assert r.replies == [] and r.sent == 2
    assert any("blocked by network policy: 192.0.2.1" in n for n in dev.notes)


async def test_ping_loopback_reports_each_reply(empty_hosts: Path) -> None:
    dev = StandIn({}, hosts_file=empty_hosts)
    seen: list[tuple[str, int]] = []

    async def on_reply(ip: str, reply: Any) -> None:
        seen.append((ip, reply.seq))

    r = await Net(dev).ping("localhost", 2, 32, on_reply=on_reply)  # type: ignore[arg-type]
    assert seen == [("127.0.0.1", 1), ("127.0.0.1", 2)] and len(r.replies) == 2


def test_policy_for() -> None:
    assert policy_for(None, None).loopback_only
    assert policy_for("loopback", SimpleNamespace(policy=["any"])).allows("8.8.8.8")
    assert policy_for("any", SimpleNamespace(policy=None)).allows("8.8.8.8")
    assert not policy_for(None, SimpleNamespace(policy=[])).allows("8.8.8.8")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("ptbtime1.ptb.de", ("ptbtime1.ptb.de", 123)),
        ("127.0.0.1:1123", ("127.0.0.1", 1123)),
        ("ntp.test:5", ("ntp.test", 5)),
        ("::1", ("::1", 123)),
        ("[::1]:999", ("::1", 999)),
        ("[::1]", ("::1", 123)),
    ],
)
def test_split_server(text: str, want: tuple[str, int]) -> None:
    assert split_server(text) == want


@pytest.mark.parametrize("text", ["host:0", "host:x", "host:70000"])
def test_split_server_bad_port(text: str) -> None:
    with pytest.raises(ValueError):
        split_server(text)


def test_wind84_fields() -> None:
    assert wind84_fields(0) == ("70.1.1", 4, "0.0.0")  # a Thursday
    assert wind84_fields(FIXED_TIME) == ("31.2.3", 1, "4.5.6")
    assert wind84_fields(FIXED_TIME + 86400 * 5 + 3600 * 20) == ("31.2.9", 0, "0.5.6")


async def test_bad_world_entries_fail_closed(empty_hosts: Path) -> None:
    world = SimpleNamespace(
        hosts={"ok.test": "127.0.0.3", "bad.test": "nowhere"}, policy=["10.0.0.0/33"]
    )
    dev = StandIn({}, world=world, hosts_file=empty_hosts)
    net = Net(dev)  # type: ignore[arg-type]
    assert net.policy.loopback_only
    assert await net.resolve("ok.test") == "127.0.0.3"
    with pytest.raises(AtError):
        await net.resolve("bad.test")
    assert any("bad.test" in n for n in dev.notes) and any("policy ignored" in n for n in dev.notes)


async def test_world_appearing_later_is_used(empty_hosts: Path) -> None:
    dev = StandIn({}, hosts_file=empty_hosts)
    net = Net(dev)  # type: ignore[arg-type]
    assert not net.allowed("192.0.2.1")
    dev.world = SimpleNamespace(hosts={"late.test": "127.0.0.4"}, policy=["192.0.2.0/24"])
    assert net.allowed("192.0.2.1")
    assert await net.resolve("late.test") == "127.0.0.4"
