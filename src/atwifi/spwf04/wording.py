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

# Keyed by the kind's class and member *names*, not the member object: a service module
# imported again (pytester's in-process runs drop and re-import modules) makes a new Enum
# class whose members must still find their words.
_WORDS: dict[tuple[str, str, str], Wording] = {}


def _key(kind: Enum) -> tuple[str, str, str]:
    cls = type(kind)
    return (cls.__module__, cls.__qualname__, kind.name)


def _same(a: Wording, b: Wording) -> bool:
    if isinstance(a, int) or isinstance(b, int):
        return a == b
    # The same function again (its module imported again) is the same wording.
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def register(words: Mapping[Enum, Wording]) -> None:
    for kind, how in words.items():
        key = _key(kind)
        old = _WORDS.get(key)
        if old is not None and not _same(old, how):
            raise RuntimeError(f"{kind} is worded twice")
        _WORDS[key] = how


def word(exc: ServiceError) -> AtError | AtResultLine:
    """The dialect's failure for ``exc``: raise or print what this returns."""
    how = _WORDS.get(_key(exc.kind))
    if how is None:
        return AtError(UNWORDED, f"unworded {exc.kind!r}: {exc.detail}")
    if isinstance(how, int):
        return AtError(how, exc.detail)
    return how(exc)
