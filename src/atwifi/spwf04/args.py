"""From a command line to a table entry and typed, checked arguments.

Handlers never split strings: this module does it once, from ``table/commands.py``, with the
manual's error numbers: 1 unknown command, 2 missing, 6 too many, 7 invalid, 8 out of range,
32 too long, 33 zero.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from atwifi.errors import AtError
from atwifi.spwf04.table.commands import BY_NAME
from atwifi.spwf04.table.schema import Command, P, Param

# What C drivers print for a NULL pointer, and the manual's explicit placeholder.
_EMPTY_WORDS = ("(null)",)
_NUMBER = re.compile(r"[+-]?(?:(0[xX])[0-9A-Fa-f]+|[0-9]+)")


@dataclass(frozen=True, slots=True)
class Parsed:
    command: Command
    args: dict[str, Any]
    data_len: int | None  # bytes of {data} that follow the line, or None
    # The first argument error. It is raised only after the {data} block has been read, so
    # a bad argument never leaves the block's bytes to be taken for commands.
    error: AtError | None = None
    params: tuple[str, ...] = ()  # the raw text of each parameter, as split


def split_line(text: str) -> tuple[str, str | None]:
    """``AT+S.SOCKW=0,5`` -> ("SOCKW", "0,5"); ``AT`` -> ("", None). Raises AtError(1)."""
    head, eq, rest = text.partition("=")
    upper = head.upper()
    if upper == "AT" and not eq:
        return "", None
    if not upper.startswith("AT+S.") or len(upper) == 5:
        raise AtError(1, f"not a command: {text[:40]!r}")
    return upper[5:], (rest if eq else None)


@functools.lru_cache(maxsize=512)
def parse(text: str, delimiter: str = ",") -> Parsed:
    """Raises AtError only when the command itself is unknown; argument errors are carried
    in ``Parsed.error`` together with the data length, whenever that length is readable.

    Cached: a driver streaming data repeats the same line (``AT+S.SOCKW=0,730``) thousands
    of times. Callers must not change ``Parsed.args`` (the device copies it)."""
    name, rest = split_line(text)
    cmd = BY_NAME.get(name)
    if cmd is None:
        raise AtError(1, f"unknown command {name!r}")
    try:
        fields = _split(cmd, rest, delimiter)
    except AtError as e:
        # Too many fields: which one is the {data} length is anybody's guess, so none is
        # (the line is answered at once and what follows is read as commands).
        parsed = _typed(cmd, rest.split(delimiter) if rest is not None else [], e)
        return Parsed(cmd, parsed.args, None, e, parsed.params)
    return _typed(cmd, fields, None)


def parse_params(cmd: Command, params: tuple[str, ...]) -> Parsed:
    """The same as ``parse`` for a framing that splits parameters itself (SPI): ``params``
    is the raw text of each parameter. Cached; callers must not change ``Parsed.args``."""
    return _parse_params(cmd.name, params)


@functools.lru_cache(maxsize=512)
def _parse_params(name: str, params: tuple[str, ...]) -> Parsed:
    cmd = BY_NAME[name]
    error: AtError | None = None
    fields = list(params)
    if not cmd.params:
        if any(f.strip() for f in fields):
            error = AtError(6, f"AT+S.{cmd.name} takes no argument")
        fields = []
    elif len(fields) > len(cmd.params):
        error = AtError(6, f"{len(fields)} arguments for {len(cmd.params)}")
    return _typed(cmd, fields, error)


def _typed(cmd: Command, fields: list[str], error: AtError | None) -> Parsed:
    args: dict[str, Any] = {}
    for i, param in enumerate(cmd.params):
        raw = fields[i] if i < len(fields) else None
        try:
            args[param.name] = _convert(param, raw)
        except AtError as e:
            error = error or e
            args[param.name] = None
    data_len = None
    if cmd.data is not None:
        first = cmd.params[0].name if cmd.params else None
        skip = (
            cmd.data_unless_first is not None
            and first is not None
            and str(args.get(first) or "").lower() == cmd.data_unless_first.lower()
        )
        if not skip:
            data_len = args.get(cmd.data)
            if data_len is None and error is None:
                error = AtError(2, "no data length")
    return Parsed(cmd, args, data_len, error, tuple(fields))


def _split(cmd: Command, rest: str | None, delimiter: str) -> list[str]:
    if rest is None:
        return []
    params = cmd.params
    if not params:
        if rest.strip():
            raise AtError(6, f"AT+S.{cmd.name} takes no argument")
        return []
    limit = len(params) - 1 if params[-1].rest else -1
    fields = rest.split(delimiter, limit)
    if len(fields) > len(params):
        raise AtError(6, f"{len(fields)} arguments for {len(params)}")
    return fields


def _convert(param: Param, raw: str | None) -> Any:
    if param.kind is P.NULL:
        return None
    if raw is not None and not param.rest:
        raw = raw.strip(" ")
    if raw is None or raw == "" or raw in _EMPTY_WORDS:
        if param.required:
            raise AtError(2, f"missing {param.name}")
        return param.default
    kind = param.kind
    if kind is P.INT:
        return _int(param, raw)
    if kind is P.CHOICE:
        low = raw.lower()
        for choice in param.choices:
            if choice.lower() == low:
                return choice
        raise AtError(7, f"{param.name}: {raw!r} not in {param.choices}")
    if param.max_len is not None and len(raw.encode("latin-1", "replace")) > param.max_len:
        raise AtError(32, f"{param.name} longer than {param.max_len}")
    return raw


def _int(param: Param, raw: str) -> int:
    m = _NUMBER.fullmatch(raw)
    if m is None:
        raise AtError(7, f"{param.name}: {raw!r} is not a number")
    value = int(raw, 16) if m.group(1) else int(raw, 10)
    if value == 0 and param.nonzero:
        raise AtError(33, f"{param.name} is zero")
    if param.min is not None and value < param.min:
        raise AtError(8, f"{param.name}={value} out of range")
    if param.max is not None and value > param.max:
        raise AtError(param.over, f"{param.name}={value} over {param.max}")
    return value
