"""How a dialect-free service fails: an error *kind*, never a dialect's number or text.

Each service names its kinds in an ``Enum`` of its own (``HttpFault.REFUSED``,
``MqttFault.NOT_AUTHORISED``...) and raises ``ServiceError(kind, detail, **info)``. The
dialect (``spwf04/wording.py`` for the SPWF04) decides what the host sees: an error number of
Table 10, a result line of Tables 11-13, or anything a second dialect (GS2200M) prints.

``detail`` is for the trace and logs only. ``info`` carries facts the wording may need (a
certificate failure's reason, an HTTP status code), never preformatted wire text.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class ServiceError(Exception):
    """A service failure of a given kind."""

    def __init__(self, kind: Enum, detail: str = "", **info: Any) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail
        self.info = info

    def __str__(self) -> str:
        return f"{self.kind.name.lower()}" + (f" ({self.detail})" if self.detail else "")
