"""The flash blob store alone, and the configuration's text forms as properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atwifi.errors import AtError
from atwifi.services.flash import CorruptBlob, Flash
from atwifi.spwf04.config import format_value, parse_value
from atwifi.spwf04.table.config_vars import CONFIG_VARS


def test_write_read_erase(tmp_path):
    flash = Flash(tmp_path / "flash")
    assert flash.read("x") is None
    flash.write("x", b"payload")
    assert flash.read("x") == b"payload"
    flash.write("x", b"")
    assert flash.read("x") == b""
    flash.erase("x")
    assert flash.read("x") is None
    flash.erase("x")  # erasing nothing is fine
    assert not [p for p in (tmp_path / "flash").iterdir() if p.name.endswith(".tmp")]


def test_every_single_byte_damage_is_detected(tmp_path):
    flash = Flash(tmp_path / "flash")
    flash.write("cfg", b'{"user_desc": "x"}')
    path = flash.path("cfg")
    good = path.read_bytes()
    for i in range(len(good)):
        for flip in (0x01, 0x80):
            bad = bytearray(good)
            bad[i] ^= flip
            path.write_bytes(bytes(bad))
            with pytest.raises(CorruptBlob):
                flash.read("cfg")
    for n in range(len(good)):
        path.write_bytes(good[:n])
        with pytest.raises(CorruptBlob):
            flash.read("cfg")
    path.write_bytes(good + b"\x00")
    with pytest.raises(CorruptBlob):
        flash.read("cfg")
    path.write_bytes(good)
    assert flash.read("cfg") == b'{"user_desc": "x"}'


@settings(max_examples=30, deadline=None)
@given(payload=st.binary(max_size=4096))
def test_any_payload_round_trips(tmp_path_factory, payload):
    flash = Flash(tmp_path_factory.mktemp("flash"))
    flash.write("blob", payload)
    assert flash.read("blob") == payload


_texts = st.one_of(
    st.text(alphabet="0123456789abcdefABCDEFxX:.-+ ", max_size=24),
    st.text(max_size=40),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.integers(min_value=0, max_value=2**36).map(hex),
)


@settings(max_examples=600, deadline=None)
@given(var=st.sampled_from(CONFIG_VARS), text=_texts)
def test_config_text_is_refused_with_a_module_error_or_round_trips(var, text):
    try:
        value = parse_value(var, text)
    except AtError as e:
        assert e.number in {8, 32}
        return
    shown = format_value(var, value)
    # What GCFG prints is accepted by SCFG and means the same value (flash stores that text).
    assert parse_value(var, shown) == value
    assert format_value(var, parse_value(var, shown)) == shown


def test_temporary_files_of_dead_writers_are_removed(tmp_path):
    import os
    import subprocess
    import sys

    folder = tmp_path / "flash"
    folder.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    dead_pid = int(dead.stdout)
    stale = folder / f".config.bin.{dead_pid}.tmp"
    stale.write_bytes(b"half a blob")
    live = folder / f".config.bin.{os.getppid()}.tmp"  # a live process: left alone
    live.write_bytes(b"in progress")
    other = folder / ".notes.tmp"
    other.write_bytes(b"not ours")
    Flash(folder)
    assert not stale.exists()
    assert live.exists() and other.exists()
