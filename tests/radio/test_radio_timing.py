"""Timing profiles: fast (the default, for CI) and real (a module's durations), chosen by the
world file's [radio] timing or by --timing, which wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from atwifi.services.radio.settings import REAL, Timing
from atwifi.services.radio.world import World, WorldError
from harness import InProcessModule, spawn_serve, stop_serve


def test_profiles() -> None:
    fast, real = Timing.profile("fast"), Timing.profile("real")
    assert fast == Timing()
    # One second of module time is a second: ip_dhcp_timeout 20 waits 20 s.
    assert real("module_second", 20) == 20.0
    assert real.beacon == pytest.approx(0.1024)
    assert all(real(name) == value for name, value in REAL.items())
    assert Timing.profile("real", scale=0.5)("scan") == REAL["scan"] / 2
    with pytest.raises(ValueError):
        Timing.profile("slow")


def test_world_file_chooses_a_profile() -> None:
    assert World.from_dict({}).timing == "fast"
    assert World.from_dict({"radio": {"timing": "real"}}).timing == "real"
    with pytest.raises(WorldError, match="radio.timing"):
        World.from_dict({"radio": {"timing": "warp"}})


@pytest.mark.parametrize(
    ("world", "flag", "want"),
    [
        (None, None, "fast"),
        ("real", None, "real"),
        (None, "real", "real"),
        ("real", "fast", "fast"),
    ],
)
async def test_the_flag_wins_over_the_world(tmp_path: Path, world, flag, want) -> None:
    opts: dict[str, object] = {"timing": flag}
    if world is not None:
        path = tmp_path / "w.toml"
        path.write_text(f'[radio]\ntiming = "{world}"\n\n[[ap]]\nssid = "STTest"\n')
        opts["world"] = path
    m = InProcessModule(tmp_path / "state", **opts)
    try:
        await m.device.power_on()
        await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
        assert m.device.radio.timing == Timing.profile(want)
    finally:
        await m.device.shutdown()


async def test_serve_takes_timing_real_and_ctl_shows_it(tmp_path: Path) -> None:
    from atwifi.control.client import ControlClient

    proc, _port = spawn_serve(tmp_path / "state", "--timing", "real")
    try:
        ctl = ControlClient(tmp_path / "state")
        shown = await ctl.acall("world.show")
        assert shown["radio"]["timing"] == "real"
    finally:
        stop_serve(proc)
