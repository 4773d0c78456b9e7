"""Exceptions that carry a module error number out of a handler or service."""

from __future__ import annotations


class AtError(Exception):
    """A synchronous command failure: printed as AT-S.ERROR:<number>:<text> (Table 10).

    ``detail`` is for the trace and logs only; the wire shows the table's text.
    """

    def __init__(self, number: int, detail: str = "") -> None:
        super().__init__(number, detail)
        self.number = number
        self.detail = detail

    def __str__(self) -> str:
        return f"error {self.number}" + (f" ({self.detail})" if self.detail else "")


class AtResultLine(Exception):
    """A failure the module reports with its own result line instead of AT-S.ERROR, e.g.
    ``AT-S.Certificate Error:21`` or ``AT-S.Http Client Error:1`` (Tables 11-13).

    ``line`` is printed verbatim (without CR LF) and no AT-S.OK follows.
    """

    def __init__(self, line: str, detail: str = "") -> None:
        super().__init__(line, detail)
        self.line = line
        self.detail = detail
