"""The control channel's wire format and where its socket lives.

One JSON object per line, both ways. Request: ``{"id": 1, "verb": "ap.add", "args": {...}}``.
Reply: ``{"id": 1, "ok": true, "result": ...}`` or ``{"id": 1, "ok": false, "error": "..."}``.
The socket is ``<state_dir>/ctl.sock``, a Unix socket next to the module's flash.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SOCKET_NAME = "ctl.sock"
MAX_LINE = 1 << 20  # a request or reply larger than this is refused
_SUN_PATH_MAX = 100  # sockaddr_un holds 108 bytes; keep a margin


class ControlError(Exception):
    """A control request failed; the text says why."""


def socket_path(state_dir: Path) -> Path:
    return Path(state_dir) / SOCKET_NAME


@contextlib.contextmanager
def bindable(path: Path) -> Iterator[str]:
    """A name for ``path`` short enough for a Unix socket address: the path itself, or the
    same file reached through an open descriptor of its folder (Linux /proc), because deep
    test folders easily pass the 108-byte limit."""
    text = str(path)
    if len(os.fsencode(text)) <= _SUN_PATH_MAX or not Path("/proc/self/fd").is_dir():
        yield text
        return
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=str).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("a JSON object expected")
    return obj
