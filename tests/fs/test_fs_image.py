"""The volume image format of FSWRITE and extvol.img."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atwifi.services.fs.image import MAGIC, ImageError, pack, unpack

names = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/\\"),
    min_size=1,
    max_size=64,
).filter(lambda n: n not in (".", "..") and not n.startswith(".~atwifi"))


@given(st.dictionaries(names, st.binary(max_size=300), max_size=8))
def test_round_trip(files: dict[str, bytes]) -> None:
    blob = pack(files)
    assert blob.startswith(MAGIC)
    assert unpack(blob) == files


@given(st.dictionaries(names, st.binary(max_size=100), min_size=1, max_size=4), st.data())
def test_any_damage_is_refused(files: dict[str, bytes], data: st.DataObject) -> None:
    blob = bytearray(pack(files))
    i = data.draw(st.integers(0, len(blob) - 1))
    blob[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(ImageError):
        unpack(bytes(blob))
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(ImageError):
        unpack(pack(files)[:cut])


def test_bad_names_are_refused() -> None:
    for bad in ("", "..", "a/b", "x" * 65, "caf\xe9"):
        with pytest.raises(ImageError):
            pack({bad: b""})


def test_empty() -> None:
    assert unpack(pack({})) == {}
    assert len(pack({})) == 16
