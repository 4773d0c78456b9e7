"""The SPWF04's words for the services' error kinds (services/errors.py).

A service raises ``ServiceError(kind)``; the console asks ``word(exc)`` what to print. A
kind maps to a Table 10 number (``AT-S.ERROR:<n>:<text>``) or to a function that returns the
exception to print instead (``AtResultLine`` for ``AT-S.Certificate Error:<n>``,
``AT-S.Http Client Error:<n>``...). Each area registers its table once, next to its handlers:

    wording.register({HttpFault.REFUSED: 74, HttpFault.STATUS: http_status_line})

A kind nobody registered is a bug in atwifi: it is worded as 111 "Request failed" and the
trace says which kind it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum

from atwifi.errors import AtError, AtResultLine
from atwifi.services.errors import ServiceError

UNWORDED = 111  # "Request failed"

Wording = int | Callable[[ServiceError], AtError | AtResultLine]

_WORDS: dict[Enum, Wording] = {}


def register(words: Mapping[Enum, Wording]) -> None:
    for kind, how in words.items():
        if kind in _WORDS and _WORDS[kind] != how:
            raise RuntimeError(f"{kind} is worded twice")
        _WORDS[kind] = how


def word(exc: ServiceError) -> AtError | AtResultLine:
    """The dialect's failure for ``exc``: raise or print what this returns."""
    how = _WORDS.get(exc.kind)
    if how is None:
        return AtError(UNWORDED, f"unworded {exc.kind!r}: {exc.detail}")
    if isinstance(how, int):
        return AtError(how, exc.detail)
    return how(exc)
