"""Verbs about the module's own servers as the host reaches them."""

from __future__ import annotations

from typing import Any

from atwifi.control.verbs import verb


@verb("servers", "where the module's servers listen on the host (tftp: module port 69)")
def servers(device: Any) -> dict[str, str]:
    return dict(getattr(device, "endpoints", {}) or {})
