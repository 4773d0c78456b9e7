"""A new console host starts clean: nothing of the old host's partial line or pending {data}
(issue 14: host B's AT became user_desc; B's commands became a file's content)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness import ServedModule, spawn_serve, stop_serve

OK = b"AT-S.OK\r\n"


@pytest.fixture
async def served_tcp(tmp_path: Path):
    proc, port = spawn_serve(tmp_path / "state")
    m = ServedModule(proc, port)
    await m.connect()
    await m.joined()
    assert (await m.cmd("AT+S.SCFG=console_echo,0")).endswith(OK)
    yield m
    await m.disconnect()
    stop_serve(proc)


async def leave_behind(m: ServedModule, partial: bytes) -> None:
    """Host A types ``partial`` and goes; host B connects."""
    await m.send(partial)
    await asyncio.sleep(0)  # noqa: ASYNC110 - let the bytes go before the socket closes
    await m.disconnect()
    await m.connect()


async def test_a_partial_line_is_not_the_next_hosts(served_tcp) -> None:
    m = served_tcp
    await leave_behind(m, b"AT+S.SCFG=user_desc,")
    assert (await m.cmd("AT")).endswith(OK)
    assert b"AT-S.Var:user_desc=anonymous\r\n" in await m.cmd("AT+S.GCFG=user_desc")


async def test_pending_data_is_not_the_next_hosts(served_tcp) -> None:
    m = served_tcp
    await leave_behind(m, b"AT+S.FSC=2:/f.txt,20\rabc")
    out = await m.cmd("AT")
    assert out.endswith(OK) and b"ERROR" not in out
    assert (await m.cmd("AT+S.FSP=2:/f.txt")).endswith(b"AT-S.ERROR:51:Unable to open file\r\n")
