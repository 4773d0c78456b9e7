"""`atwifi fleet`: modules sharing one world, through the bytes on their consoles."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atwifi.control.client import ControlClient, ControlError
from atwifi.fleet.control import FleetControlServer
from atwifi.fleet.runtime import Fleet, load_world
from atwifi.fleet.spec import FleetError, from_dict, load
from harness import SRC, ServedModule

OK = b"AT-S.OK\r\n"


class Console(ServedModule):
    """A fleet module's TCP console (no process of its own)."""

    def __init__(self, port: int) -> None:
        super().__init__(None, port)  # type: ignore[arg-type]

    async def ok(self, line: str, data: bytes = b"") -> bytes:
        out = await self.cmd(line, data)
        assert out.endswith(OK), (line, out)
        return out


def _port(fleet: Fleet, name: str) -> int:
    return int(fleet.members[name].transport.port)


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[Fleet]:
    spec = from_dict(
        {"fleet": {"state": str(tmp_path / "fleet")}, "module": [{"name": "a"}, {"name": "b"}]}
    )
    f = Fleet(spec, load_world(spec))
    f.build()
    await f.start()
    ctl = FleetControlServer(f, spec.state / "ctl.sock")
    await ctl.start()
    yield f
    await ctl.close()
    await f.stop()


async def ctl_call(fleet: Fleet, verb: str, **args: object) -> object:
    client = ControlClient(fleet.spec.state)
    return await asyncio.to_thread(client.call, verb, **args)


async def test_miniap_join_and_socket_between_modules(fleet: Fleet) -> None:
    a, b = Console(_port(fleet, "a")), Console(_port(fleet, "b"))
    await a.connect()
    await b.connect()
    try:
        await a.joined()
        await b.joined()
        for m in (a, b):
            await m.send(b"AT+S.SCFG=console_echo,0\r")
            await m.read_until(OK)
        # Each module has its own MAC (one MAC would share leases and peer tables).
        mac_a = (await a.ok("AT+S.GCFG=nv_wifi_macaddr")).split(b"\r\n")[0]
        mac_b = (await b.ok("AT+S.GCFG=nv_wifi_macaddr")).split(b"\r\n")[0]
        assert mac_a != mac_b

        # Module A becomes a MiniAP "FleetAP" on 192.168.10.1.
        for line in (
            "AT+S.SCFG=wifi_mode,3",
            "AT+S.SSIDTXT=FleetAP",
            "AT+S.SCFG=wifi_priv_mode,0",
            "AT+S.SCFG=ip_ipaddr,192.168.10.1",
            "AT+S.SCFG=ip_netmask,255.255.255.0",
            "AT+S.WCFG",
        ):
            await a.ok(line)
        await a.send(b"AT+S.RESET\r")
        await a.read_until(b"+WIND:26:Started AP:FleetAP\r\n")
        await a.read_until(b"+WIND:24:WiFi Up:0:192.168.10.1\r\n")
        await a.read_until(b"+WIND:24:WiFi Up::")  # the IPv6 one follows
        await a.read_until(b"\r\n")
        assert await a.cmd("AT+S.SOCKDON=7000,t") == b"AT-S.On:0\r\n" + OK
        # The fleet's control socket: per module (module=NAME), and where servers listen.
        servers = await ctl_call(fleet, "fleet.servers", module="a")
        assert isinstance(servers, list) and servers[0]["port"] == 7000
        assert servers[0]["host_port"] > 0  # a free host port, not 7000 itself
        modules = await ctl_call(fleet, "fleet.modules")
        assert isinstance(modules, dict) and sorted(modules) == ["a", "b"]
        status = await ctl_call(fleet, "radio.status", module="a")
        assert isinstance(status, dict) and status["mode"] == 3
        with pytest.raises(ControlError, match="module=NAME"):
            await ctl_call(fleet, "radio.status")
        with pytest.raises(ControlError, match="no module 'c'"):
            await ctl_call(fleet, "radio.status", module="c")

        # Module B hears it in a scan...
        scan = await b.ok("AT+S.SCAN")
        assert b"SSID: 'FleetAP'" in scan, scan
        # ...joins it: A's MiniAP associates B and leases it an address from A's pool.
        await b.ok("AT+S.SSIDTXT=FleetAP")
        await b.ok("AT+S.SCFG=wifi_priv_mode,0")
        await b.ok("AT+S.WCFG")
        await b.send(b"AT+S.RESET\r")
        up = await b.read_until(re.compile(rb"\+WIND:24:WiFi Up:0:(192\.168\.10\.\d+)\r\n"))
        b_ip = re.search(rb"192\.168\.10\.\d+", up).group().decode()  # type: ignore[union-attr]
        await b.read_until(b"+WIND:24:WiFi Up::")
        await b.read_until(b"\r\n")
        await a.read_until(b"+WIND:28:Station Associated:")
        dhcp = await a.read_until(b"\r\n")
        assert b_ip != "192.168.10.1"
        wind29 = await a.read_until(b"+WIND:29:")
        wind29 += await a.read_until(b"\r\n")
        assert b_ip.encode() in wind29, (dhcp, wind29)

        # B opens a socket to A's server through A's simulated address; data flows both ways.
        assert await b.cmd("AT+S.SOCKON=192.168.10.1,7000,,t") == b"AT-S.On:192.168.10.1:0\r\n" + OK
        await a.read_until(b"+WIND:61:Incoming Socket Client:")
        await a.read_until(b"\r\n")
        await b.ok("AT+S.SOCKW=0,5", b"hello")
        await a.read_until(b"+WIND:55:Pending Data:0:0:5:5\r\n")
        reading = await a.cmd("AT+S.SOCKDR=0,0,")
        assert reading == b"AT-S.Reading:5:5\r\nhello" + OK, reading
        await a.ok("AT+S.SOCKDW=0,0,4", b"pong")
        await b.read_until(b"+WIND:55:Pending Data::0:4:4\r\n")
        assert await b.cmd("AT+S.SOCKR=0") == b"AT-S.Reading:4:4\r\npong" + OK

        # A port nobody serves on A is refused like an unreachable host; both keep answering.
        assert (await b.cmd("AT+S.SOCKON=192.168.10.1,7001,,t")).startswith(b"AT-S.ERROR:")
        # B leaving disassociates it from A's MiniAP.
        await b.ok("AT+S.WIFI=0")
        await b.read_until(b"+WIND:38:")
        await b.read_until(b"\r\n")
        await a.read_until(b"+WIND:72:Station Disassociated:")
        await a.read_until(b"\r\n")
        assert await a.cmd("AT") == OK
        assert await b.cmd("AT") == OK
    finally:
        await a.disconnect()
        await b.disconnect()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[fleet]\nstate = 'x'\n", "no [[module]]"),
        ("[[module]]\ncount = 2\n", "module[0]: a module needs a name"),
        ("[[module]]\nname = 'a b'\n", "module[0].name: 'a b'"),
        (
            "[[module]]\nname = 'a'\n[[module]]\nname = 'a'\n",
            "module[1].name: two modules named 'a'",
        ),
        ("[[module]]\nname = 'a'\ncount = 0\n", "module[0].count: at least 1"),
        ("[[module]]\nname = 'a'\ncount = 'many'\n", "module[0].count: a whole number expected"),
        ("[[module]]\nname = 'a'\ncolour = 'red'\n", "module[0]: unknown keys ['colour']"),
        ("[fleet]\nconsole = 'usb'\n[[module]]\nname = 'a'\n", "fleet.console: one of tcp, pty"),
        ("[fleet]\nnet = 'lan'\n[[module]]\nname = 'a'\n", "fleet.net: 'loopback' or 'any'"),
        ("[fleet]\nbase_port = 65535\n[[module]]\nname = 'a'\ncount = 2\n", "runs past port"),
        ("[fleet]\nspeed = 1\n[[module]]\nname = 'a'\n", "[fleet]: unknown keys ['speed']"),
        ("[fleets]\n", "unknown tables ['fleets']"),
        ("[[module]\n", "not TOML"),
        ("[fleet]\ntftp = 'yes'\n[[module]]\nname = 'a'\n", "fleet.tftp: true or false expected"),
    ],
)
def test_fleet_file_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    with pytest.raises(FleetError) as err:
        load(path)
    assert message in str(err.value)


def test_fleet_file_counts_and_paths(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(
        "[fleet]\nstate = 'st'\nworld = 'w.toml'\n"
        "[[module]]\nname = 'ap'\n[[module]]\nname = 'node'\ncount = 3\nconsole = 'pty'\n"
    )
    spec = load(path)
    assert [m.name for m in spec.modules] == ["ap", "node-0", "node-1", "node-2"]
    assert [m.console for m in spec.modules] == ["tcp", "pty", "pty", "pty"]
    assert spec.state == tmp_path / "st"
    assert spec.world == tmp_path / "w.toml"


def test_cli_reports_a_bad_fleet_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text("[[module]]\nname = 'a'\n[[module]]\nname = 'a'\n")
    env = {"PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-m", "atwifi", "fleet", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2
    assert "module[1].name: two modules named 'a'" in out.stderr
    path.write_text("[[module]]\nname = 'a'\ncount = 2\n")
    out = subprocess.run(
        [sys.executable, "-m", "atwifi", "fleet", "--check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0 and "2 modules, OK" in out.stdout


def test_pty_consoles_and_the_cli_listing(tmp_path: Path) -> None:
    """A module on a pty console answers there; consoles.json lists every console."""
    import json
    import os
    import select
    import tty

    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(
        "[fleet]\nstate = 'st'\nconsole = 'pty'\n[[module]]\nname = 'p'\ncount = 2\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "atwifi", "fleet", str(fleet_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        assert lines[0].startswith(b"atwifi fleet: 2 modules"), lines
        assert b"consoles listed in" in lines[3], lines
        listing = json.loads((tmp_path / "st" / "consoles.json").read_text())
        assert sorted(listing) == ["p-0", "p-1"]
        path = re.search(r"/dev/pts/\d+", listing["p-1"]).group()  # type: ignore[union-attr]
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            os.write(fd, b"AT\r")
            got = b""
            while OK not in got:
                ready, _, _ = select.select([fd], [], [], 20)
                assert ready, got
                got += os.read(fd, 4096)
            assert b"AT-S.ERROR" not in got
        finally:
            os.close(fd)
    finally:
        proc.terminate()
        proc.wait(20)


async def test_module_servers_only_when_the_fleet_file_asks(tmp_path: Path, fleet: Fleet) -> None:
    """By default a fleet module opens no TFTP or web server sockets (file descriptors for
    10,000 modules); `tftp = true` / `httpd = true` give each module its own."""
    assert not {"tftp", "web"} & set(fleet.device("a").endpoints)
    spec = from_dict(
        {
            "fleet": {"state": str(tmp_path / "on"), "tftp": True, "httpd": True},
            "module": [{"name": "s"}],
        }
    )
    f = Fleet(spec, load_world(spec))
    f.build()
    await f.start()
    try:
        assert {"tftp", "web"} <= set(f.device("s").endpoints)
    finally:
        await f.stop()
