"""No name leaves its volume; links, folders and FIFOs in a host folder are never followed;
writes are atomic under kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atwifi.services.errors import ServiceError
from atwifi.services.fs import FileSystem
from harness import spwf04_number

SRC = Path(__file__).resolve().parents[2] / "src"

NASTY = [
    "../x",
    "..",
    ".",
    "0:/../x",
    "1:/../../outside/secret",
    "/etc/passwd",
    "0://x",
    "2:/./x",
    "..\\x",
    "a/../../b",
    ".~atwifi123.tmp",
    " x",
    "x ",
    "x\x00y",
    "\x7f",
    "0:/sub",
    "1:/..",
    "3:/../../x",
    "0:/link",
    "C:\\x",
    "~/x",
]

names = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=80),
    st.text(alphabet="./\\\x00:0123~ ab", max_size=12),
    st.builds(
        lambda v, n: f"{v}:/{n}", st.integers(0, 9), st.text(alphabet="./\\ab\x00", max_size=10)
    ),
)


def snapshot(base: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _dirs, files in os.walk(base):
        for f in files:
            p = Path(dirpath, f)
            if not p.is_symlink():
                out[str(p.relative_to(base))] = p.read_bytes()
    return out


def sandbox(base: Path) -> None:
    (base / "outside").mkdir()
    (base / "outside" / "secret").write_bytes(b"secret")
    (base / "ext").mkdir()
    (base / "ext" / "sub").mkdir()
    os.symlink(base / "outside" / "secret", base / "ext" / "link")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(names, min_size=1, max_size=4))
def test_generated_names_stay_inside(batch: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        sandbox(base)
        asyncio.run(_escape_round(base, batch))


async def _escape_round(base: Path, batch: list[str]) -> None:
    fs = FileSystem.standard(base / "state", ramdisk_bytes=16 * 1024, ext_folder=base / "ext")
    await fs.mount_all()
    for name in batch:
        for op in ("write", "append", "rename", "delete", "read"):
            try:
                if op == "write":
                    await fs.write(name, b"data")
                    assert await fs.read(name) == b"data"
                    assert fs.exists(name)
                elif op == "append":
                    await fs.write(name, b"+", append=True)
                elif op == "rename":
                    await fs.rename("2:/seed", name) if fs.exists("2:/seed") else None
                    await fs.write("2:/seed", b"s")
                elif op == "delete":
                    await fs.delete(name)
                else:
                    await fs.read(name)
            except ServiceError as e:
                assert 32 <= spwf04_number(e) <= 59
    snap = snapshot(base)
    assert snap["outside/secret"] == b"secret"
    for rel in snap:
        parts = Path(rel).parts
        assert parts[0] in ("outside", "ext", "state"), rel
        if parts[0] == "ext":
            assert len(parts) == 2, rel  # flat: nothing written below ext/
        if parts[0] == "state":
            assert parts[1] in ("userflash", "extvol.img", "appflash.img"), rel
            if parts[1] == "userflash":
                assert len(parts) == 3, rel
    assert (base / "ext" / "link").is_symlink()
    assert (base / "ext" / "sub").is_dir()


async def test_host_folder_oddities(tmp_path: Path) -> None:
    sandbox(tmp_path)
    ext = tmp_path / "ext"
    os.mkfifo(ext / "fifo")
    (ext / "caf\xe9").write_bytes(b"x")
    (ext / ".~atwifiXYZ.tmp").write_bytes(b"half a write")
    (ext / "plain").write_bytes(b"plain")
    fs = FileSystem.standard(tmp_path / "state", ramdisk_bytes=2048, ext_folder=ext)
    await fs.mount_all()
    assert not (ext / ".~atwifiXYZ.tmp").exists()  # a crashed write's leftover is removed
    assert [(e.name, e.size) for e in await fs.list() if e.volume == 0] == [("plain", 5)]
    for name in ("0:/link", "0:/sub", "0:/fifo"):
        assert not fs.exists(name)
        for call, number in (
            (fs.read(name), 51),
            (fs.hash(name), 51),
            (fs.delete(name), 56),
            (fs.write(name, b"x"), 51),
            (fs.write(name, b"x", append=True), 51),
        ):
            with pytest.raises(ServiceError) as e:
                await call
            assert spwf04_number(e.value) == number, (name, number)
        with pytest.raises(ServiceError) as e:
            await fs.rename("0:/plain", name)
        assert spwf04_number(e.value) == 55
    assert (tmp_path / "outside" / "secret").read_bytes() == b"secret"
    assert (ext / "link").is_symlink()


async def test_missing_ext_folder_is_not_mounted(tmp_path: Path) -> None:
    fs = FileSystem.standard(tmp_path / "state", ramdisk_bytes=2048, ext_folder=tmp_path / "none")
    await fs.mount_all()
    assert fs.status()["extvol_fs"] == 0
    assert not (tmp_path / "none").exists()


WRITER = """
import asyncio, sys
from atwifi.services.fs import FileSystem

async def main():
    fs = FileSystem.standard(sys.argv[1], ramdisk_bytes=2048)
    await fs.mount_all()
    i = 0
    while True:
        await fs.write(sys.argv[2], bytes([65 + i % 2]) * int(sys.argv[3]))
        if i == 1:
            print("ready", flush=True)
        i += 1

asyncio.run(main())
"""


@pytest.mark.parametrize(("name", "size"), [("1:/f", 60_000), ("0:/f", 1_500_000)])
def test_kill_mid_write_leaves_old_or_new(tmp_path: Path, name: str, size: int) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(state), name, str(size)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == b"ready\n"
        proc.send_signal(signal.SIGKILL)  # while it keeps rewriting the file
        proc.wait(timeout=30)
        proc.stdout.close()
        data = asyncio.run(_read_back(state, name))
        assert data in (b"A" * size, b"B" * size)


async def _read_back(state: Path, name: str) -> bytes:
    fs = FileSystem.standard(state, ramdisk_bytes=2048)
    await fs.mount_all()
    return await fs.read(name)
