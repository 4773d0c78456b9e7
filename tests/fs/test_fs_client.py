"""The client's file helpers against the virtual module, over a loopback TCP console and
over the SPI console."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atwifi.client import AsyncClient as Client
from atwifi.client.errors import AtCommandError
from atwifi.client.files import FileInfo
from spi_consoles import TwoConsoles


@pytest.fixture(params=["uart", "spi"])
async def client(request, tmp_path: Path) -> AsyncIterator[Client]:
    """The module's console is the UART (raw TCP) or SPI (console_enabled=0, the bus
    stand-in, tests/spi_consoles.py): the same tests on both."""
    m = TwoConsoles(tmp_path)
    if request.param == "spi":
        m.save_console(0)
    await m.start()
    c = await Client.open(m.url(request.param))
    try:
        yield c
    finally:
        await c.close()
        await m.stop()


async def test_upload_download_list_hash(client: Client) -> None:
    data = bytes(range(256)) * 50 + b"AT-S.OK\r\n"
    await client.upload("2:/blob.bin", data)
    assert await client.download("blob.bin") == data
    assert await client.download("blob.bin", 256, 10) == bytes(range(10))
    await client.upload("2:/blob.bin", b"short")  # replaces, not appends
    assert await client.download("2:/blob.bin") == b"short"
    await client.append_file("2:/blob.bin", b"+more")
    assert await client.download("2:/blob.bin") == b"short+more"
    files = await client.list_files()
    assert FileInfo("D", 2, 10, "blob.bin") in files
    assert any(f.flag == "I" and f.name == "index.html" for f in files)
    assert await client.hash("blob.bin", "md5") == hashlib.md5(b"short+more").hexdigest()
    assert await client.hash("blob.bin") == hashlib.sha256(b"short+more").hexdigest()
    assert await client.file_exists("2:/blob.bin")
    assert not await client.file_exists("0:/blob.bin")


async def test_rename_delete_errors(client: Client) -> None:
    await client.upload("0:/a.txt", b"A")
    await client.rename("0:/a.txt", "b.txt")
    assert await client.download("0:/b.txt") == b"A"
    await client.upload("b.txt", b"B")  # replaced where it is: on the external volume
    assert await client.download("0:/b.txt") == b"B"
    assert not await client.file_exists("2:/b.txt")
    await client.delete("b.txt")
    with pytest.raises(AtCommandError) as e:
        await client.download("b.txt")
    assert e.value.number == 51
    with pytest.raises(AtCommandError) as e:
        await client.delete("b.txt")
    assert e.value.number == 56
    with pytest.raises(ValueError):
        await client.upload("a,b", b"")


async def test_full_volume_upload_leaves_nothing(client: Client) -> None:
    with pytest.raises(AtCommandError) as e:
        await client.upload("1:/huge", bytes(70 * 1024))  # user flash holds 64 KiB
    assert e.value.number == 51
    assert not await client.file_exists("1:/huge")


async def test_volumes(client: Client) -> None:
    await client.write_volume({"x.txt": b"x", "y.txt": b"yy"})
    assert [f.name for f in await client.list_files() if f.volume == 0] == ["x.txt", "y.txt"]
    await client.unmount_volume(0)
    assert await client.status("extvol_fs") == "0"
    await client.mount_volume(0)
    await client.unmount_volume(0, erase=True)
    await client.mount_volume(0)
    assert [f for f in await client.list_files() if f.volume == 0] == []
