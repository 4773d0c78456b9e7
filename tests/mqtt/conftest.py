from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mqtt_peers import Broker, Certs


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return Certs.make(tmp_path / "certs")


@pytest.fixture
async def broker(tmp_path: Path, certs: Certs) -> AsyncIterator[Broker]:
    b = await Broker(tmp_path / "broker", certs=certs, users={"alice": "s3cret"}).start()
    yield b
    await b.stop()


class TraceNotes:
    """Collects the device's trace notes (what `--trace FILE` records as notes)."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)

    def __getattr__(self, name: str) -> object:  # any other trace hook: ignore
        return lambda *a, **k: None

    def find(self, needle: str) -> str:
        hits = [n for n in self.notes if needle in n]
        assert hits, f"no trace note with {needle!r} in {self.notes}"
        return hits[-1]


@pytest.fixture
def notes(quiet_module) -> TraceNotes:
    t = TraceNotes()
    quiet_module.device.trace = t
    return t
