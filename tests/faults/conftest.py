"""The fault tests use the real peers of the HTTP, transfer (SMTP, TFTP) and MQTT tests."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _sub in ("http", "transfer", "mqtt"):
    if str(_TESTS / _sub) not in sys.path:
        sys.path.append(str(_TESTS / _sub))
