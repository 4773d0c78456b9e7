"""File names on the module's volumes: ``<vol>:/name`` or a bare ``name``.

The module's file system is flat: a name is one component, never a path. That rule is what
keeps every name inside its volume's folder on the host, so it is checked here, once, before
any volume sees a name.
"""

from __future__ import annotations

import re

from atwifi.services.errors import ServiceError
from atwifi.services.fs.errors import FsFault

# Volume ids (manual 6.26) and the flag FSL prints for each.
EXT, USER, RAM, APP = 0, 1, 2, 3
FLAGS = {EXT: "X", USER: "E", RAM: "D", APP: "I"}

MAX_NAME = 64  # manual 6.23: "Max size is 64 bytes"

# Prefix of the temporary files of atomic writes; such names are never shown nor accepted.
TEMP_PREFIX = ".~atwifi"

_PREFIX = re.compile(r"([0-9]):/")
# Printable ASCII without the path separators of any host. Anything else (NUL, control
# bytes, DEL, non-ASCII, '/', '\\') is refused, so a name maps to exactly one host file name.
_ALLOWED = re.compile(r"[\x20-\x2e\x30-\x5b\x5d-\x7e]+")


def valid_name(name: str) -> bool:
    """True when ``name`` (no volume prefix) may be stored on a volume."""
    return (
        bool(_ALLOWED.fullmatch(name))
        and len(name) <= MAX_NAME
        and name not in (".", "..")
        and not name.startswith(TEMP_PREFIX)
        and name.strip(" ") == name
    )


def check_name(name: str, error: FsFault = FsFault.OPEN) -> str:
    # A name longer than 64 bytes names no file: the command's own error, like any bad name
    # (FSC's parameter check answers 32 before it gets here).
    if not valid_name(name):
        raise ServiceError(error, f"bad file name {name!r}")
    return name


def split(text: str, error: FsFault = FsFault.OPEN) -> tuple[int | None, str]:
    """``"2:/dir.txt"`` -> ``(2, "dir.txt")``; ``"dir.txt"`` and ``"/dir.txt"`` ->
    ``(None, "dir.txt")``.

    A prefix naming no volume (``7:/x``) gives volume 7, which the file system refuses as an
    unknown volume (FsFault.ACCESS); a malformed name raises ``ServiceError(error)``.
    """
    m = _PREFIX.match(text)
    if m:
        return int(m.group(1)), check_name(text[m.end() :], error)
    if text.startswith("/"):
        # SPWF01-era hosts write "/index.html": the same bare name, one slash dropped.
        text = text[1:]
    return None, check_name(text, error)
