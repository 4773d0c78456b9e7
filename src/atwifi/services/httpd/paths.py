"""From a request target to a file name of the module's flat file system, or nothing.

The module's file system has no folders: a URL names exactly one file, ``/index.html`` ->
``index.html``. Everything else is refused *before* any volume sees it: a ``/`` or ``\\`` left
after percent-decoding (``/a/b``, ``/%2e%2e/x``, ``/..%2fetc``), a NUL or control byte, a
name the volumes would not accept, the lock file. A refused name is simply not found (404),
so a probe learns nothing about the host.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes, urlsplit

from atwifi.services.fs.names import valid_name

INDEX = "index.html"
LOCK_FILE = "__LOCKED__"  # the application flash's lock marker: never served


class Target:
    """A parsed request target: ``name`` is the file it asks for ("" for none valid)."""

    __slots__ = ("name", "path", "query")

    def __init__(self, path: str, query: str, name: str) -> None:
        self.path = path
        self.query = query
        self.name = name


def parse_target(raw: bytes) -> Target | None:
    """None for a target that is no URL path at all (400); else a Target whose ``name`` is
    empty when the path names no file the server may serve (404)."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    if text.startswith(("http://", "https://")):  # absolute form (RFC 9112 3.2.2)
        parts = urlsplit(text)
        text = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not text.startswith("/"):
        return None
    path, _, query = text.partition("?")
    path = path.partition("#")[0]
    return Target(path, query, file_name(path))


def file_name(path: str) -> str:
    """The file a URL path names, or "" when it names none the server may serve."""
    decoded = unquote_to_bytes(path)
    if not decoded.startswith(b"/"):
        return ""
    rest = decoded[1:]
    if not rest:
        return INDEX
    try:
        name = rest.decode("ascii")
    except UnicodeDecodeError:
        return ""
    if "/" in name or "\\" in name or ":" in name or not valid_name(name):
        return ""
    if name == LOCK_FILE:
        return ""
    return name
