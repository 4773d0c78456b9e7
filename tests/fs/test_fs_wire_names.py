"""Generated file names sent over the console never reach outside their volume's folder."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from fs_helpers import InProcessModule
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# What a console line can carry in a file name: anything but CR, LF and the delimiter.
names = st.one_of(
    st.text(alphabet="./\\a:0123~ \x00\x01\x7f\xe9", min_size=1, max_size=20),
    st.builds(
        lambda v, n: f"{v}:/{n}", st.integers(0, 9), st.text(alphabet="./\\a \x00", max_size=12)
    ),
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(names, min_size=1, max_size=3))
def test_wire_names_stay_inside(batch: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_round(Path(tmp), batch))


async def _round(base: Path, batch: list[str]) -> None:
    (base / "sd").mkdir()
    (base / "outside").write_bytes(b"outside")
    m = InProcessModule(base / "state", ext_folder=base / "sd")
    await m.boot()
    try:
        for name in batch:
            for line, data in (
                (f"AT+S.FSC={name},3", b"abc"),
                (f"AT+S.FSP={name}", b""),
                (f"AT+S.FSR=2:/seed,{name}", b""),
                (f"AT+S.FSD={name}", b""),
                ("AT+S.FSC=2:/seed,1", b"s"),
            ):
                out = await m.cmd(line, data)
                assert out.endswith(b"AT-S.OK\r\n") or out.startswith(b"AT-S.ERROR:"), out
        assert await m.cmd("AT") == b"AT-S.OK\r\n"
    finally:
        await m.device.shutdown()
    assert (base / "outside").read_bytes() == b"outside"
    for dirpath, dirs, files in os.walk(base):
        rel = Path(dirpath).relative_to(base)
        if rel == Path("."):
            assert sorted(dirs) == ["sd", "state"] and files == ["outside"]
        elif rel == Path("sd"):
            assert dirs == []
        elif rel == Path("state"):
            assert set(dirs) <= {"userflash", "flash"}, dirs
        elif rel.parts[:2] == ("state", "userflash"):
            assert dirs == [] and files == []
