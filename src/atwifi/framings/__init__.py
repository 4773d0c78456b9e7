"""Console framings: how a console's bytes become Requests and reply items become bytes.

One registration plugs a framing in: a line in ``FRAMINGS``, name -> ``"module:Class"``. The
class is built as ``Class(dialect)`` (see the ``Framing`` protocol in ``atwifi.runtime``) at
the boot at which the dialect's ``console_enabled()`` returns its name. Only the chosen
framing is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atwifi.runtime import Framing

FRAMINGS: dict[str, str] = {
    "uart": "atwifi.framings.uart:UartFraming",
    "spi": "atwifi.framings.spi:SpiFraming",  # console_enabled=0 (docs/spi.md)
}
DEFAULT = "uart"


def make_framing(name: str, dialect: Any) -> Framing:
    """The framing registered as ``name``; raises KeyError when none is."""
    ref = FRAMINGS[name]
    mod, _, cls = ref.partition(":")
    return getattr(importlib.import_module(mod), cls)(dialect)  # type: ignore[no-any-return]
