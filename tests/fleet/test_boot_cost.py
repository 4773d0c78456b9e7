"""What a boot costs: a fleet of hundreds of modules, lazy state, no heavy import at boot.

Behaviour only (no durations: benchmarks/fleet.py and benchmarks/roundtrip.py time them)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from atwifi.fleet.runtime import Fleet, load_world
from atwifi.fleet.spec import from_dict
from harness import SRC, ServedModule

OK = b"AT-S.OK\r\n"
WORLD = """
[[ap]]
ssid = "STTest"
bssid = "02:00:00:00:00:01"
channel = 6
rssi = -50
network = "10.0.0.0/16"
"""


class Console(ServedModule):
    """A fleet module's TCP console (no process of its own)."""

    def __init__(self, port: int) -> None:
        super().__init__(None, port)  # type: ignore[arg-type]

    async def ask(self, line: str, data: bytes = b"") -> bytes:
        """Send a command; everything up to its AT-S.OK (boot WINDs held for the first host
        come first)."""
        await self.send(line.encode("latin-1") + b"\r" + data)
        out = await self.read_until(re.compile(rb"AT-S\.(OK|ERROR:[^\r]*)\r\n"))
        assert out.endswith(OK), (line, out)
        return out


def make_fleet(tmp_path: Path, modules: list[dict[str, object]]) -> Fleet:
    (tmp_path / "world.toml").write_text(WORLD)
    spec = from_dict(
        {"fleet": {"state": "fleet", "world": "world.toml"}, "module": modules}, base=tmp_path
    )
    fleet = Fleet(spec, load_world(spec))  # type: ignore[arg-type]
    fleet.build()
    return fleet


async def settled(fleet: Fleet) -> None:
    for m in fleet.members.values():
        await m.device.radio.wait_settled()


async def console(fleet: Fleet, name: str) -> Console:
    c = Console(int(fleet.members[name].transport.port))
    await c.connect()
    return c


def var(reply: bytes, name: str) -> str:
    found = re.search(rb"AT-S\.Var:" + re.escape(name.encode()) + rb"=([^\r]*)\r\n", reply)
    assert found, reply
    return found.group(1).decode()


async def test_a_fleet_of_300_modules_boots_joins_and_answers(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path, [{"name": "m", "count": 300}])
    await fleet.start()
    try:
        await settled(fleet)
        devices = [m.device for m in fleet.members.values()]
        assert all(d.radio.ip_ready for d in devices)
        assert len({d.radio.ip.address for d in devices}) == 300  # one lease each
        assert len({d.config.text("nv_wifi_macaddr") for d in devices}) == 300
        # Lazy state: nothing of a module is on disk until it stores something.
        assert not any((fleet.spec.state / name).exists() for name in fleet.members)
        for name in ("m-0", "m-299"):
            c = await console(fleet, name)
            try:
                boot = await c.ask("AT")
                assert b"+WIND:0:Console active\r\n" in boot
                mac = var(await c.ask("AT+S.GCFG=nv_wifi_macaddr"), "nv_wifi_macaddr")
                assert mac == fleet.members[name].device.config.text("nv_wifi_macaddr")
            finally:
                await c.disconnect()
    finally:
        await fleet.stop()


async def test_a_module_with_no_state_folder_keeps_what_it_writes(tmp_path: Path) -> None:
    modules: list[dict[str, object]] = [{"name": "cfg"}, {"name": "file"}, {"name": "idle"}]
    state = tmp_path / "fleet"
    fleet = make_fleet(tmp_path, modules)
    await fleet.start()
    try:
        await settled(fleet)
        assert not any((state / n).exists() for n in ("cfg", "file", "idle"))
        cfg, file = await console(fleet, "cfg"), await console(fleet, "file")
        try:
            mac = var(await cfg.ask("AT+S.GCFG=nv_wifi_macaddr"), "nv_wifi_macaddr")
            await cfg.ask("AT+S.SCFG=user_desc,kept")
            await cfg.ask("AT+S.WCFG")  # the first write makes the folder, flash and all
            assert (state / "cfg" / "flash" / "config.bin").is_file()
            assert (state / "cfg" / "flash" / "counters.bin").is_file()  # written with it
            await file.ask("AT+S.FSC=1:/note.txt,5", b"hello")  # a user-flash file only
            assert (state / "file" / "userflash" / "note.txt").read_bytes() == b"hello"
            assert var(await file.ask("AT+S.STS=nv_power_cycles"), "nv_power_cycles") == "1"
        finally:
            await cfg.disconnect()
            await file.disconnect()
    finally:
        await fleet.stop()
    assert not (state / "idle").exists()  # it stored nothing: nothing was made
    assert (state / "file" / "flash" / "counters.bin").is_file()  # at power-off

    # The next run of the same fleet file: what was written is there, the rest is factory.
    again = make_fleet(tmp_path, modules)
    await again.start()
    try:
        await settled(again)
        cfg, file, idle = [await console(again, n) for n in ("cfg", "file", "idle")]
        try:
            assert var(await cfg.ask("AT+S.GCFG=user_desc"), "user_desc") == "kept"
            assert var(await cfg.ask("AT+S.GCFG=nv_wifi_macaddr"), "nv_wifi_macaddr") == mac
            assert var(await cfg.ask("AT+S.STS=nv_power_cycles"), "nv_power_cycles") == "2"
            listing = await file.ask("AT+S.FSL")
            assert b"note.txt" in listing, listing
            assert var(await file.ask("AT+S.STS=nv_power_cycles"), "nv_power_cycles") == "2"
            # Never written: a factory-new module each run (docs/behaviour.md, "Fleet").
            assert var(await idle.ask("AT+S.STS=nv_power_cycles"), "nv_power_cycles") == "1"
            await cfg.ask("AT+S.RESET")  # a reset of a module with state counts on disk
            await cfg.read_until(b"+WIND:0:Console active\r\n")
            assert var(await cfg.ask("AT+S.STS=nv_reset_cycles"), "nv_reset_cycles") == "1"
        finally:
            for c in (cfg, file, idle):
                await c.disconnect()
    finally:
        await again.stop()
    assert not (state / "idle").exists()


def test_a_boot_imports_no_protocol_library(tmp_path: Path) -> None:
    """Parts construct their services at boot but import the protocol libraries (HTTP,
    WebSocket, DNS, MQTT codec, TOML) only when a command first needs them."""
    script = f"""
import asyncio, sys
from pathlib import Path
from atwifi.spwf04.device import Device, Options

async def main():
    out = bytearray()
    d = Device(Options(state_dir=Path({str(tmp_path / "state")!r})))
    d.attach(out.extend)
    await d.power_on()
    await d.radio.wait_settled()
    assert b"+WIND:0:Console active" in out, bytes(out)
    await d.shutdown()

asyncio.run(main())
heavy = ("h11", "wsproto", "dns", "aiohttp", "aiosmtplib", "cryptography", "tomllib",
         "atwifi.services.mqtt.codec", "email.utils", "importlib.resources", "tempfile")
print(" ".join(m for m in heavy if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", done.stdout


def _popen_fleet(file: Path, out: int = subprocess.PIPE) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "atwifi", "fleet", str(file)],
        stdout=out,
        stderr=out,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )


def _spawn_fleet(file: Path) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    proc = _popen_fleet(file)
    assert proc.stdout is not None
    ports: dict[str, int] = {}
    while len(ports) < 2:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "no output")
        m = re.search(rb"(\w+): console on raw TCP 127\.0\.0\.1:(\d+)", line)
        if m:
            ports[m.group(1).decode()] = int(m.group(2))
    return proc, ports


async def test_kill_9_of_a_fleet_keeps_what_its_modules_stored(tmp_path: Path) -> None:
    """The batch's boot counters are written without fsync (one syncfs per batch): a kill
    -9 at any moment, booting or not, still leaves every blob old or new, never damaged."""
    file = tmp_path / "fleet.toml"
    file.write_text(
        '[fleet]\nstate = "state"\n\n[[module]]\nname = "a"\n\n[[module]]\nname = "b"\n'
    )
    proc, ports = _spawn_fleet(file)
    a = Console(ports["a"])
    await a.connect()
    try:
        await a.ask("AT+S.SCFG=user_desc,survivor")
        await a.ask("AT+S.WCFG")
    finally:
        await a.disconnect()
    proc.kill()
    proc.wait()
    # Killed again and again at moments spread over its start (imports, a's boot writing its
    # counters, the join, idle): whichever moment it is, nothing may come out damaged.
    for delay in (0.2, 0.4, 0.6, 0.8, 1.0):
        proc = _popen_fleet(file, subprocess.DEVNULL)
        await asyncio.sleep(delay)  # not a timed test: only where the kill lands varies
        proc.kill()
        proc.wait()
    proc, ports = _spawn_fleet(file)
    try:
        a, b = Console(ports["a"]), Console(ports["b"])
        await a.connect()
        await b.connect()
        boot = await a.ask("AT")
        assert b"+WIND:65" not in boot, boot  # the saved configuration is intact
        assert var(await a.ask("AT+S.GCFG=user_desc"), "user_desc") == "survivor"
        cycles = int(var(await a.ask("AT+S.STS=nv_power_cycles"), "nv_power_cycles"))
        assert 2 <= cycles <= 7  # this boot and the earlier ones that got as far as counting
        assert var(await b.ask("AT+S.STS=nv_power_cycles"), "nv_power_cycles") == "1"
        await a.disconnect()
        await b.disconnect()
    finally:
        proc.kill()
        proc.wait()
    assert not (tmp_path / "state" / "b").exists()
    leftovers = list((tmp_path / "state" / "a" / "flash").glob(".*.tmp"))
    assert len(leftovers) <= 1, leftovers  # at most the last killed process's temporary file
