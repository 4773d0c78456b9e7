"""Shared fixtures; the harness behind them is tests/harness.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness import InProcessModule, ServedModule, spawn_serve, stop_serve


@pytest.fixture
async def module(tmp_path: Path) -> AsyncIterator[InProcessModule]:
    m = InProcessModule(tmp_path / "state")
    await m.boot()
    yield m
    await m.device.shutdown()


@pytest.fixture
async def quiet_module(module: InProcessModule) -> InProcessModule:
    """A booted module with echo off, as most drivers set it."""
    assert await module.cmd("AT+S.SCFG=console_echo,0", echo=True) == b"AT-S.OK\r\n"
    return module


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[ServedModule]:
    proc, port = spawn_serve(tmp_path / "state")
    m = ServedModule(proc, port)
    await m.connect()
    await m.joined()
    yield m
    await m.disconnect()
    stop_serve(proc)
