"""The fault tests use the real peers of the HTTP, transfer (SMTP, TFTP), MQTT and net tests."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _sub in ("http", "transfer", "mqtt", "net"):
    if str(_TESTS / _sub) not in sys.path:
        sys.path.append(str(_TESTS / _sub))
