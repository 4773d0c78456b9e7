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
