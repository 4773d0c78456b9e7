"""Exceptions a command raises when the module answers with an error line."""

from __future__ import annotations

import functools

from atwifi.client.protocol import Reply


class AtCommandError(Exception):
    """The module answered ``AT-S.ERROR[:<number>[:<text>]]`` (manual Table 10).

    ``number`` is None when ``console_errs=0`` hides it; ``text`` is what the module printed
    (empty with ``console_errs`` 0 or 1); ``description`` falls back to the manual's text.
    """

    kind = "error"

    def __init__(
        self, number: int | None, text: str = "", line: str = "", command: str = ""
    ) -> None:
        super().__init__(number, text, line, command)
        self.number = number
        self.text = text
        self.line = line
        self.command = command

    @property
    def description(self) -> str:
        if self.text:
            return self.text
        if self.number is None:
            return ""
        return _tables().get(self.kind, {}).get(self.number, "")

    def __str__(self) -> str:
        what = f"{self.command!r} failed: " if self.command else ""
        return f"{what}{self.line or self.kind}" + (
            f" ({self.description})" if self.description and not self.text else ""
        )


class CertificateError(AtCommandError):
    """``AT-S.Certificate Error:<number>`` (manual Table 13)."""

    kind = "certificate"


class HttpClientError(AtCommandError):
    """``AT-S.Http Client Error:<number>`` (manual Table 12)."""

    kind = "http"


class WebSocketClientError(AtCommandError):
    """``AT-S.WebSocket Client Error:<number>`` (manual Table 11)."""

    kind = "websocket"


class ModuleRebootedError(ConnectionError):
    """The module restarted (``+WIND:1:Poweron``) while a command waited for its answer,
    outside :meth:`reset`: the command was lost."""


_BY_KIND: dict[str, type[AtCommandError]] = {
    cls.kind: cls
    for cls in (AtCommandError, CertificateError, HttpClientError, WebSocketClientError)
}


def error_for(reply: Reply) -> AtCommandError:
    """The exception for a failed reply."""
    cls = _BY_KIND.get(reply.error_kind or "error", AtCommandError)
    return cls(reply.error_number, reply.error_text, reply.final, reply.command)


@functools.cache
def _tables() -> dict[str, dict[int, str]]:
    # The manual's texts, only needed to describe errors printed without their text.
    from atwifi.spwf04.table import errors as t

    return {
        "error": t.ERRORS,
        "certificate": t.CERT_ERRORS,
        "http": t.HTTP_ERRORS,
        "websocket": t.WEBSOCKET_ERRORS,
    }
