"""A real `atwifi serve` process: user flash and the external volume survive kill -9."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fs_helpers import ServedModule, spawn_serve, stop_serve

# `atwifi serve` needs the transports (another branch); these run once main has them.
pytest.importorskip("atwifi.transports")

OK = b"AT-S.OK\r\n"
WIND = re.compile(rb"\+WIND:[^\r\n]*\r\n")


async def cmd(m: ServedModule, line: str, data: bytes = b"") -> bytes:
    """The reply without the radio's WINDs, which a served module prints whenever it joins
    (none of these tests' file contents look like one)."""
    return WIND.sub(b"", await m.cmd(line, data))


async def start(state: Path, *extra: str) -> ServedModule:
    proc, port = spawn_serve(state, *extra)
    m = ServedModule(proc, port)
    await m.connect()
    await m.console_active()
    assert (await cmd(m, "AT+S.SCFG=console_echo,0")).endswith(OK)
    return m


async def stop(m: ServedModule, hard: bool) -> None:
    await m.disconnect()
    stop_serve(m.proc, hard=hard)


async def test_kill_9_keeps_user_flash_and_ext(tmp_path: Path) -> None:
    state = tmp_path / "state"
    m = await start(state)
    try:
        assert await cmd(m, "AT+S.FSC=1:/keep.txt,5", b"kept\n") == OK
        assert await cmd(m, "AT+S.FSC=0:/ext.bin,3", b"\x00\r\n") == OK
        assert await cmd(m, "AT+S.FSC=2:/ram.txt,1", b"r") == OK
    finally:
        await stop(m, hard=True)
    m = await start(state)
    try:
        assert await cmd(m, "AT+S.FSP=keep.txt") == b"AT-S.Reading:5:5\r\nkept\n" + OK
        assert await cmd(m, "AT+S.FSP=0:/ext.bin") == b"AT-S.Reading:3:3\r\n\x00\r\n" + OK
        assert await cmd(m, "AT+S.FSP=ram.txt") == b"AT-S.ERROR:51:Unable to open file\r\n"
    finally:
        await stop(m, hard=False)


async def test_ext_folder_from_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "sd"
    folder.mkdir()
    (folder / "host.txt").write_bytes(b"hi")
    m = await start(tmp_path / "state", "--ext-folder", str(folder))
    try:
        assert b"AT-S.File:X\t2\thost.txt\r\n" in await cmd(m, "AT+S.FSL")
        assert await cmd(m, "AT+S.FSC=0:/made.txt,2", b"ok") == OK
        assert (
            await cmd(m, "AT+S.FSC=0:/../out.txt,2", b"no")
            == b"AT-S.ERROR:51:Unable to open file\r\n"
        )
    finally:
        await stop(m, hard=False)
    assert (folder / "made.txt").read_bytes() == b"ok"
    assert not (tmp_path / "out.txt").exists()


def test_sync_client_file_helpers(tmp_path: Path) -> None:
    from atwifi.client import Client

    proc, port = spawn_serve(tmp_path / "state")
    try:
        with Client(f"socket://127.0.0.1:{port}") as c:
            c.wait_ready()  # the module may still be booting: it hears nothing until WIND:0
            data = bytes(range(256)) * 64
            c.upload("1:/blob.bin", data)
            assert c.download("1:/blob.bin") == data
            assert c.hash("blob.bin", "sha1") == hashlib.sha1(data).hexdigest()
            assert any(f.path == "1:/blob.bin" and f.size == len(data) for f in c.list_files())
            c.rename("1:/blob.bin", "b2.bin")
            c.delete("1:/b2.bin")
            assert not c.file_exists("b2.bin")
    finally:
        stop_serve(proc)
