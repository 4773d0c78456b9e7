"""Modules in chosen worlds, with chosen configuration, and their control channel.

Import ``boot`` into a test module to use it as a fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from atwifi.control import ControlClient
from harness import InProcessModule

Boot = Callable[..., Awaitable[InProcessModule]]


@pytest.fixture
async def boot(tmp_path: Path) -> AsyncIterator[Boot]:
    """``await boot(world=TOML or None, echo=False, **config)``: a module whose saved
    configuration holds ``config`` before it powers on (so the first join already uses it)."""
    made: list[InProcessModule] = []

    async def make(
        world: str | None = None, echo: bool = False, **config: object
    ) -> InProcessModule:
        opts: dict[str, object] = {}
        if world is not None:
            path = tmp_path / f"world{len(made)}.toml"
            path.write_text(world)
            opts["world"] = path
        m = InProcessModule(tmp_path / f"state{len(made)}", **opts)
        m.device.config.set("console_echo", "1" if echo else "0")
        for name, value in config.items():
            m.device.config.set(name, str(value))
        m.device.config.save()
        made.append(m)
        # Not m.boot(): these tests read the join's WINDs themselves, whatever boot() waits for.
        await m.device.power_on()
        await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
        return m

    yield make
    for m in made:
        await m.device.shutdown()


def ssid_config(ssid: str) -> dict[str, object]:
    raw = ssid.encode()
    return {"wifi_ssid": (raw + b"\0").hex(":"), "wifi_ssid_len": len(raw)}


def numbers(lines: list[bytes]) -> list[int]:
    """The WIND numbers among ``lines``."""
    return [int(line.split(b":")[1]) for line in lines if line.startswith(b"+WIND:")]


async def ok(m: InProcessModule, line: str) -> bytes:
    """Send a command (echo off); return the lines before AT-S.OK, asserting it came."""
    out = await m.cmd(line, echo=False)
    assert out.endswith(b"AT-S.OK\r\n"), out
    return out[: -len(b"AT-S.OK\r\n")]


def ctl(m: InProcessModule) -> ControlClient:
    return ControlClient(m.options.state_dir)


async def wind(m: InProcessModule, prefix: bytes) -> bytes:
    """Wait for the next line starting with ``prefix``; return it whole (without CR LF)."""
    await m.read_until(prefix)
    rest = await m.read_until(b"\r\n")
    return prefix + rest[:-2]


async def winds_until(m: InProcessModule, prefix: bytes) -> list[bytes]:
    """Every line up to and including the first that starts with ``prefix``."""
    lines: list[bytes] = []
    while True:
        line = (await m.read_until(b"\r\n"))[:-2]
        lines.append(line)
        if line.startswith(prefix):
            return lines
