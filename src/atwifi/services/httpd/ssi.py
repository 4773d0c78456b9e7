"""Server-side include markers: ``<!--[06|Input|0|-->``, as ST's web server writes them.

A marker is an HTML comment whose body starts with ``[`` and is a list of fields, each ended
by ``|``: ``<!--[<type>|<name>|<argument>|-->``. The service only finds the markers; what one
means (a status variable, a configuration variable, a token from the host) is the dialect's
business: ``resolve(fields)`` returns the text that replaces the marker, or None to leave the
marker as it is (an HTML comment: the browser shows nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Fields: no '|', no '<', no '>' and at most 64 bytes each; at most 8 fields.
MARKER = re.compile(rb"<!--\[((?:[^|<>\r\n]{0,64}\|){1,8})-->")


def render(page: bytes, resolve: Callable[[list[str]], str | None]) -> bytes:
    """``page`` with every marker ``resolve`` knows replaced by its text (UTF-8)."""
    if b"<!--[" not in page:
        return page

    def one(m: re.Match[bytes]) -> bytes:
        fields = m.group(1).decode("latin-1").split("|")[:-1]
        text = resolve(fields)
        if text is None:
            return m.group(0)
        return text.encode("utf-8", "surrogateescape")

    return MARKER.sub(one, page)
