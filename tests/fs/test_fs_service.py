"""The volumes service on its own: names, volumes, capacity, protection, mount state."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from atwifi.services.errors import ServiceError
from atwifi.services.fs import APP, EXT, RAM, USER, FileSystem
from atwifi.services.fs.filesystem import USER_CAPACITY
from atwifi.services.fs.image import pack
from harness import spwf04_number


async def make(
    tmp_path: Path, *, ram_kb: int = 16, ext_folder: Path | None = None, ext: bool = True
) -> FileSystem:
    fs = FileSystem.standard(
        tmp_path / "state", ramdisk_bytes=ram_kb * 1024, ext_enabled=ext, ext_folder=ext_folder
    )
    await fs.mount_all()
    return fs


def err(e: pytest.ExceptionInfo[ServiceError]) -> int:
    return spwf04_number(e.value)


async def test_factory_state(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    assert fs.status() == {"app_fs": 1, "user_fs": 1, "extvol_fs": 1}
    names = {(e.flag, e.name) for e in await fs.list()}
    assert {("I", "index.html"), ("I", "firstset.html"), ("I", "uPython_test.py")} <= names
    assert b"print" in await fs.read("3:/uPython_test.py")
    assert fs.exists("firstset.html")


async def test_ext_disabled(tmp_path: Path) -> None:
    fs = await make(tmp_path, ext=False)
    assert fs.status()["extvol_fs"] == 0
    with pytest.raises(ServiceError) as e:
        await fs.mount(EXT)
    assert err(e) == 59
    with pytest.raises(ServiceError) as e:
        await fs.write("0:/a", b"x")
    assert err(e) == 50


async def test_write_read_append_default_volume(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    await fs.write("a.txt", b"hello")
    await fs.write("a.txt", b" world", append=True)
    assert await fs.read("2:/a.txt") == b"hello world"
    assert await fs.read("a.txt", 6) == b"world"
    assert await fs.read("a.txt", 6, 3) == b"wor"
    assert await fs.read("a.txt", 6, 100) == b"world"
    assert await fs.read("a.txt", 11) == b""
    with pytest.raises(ServiceError) as e:
        await fs.read("a.txt", 12)
    assert err(e) == 52
    entries = [e for e in await fs.list() if e.volume == RAM]
    assert [(e.flag, e.name, e.size) for e in entries] == [("D", "a.txt", 11)]


async def test_bare_names_search_order(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    await fs.write("1:/f", b"user")
    assert await fs.read("f") == b"user"
    await fs.write("0:/f", b"ext")
    assert await fs.read("f") == b"ext"
    await fs.write("2:/f", b"ram")
    assert await fs.read("f") == b"ram"
    # Bare appends go to the file a bare read finds.
    await fs.write("f", b"+", append=True)
    assert await fs.read("2:/f") == b"ram+"
    await fs.delete("f")
    assert await fs.read("f") == b"ext"
    # A user copy of a factory page shadows it, and a bare write of a name that exists only
    # on the read-only application flash lands on the RAM disk.
    await fs.write("firstset.html", b"mine")
    assert await fs.read("firstset.html") == b"mine"
    assert b"<html>" in await fs.read("3:/firstset.html")


async def test_missing_and_bad_names(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    for call, number in (
        (fs.read("nope"), 51),
        (fs.hash("nope"), 51),
        (fs.delete("nope"), 56),
        (fs.rename("nope", "x"), 55),
        (fs.read("9:/x"), 50),
        (fs.write("7:/x", b""), 50),
        (fs.write("../x", b""), 51),
        (fs.write("2:/a/b", b""), 51),
        (fs.write("..", b""), 51),
        (fs.write("2:/", b""), 51),
        (fs.write("", b""), 51),
        (fs.write("a\x00b", b""), 51),
        (fs.write("a\nb", b""), 51),
        (fs.write("a\\b", b""), 51),
        (fs.write("caf\xe9", b""), 51),
        (fs.write("x" * 65, b""), 51),
        (fs.delete("x" * 65), 56),
    ):
        with pytest.raises(ServiceError) as e:
            await call
        assert err(e) == number
    await fs.write("x" * 64, b"ok")
    assert await fs.read("x" * 64) == b"ok"


async def test_rename(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    await fs.write("0:/a", b"A")
    await fs.write("0:/b", b"B")
    with pytest.raises(ServiceError) as e:
        await fs.rename("0:/a", "b")
    assert err(e) == 55
    with pytest.raises(ServiceError) as e:
        await fs.rename("0:/a", "2:/c")
    assert err(e) == 55
    with pytest.raises(ServiceError) as e:
        await fs.rename("3:/index.html", "x.html")
    assert err(e) == 55
    await fs.rename("0:/a", "0:/c")
    assert await fs.read("0:/c") == b"A"
    assert not fs.exists("0:/a")
    await fs.write("r", b"R")
    await fs.rename("r", "s")
    assert await fs.read("2:/s") == b"R"


async def test_app_flash_read_only_and_lock(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    with pytest.raises(ServiceError) as e:
        await fs.write("3:/x", b"")
    assert err(e) == 51
    with pytest.raises(ServiceError) as e:
        await fs.delete("3:/index.html")
    assert err(e) == 56
    with pytest.raises(ServiceError) as e:
        await fs.unmount(APP, erase=True)
    assert err(e) == 59
    changes = []
    fs.on_change = lambda: changes.append(fs.status()["app_fs"])
    await fs.replace_volume(APP, {"index.html": b"<p>locked</p>", "__LOCKED__": b""})
    assert fs.status()["app_fs"] == 2 and changes == [2]
    assert [e for e in await fs.list(console=True) if e.volume == APP] == []
    assert {e.name for e in await fs.list() if e.volume == APP} == {"index.html", "__LOCKED__"}
    with pytest.raises(ServiceError) as e:
        await fs.read("3:/index.html", console=True)
    assert err(e) == 51
    # Services (the web server) still read it.
    assert await fs.read("index.html") == b"<p>locked</p>"
    # The update is kept in the state folder.
    fs2 = await make(tmp_path)
    assert fs2.status()["app_fs"] == 2


async def test_hash(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    data = os.urandom(100_000)
    await fs.write("0:/h", data)
    for algo in ("sha1", "sha224", "sha256", "md5"):
        assert await fs.hash("h", algo) == hashlib.new(algo, data).hexdigest()
    await fs.write("1:/h", data[:10])
    assert await fs.hash("1:/h", "md5") == hashlib.md5(data[:10]).hexdigest()


async def test_ram_disk_capacity(tmp_path: Path) -> None:
    fs = await make(tmp_path, ram_kb=2)
    # Manual 6.23: 2 KB of RAM disk hold at most two files.
    await fs.write("a", b"1")
    await fs.write("b", b"")
    with pytest.raises(ServiceError) as e:
        await fs.write("c", b"1")
    assert err(e) == 51
    assert not fs.exists("2:/c")
    await fs.delete("b")
    await fs.write("a", b"x" * 1023, append=True)  # 1024 bytes: still one block
    with pytest.raises(ServiceError) as e:
        await fs.write("a", b"x" * 1025, append=True)
    assert await fs.read("a") == b"1" + b"x" * 1023  # nothing partial


async def test_user_flash_full_nothing_partial(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    await fs.write("1:/big", b"a" * (USER_CAPACITY - 256))
    with pytest.raises(ServiceError) as e:
        await fs.write("1:/more", b"b" * 257)
    assert err(e) == 51
    with pytest.raises(ServiceError) as e:
        await fs.write("1:/big", b"b" * 257, append=True)
    assert err(e) == 51
    await fs.write("1:/more", b"b" * 256)
    assert await fs.read("1:/big") == b"a" * (USER_CAPACITY - 256)
    # Replacing a file counts its new size only.
    await fs.write("1:/big", b"c" * (USER_CAPACITY - 256))
    assert sorted(os.listdir(tmp_path / "state" / "userflash")) == ["big", "more"]


async def test_persistence_and_ram_loss(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    await fs.write("1:/keep", b"user")
    await fs.write("0:/keep", b"ext")
    await fs.write("2:/gone", b"ram")
    fs2 = await make(tmp_path)  # what the part does at every reset
    assert await fs2.read("1:/keep") == b"user"
    assert await fs2.read("0:/keep") == b"ext"
    assert not fs2.exists("gone")


async def test_mount_unmount_erase(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    await fs.write("2:/r", b"ram")
    await fs.write("1:/u", b"user")
    await fs.unmount(RAM)
    assert not fs.exists("r")
    with pytest.raises(ServiceError) as e:
        await fs.read("2:/r")
    assert err(e) == 50
    with pytest.raises(ServiceError) as e:
        await fs.unmount(RAM)
    assert err(e) == 59
    await fs.mount(RAM)
    await fs.mount(RAM)  # already mounted: fine
    assert await fs.read("r") == b"ram"
    await fs.unmount(USER, erase=True)
    assert fs.status()["user_fs"] == 0
    await fs.mount(USER)
    assert [e for e in await fs.list() if e.volume == USER] == []
    with pytest.raises(ServiceError) as e:
        await fs.mount(7)
    assert err(e) == 59
    await fs.unmount(APP)
    assert fs.status()["app_fs"] == 0
    assert not fs.exists("index.html")


async def test_write_image(tmp_path: Path) -> None:
    fs = await make(tmp_path)
    await fs.write("0:/old", b"old")
    await fs.write_image(EXT, pack({"a.txt": b"A", "b.bin": bytes(range(256))}))
    assert {e.name for e in await fs.list() if e.volume == EXT} == {"a.txt", "b.bin"}
    blob = pack({"c": b"C"})
    for bad in (blob[:-1], blob[:-4] + b"\0\0\0\0", b"", b"AWFS" + blob[4:-1] + b"x"):
        with pytest.raises(ServiceError) as e:
            await fs.write_image(EXT, bad)
        assert err(e) == 50
    assert {e.name for e in await fs.list() if e.volume == EXT} == {"a.txt", "b.bin"}
    with pytest.raises(ServiceError) as e:
        await fs.write_image(EXT, pack({"huge": bytes(3 * 1024 * 1024)}))
    assert err(e) == 50
    # A corrupted image file does not mount, and FSWRITE repairs it.
    (tmp_path / "state" / "extvol.img").write_bytes(b"garbage")
    fs2 = await make(tmp_path)
    assert fs2.status()["extvol_fs"] == 0
    await fs2.write_image(EXT, blob)
    assert fs2.status()["extvol_fs"] == 1
    assert await fs2.read("0:/c") == b"C"


async def test_snapshot_outlives_a_rewrite(tmp_path: Path) -> None:
    fs = await make(tmp_path, ext_folder=tmp_path)
    for name in ("0:/s", "1:/s", "2:/s"):
        await fs.write(name, b"old" * 10)
        snap = await fs.open(name)
        try:
            await fs.write(name, b"new")
            assert snap.size == 30
            assert await snap.read(0, 100) == b"old" * 10
            assert await snap.read(27, 10) == b"old"
        finally:
            snap.close()
        assert await fs.read(name) == b"new"


async def test_ext_folder_gone_under_a_mounted_volume(tmp_path: Path) -> None:
    folder = tmp_path / "sd"
    folder.mkdir()
    fs = await make(tmp_path, ext_folder=folder)
    await fs.write("0:/a", b"a")
    (folder / "a").unlink()
    folder.rmdir()
    with pytest.raises(ServiceError) as e:
        await fs.list()
    assert err(e) == 57
    with pytest.raises(ServiceError) as e:
        await fs.read("0:/a")
    assert err(e) == 51
    with pytest.raises(ServiceError) as e:
        await fs.write("0:/b", b"b")
    assert err(e) in (51, 54)
    assert not folder.exists()  # the user's folder is not made again behind their back
    await fs.unmount(EXT)
    assert [e.volume for e in await fs.list()] == [APP] * 4
