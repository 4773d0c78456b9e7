"""The file commands through the bytes a host sends (in-process module)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from atwifi.services.fs import APP
from atwifi.services.fs.image import pack

OK = b"AT-S.OK\r\n"


def error(n: int, text: str) -> bytes:
    return f"AT-S.ERROR:{n}:{text}\r\n".encode()


E_ACCESS = error(50, "Unable to access filesystem")
E_OPEN = error(51, "Unable to open file")
E_SEEK = error(52, "Unable to seek file")
E_RENAME = error(55, "Unable to rename file")
E_DELETE = error(56, "Unable to delete file")
E_MOUNT = error(59, "Unable to (un)mount volume")
E_LONG = error(32, "Argument exceeds allowed size")
E_RANGE = error(8, "Invalid value")


async def fsc(m, name: str, data: bytes) -> bytes:
    return await m.cmd(f"AT+S.FSC={name},{len(data)}", data)


async def files(m) -> list[bytes]:
    out = await m.cmd("AT+S.FSL")
    assert out.endswith(OK), out
    return out[: -len(OK)].splitlines()


async def reset(m) -> None:
    assert await m.cmd("AT+S.RESET", echo=False) == OK
    await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    await m.settle()  # the radio's join WINDs, whatever they are
    if m.device.config.get("console_echo"):  # not saved with WCFG: back after the reset
        assert await m.cmd("AT+S.SCFG=console_echo,0", echo=True) == OK


async def sts(m, name: str) -> bytes:
    return await m.cmd(f"AT+S.STS={name}")


async def test_create_append_list_print(quiet_module) -> None:
    m = quiet_module
    payload = b"AT-S.OK\r\n\x00\x1b+WIND:1\r"
    assert await fsc(m, "a.txt", payload) == OK
    assert await fsc(m, "a.txt", b"tail") == OK
    assert b"AT-S.File:D\t" + str(len(payload) + 4).encode() + b"\ta.txt" in await files(m)
    m.send(b"AT+S.FSP=a.txt\r")
    head = await m.read_until(b"\r\n")
    assert head == f"AT-S.Reading:{len(payload) + 4}:{len(payload) + 4}\r\n".encode()
    body = await m.read_until(payload + b"tail" + OK)
    assert body == payload + b"tail" + OK
    n = len(payload) + 4
    assert (
        await m.cmd("AT+S.FSP=2:/a.txt,1,4")
        == f"AT-S.Reading:4:{n}\r\n".encode() + payload[1:5] + OK
    )
    assert await m.cmd(f"AT+S.FSP=a.txt,{n}") == f"AT-S.Reading:0:{n}\r\n".encode() + OK
    assert await m.cmd(f"AT+S.FSP=a.txt,{n + 1}") == E_SEEK
    m.send(b"AT+S.FSP=a.txt,0,1000\r")
    assert await m.read_until(b"\r\n") == f"AT-S.Reading:{n}:{n}\r\n".encode()
    assert await m.read_until(payload + b"tail" + OK) == payload + b"tail" + OK
    assert await m.cmd("AT+S.FSP=nope") == E_OPEN


async def test_factory_files_and_status(quiet_module) -> None:
    m = quiet_module
    listing = await files(m)
    assert b"AT-S.File:I\t" in b"\n".join(listing)
    assert any(line.endswith(b"\tuPython_test.py") for line in listing)
    assert any(line.endswith(b"\tfirstset.html") for line in listing)
    assert await sts(m, "app_fs") == b"AT-S.Var:app_fs=1\r\n" + OK
    assert await sts(m, "user_fs") == b"AT-S.Var:user_fs=1\r\n" + OK
    assert await sts(m, "extvol_fs") == b"AT-S.Var:extvol_fs=1\r\n" + OK
    out = await m.cmd("AT+S.FSP=/index.html")  # SPWF01-style name
    assert out.startswith(b"AT-S.Reading:") and b"<html>" in out


async def test_errors_of_each_command(quiet_module) -> None:
    m = quiet_module
    assert await fsc(m, "x" * 65, b"1") == E_LONG
    assert await fsc(m, "x" * 64, b"1") == OK
    for bad in ("../x", "1:/../../x", "/etc/passwd", "a\\b", "2:/", "..", ".~atwifi.tmp"):
        assert await fsc(m, bad, b"1") == E_OPEN, bad
    assert await fsc(m, "3:/x", b"1") == E_OPEN  # application flash is read-only
    assert await fsc(m, "8:/x", b"1") == E_ACCESS
    assert await m.cmd("AT+S.FSD=nope") == E_DELETE
    assert await m.cmd("AT+S.FSD=3:/index.html") == E_DELETE
    assert await m.cmd("AT+S.FSR=nope,x") == E_RENAME
    assert await fsc(m, "r1", b"1") == OK
    assert await fsc(m, "r2", b"2") == OK
    assert await m.cmd("AT+S.FSR=r1,r2") == E_RENAME
    assert await m.cmd("AT+S.FSR=r1,0:/r3") == E_RENAME
    assert await m.cmd("AT+S.FSR=r1,r3") == OK
    assert await m.cmd("AT+S.FSD=r3") == OK
    assert await m.cmd("AT+S.FSP=r3") == E_OPEN
    assert await m.cmd("AT+S.HASH=0,nope") == E_OPEN
    assert await m.cmd("AT+S.HASH=4,r2") == E_RANGE
    assert await m.cmd("AT+S.FSM=7") == E_MOUNT
    assert await m.cmd("AT+S.FSU=3,1") == E_MOUNT
    assert await m.cmd("AT+S.FSWRITE=3", b"bad") == E_ACCESS
    # FSUPDATE/FWUPDATE: tests/http/test_updates.py.
    assert await m.cmd("AT") == OK  # and the module goes on


async def test_hash(quiet_module) -> None:
    m = quiet_module
    data = bytes(range(256)) * 40
    assert await fsc(m, "0:/h.bin", data) == OK
    for fn, algo, label in (
        (0, "sha1", "SHA1"),
        (1, "sha224", "SHA224"),
        (2, "sha256", "SHA256"),
        (3, "md5", "MD5"),
    ):
        want = f"AT-S.{label}:{hashlib.new(algo, data).hexdigest()}\r\n".encode() + OK
        assert await m.cmd(f"AT+S.HASH={fn},h.bin") == want
    assert (
        await m.cmd("AT+S.HASH=,h.bin")
        == f"AT-S.SHA1:{hashlib.sha1(data).hexdigest()}\r\n".encode() + OK
    )


async def test_fsl_into_a_file(quiet_module) -> None:
    m = quiet_module
    assert await fsc(m, "0:/e", b"12") == OK
    listing = await files(m)
    assert await m.cmd("AT+S.FSL=2:/dir.txt") == OK
    out = await m.cmd("AT+S.FSP=2:/dir.txt")
    assert out.endswith(b"\r\n".join(listing) + b"\r\n" + OK)
    assert await m.cmd("AT+S.FSL=3:/dir.txt") == E_OPEN


async def test_mount_unmount_erase(quiet_module) -> None:
    m = quiet_module
    assert await fsc(m, "1:/u", b"user") == OK
    assert await m.cmd("AT+S.FSU=1") == OK
    assert await sts(m, "user_fs") == b"AT-S.Var:user_fs=0\r\n" + OK
    assert await m.cmd("AT+S.FSP=1:/u") == E_ACCESS
    assert await m.cmd("AT+S.FSU=1") == E_MOUNT
    assert await m.cmd("AT+S.FSM=1") == OK
    assert (await m.cmd("AT+S.FSP=u")).endswith(b"user" + OK)
    assert await m.cmd("AT+S.FSU=1,1") == OK
    assert await m.cmd("AT+S.FSM=1") == OK
    assert await m.cmd("AT+S.FSP=u") == E_OPEN
    # FSU with no volume: volume 0 (manual default).
    assert await m.cmd("AT+S.FSU") == OK
    assert await sts(m, "extvol_fs") == b"AT-S.Var:extvol_fs=0\r\n" + OK
    assert await m.cmd("AT+S.FSM") == OK
    assert await sts(m, "extvol_fs") == b"AT-S.Var:extvol_fs=1\r\n" + OK
    assert await m.cmd("AT+S.FSU=3") == OK
    assert await sts(m, "app_fs") == b"AT-S.Var:app_fs=0\r\n" + OK
    assert not any(line.startswith(b"AT-S.File:I") for line in await files(m))


async def test_fswrite(quiet_module) -> None:
    m = quiet_module
    assert await fsc(m, "0:/old", b"old") == OK
    image = pack({"a.txt": b"A" * 10, "b.bin": b"\r\n\x00"})
    assert await m.cmd(f"AT+S.FSWRITE={len(image)}", image) == OK
    ext = [line for line in await files(m) if line.startswith(b"AT-S.File:X")]
    assert ext == [b"AT-S.File:X\t10\ta.txt", b"AT-S.File:X\t3\tb.bin"]
    broken = image[:-1] + bytes([image[-1] ^ 1])
    assert await m.cmd(f"AT+S.FSWRITE={len(broken)}", broken) == E_ACCESS
    assert [line for line in await files(m) if line.startswith(b"AT-S.File:X")] == ext


async def test_protected_application_flash(quiet_module) -> None:
    m = quiet_module
    await m.device.fs.replace_volume(APP, {"index.html": b"<p>x</p>", "__LOCKED__": b""})
    assert await sts(m, "app_fs") == b"AT-S.Var:app_fs=2\r\n" + OK
    assert not any(line.startswith(b"AT-S.File:I") for line in await files(m))
    assert await m.cmd("AT+S.FSP=3:/index.html") == E_OPEN
    assert await m.cmd("AT+S.FSP=index.html") == E_OPEN
    assert await m.device.fs.read("index.html") == b"<p>x</p>"  # the web server still can


async def test_full_ram_disk(quiet_module) -> None:
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=ramdisk_memsize,2") == OK
    assert await m.cmd("AT+S.WCFG") == OK
    await reset(m)
    assert await fsc(m, "a", b"1" * 1000) == OK
    assert await fsc(m, "b", b"2" * 1000) == OK
    assert await fsc(m, "c", b"3") == E_OPEN  # manual 6.23: 2 KB hold two files
    assert await fsc(m, "a", b"1" * 25) == E_OPEN  # would take a second block
    assert (await m.cmd("AT+S.FSP=a")).startswith(b"AT-S.Reading:1000:1000\r\n")
    assert not any(line.endswith(b"\tc") for line in await files(m))


async def test_reset_loses_ram_keeps_flash(quiet_module) -> None:
    m = quiet_module
    assert await fsc(m, "2:/ram", b"r") == OK
    assert await fsc(m, "1:/user", b"u") == OK
    assert await fsc(m, "0:/ext", b"x") == OK
    await reset(m)
    assert await m.cmd("AT+S.FSP=ram") == E_OPEN
    assert (await m.cmd("AT+S.FSP=user")).endswith(b"u" + OK)
    assert (await m.cmd("AT+S.FSP=ext")).endswith(b"x" + OK)
    await m.restart()
    assert await m.cmd("AT+S.SCFG=console_echo,0", echo=True) == OK
    assert (await m.cmd("AT+S.FSP=1:/user")).endswith(b"u" + OK)
    assert (await m.cmd("AT+S.FSP=0:/ext")).endswith(b"x" + OK)


async def test_ext_volume_disabled(quiet_module) -> None:
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=ext_volume,0") == OK
    assert await m.cmd("AT+S.WCFG") == OK
    await reset(m)
    assert await sts(m, "extvol_fs") == b"AT-S.Var:extvol_fs=0\r\n" + OK
    assert await m.cmd("AT+S.FSM=0") == E_MOUNT
    image = pack({"a": b"a"})
    assert await m.cmd(f"AT+S.FSWRITE={len(image)}", image) == E_ACCESS


async def test_ext_folder_option(tmp_path: Path) -> None:
    from fs_helpers import InProcessModule

    folder = tmp_path / "sd"
    folder.mkdir()
    (folder / "hello.txt").write_bytes(b"from the host")
    m = InProcessModule(tmp_path / "state", ext_folder=folder)
    await m.boot()
    try:
        assert await m.cmd("AT+S.SCFG=console_echo,0", echo=True) == OK
        assert b"AT-S.File:X\t13\thello.txt" in await files(m)
        assert await fsc(m, "0:/new.txt", b"from the module") == OK
        assert (folder / "new.txt").read_bytes() == b"from the module"
        assert await fsc(m, "0:/../escape", b"x") == E_OPEN
        assert not (tmp_path / "escape").exists()
        assert sorted(p.name for p in folder.iterdir()) == ["hello.txt", "new.txt"]
    finally:
        await m.device.shutdown()


async def test_big_file_in_pieces(tmp_path: Path) -> None:
    from fs_helpers import InProcessModule

    folder = tmp_path / "sd"
    folder.mkdir()
    data = bytes(range(251)) * 4000  # ~1 MB: several pieces
    (folder / "big.bin").write_bytes(data)
    m = InProcessModule(tmp_path / "state", ext_folder=folder)
    await m.boot()
    try:
        m.send(b"AT+S.SCFG=console_echo,0\r")
        await m.reply()
        m.send(b"AT+S.FSP=big.bin,7\r")
        head = await m.read_until(b"\r\n")
        assert head == f"AT-S.Reading:{len(data) - 7}:{len(data)}\r\n".encode()
        body = await m.read_until(data[7:] + OK)
        assert body == data[7:] + OK
        assert await m.cmd("AT+S.HASH=2,0:/big.bin") == (
            f"AT-S.SHA256:{hashlib.sha256(data).hexdigest()}\r\n".encode() + OK
        )
    finally:
        await m.device.shutdown()
