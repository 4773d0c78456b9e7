"""Client helpers for the module's web server: the host's part in its pages.

``HttpdMixin`` uses only ``self.command(line, data)`` and ``self.wait_wind(match, timeout)``,
so it works on the asyncio client and, through it, on the sync one, against a real module as
well as the virtual one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

INPUT_WANTED, FORM_OUTPUT, REMOTE_CONFIG, FILE_RECEIVED = 56, 57, 64, 90


@dataclass(frozen=True)
class FormPost:
    """+WIND:57: what a browser posted (at most 128 bytes: the module truncates)."""

    length: int
    message: str


class HttpdMixin:
    if TYPE_CHECKING:  # provided by the client core (client/aio.py); never defined here

        async def command(self, line: str, data: bytes | None = None, **kw: Any) -> Any: ...
        async def wait_wind(self, match: Any = None, timeout: float | None = None) -> Any: ...

    async def set_page_inputs(self, tokens: list[str], sep: str = "|") -> None:
        """Fill the AT+S.INPUTSSI buffer: token i replaces ``<!--[06|Input|i|-->`` in pages.
        The buffer's first byte is the separator, so no token may contain ``sep``."""
        if len(sep.encode()) != 1:
            raise ValueError("the separator is one byte")
        if any(sep in t for t in tokens):
            raise ValueError(f"a token contains the separator {sep!r}")
        if not tokens:
            await self.clear_page_inputs()
            return
        data = (sep + sep.join(tokens) + sep).encode("utf-8")
        await self.command(f"AT+S.INPUTSSI={len(data)}", data)

    async def clear_page_inputs(self) -> None:
        await self.command("AT+S.INPUTSSI=0", b"")

    async def wait_input_wanted(self, timeout: float | None = None) -> int:
        """+WIND:56: a page asked for input token ``n`` while the buffer was empty."""
        w = await self.wait_wind(INPUT_WANTED, timeout)
        return int(w.fields[0])

    async def wait_form_post(self, timeout: float | None = None) -> FormPost:
        """+WIND:57: a browser posted a form (``message`` as the browser encoded it)."""
        w = await self.wait_wind(FORM_OUTPUT, timeout)
        length, _, message = w.tail.partition(":")
        return FormPost(int(length), message)

    async def wait_remote_config(self, timeout: float | None = None) -> tuple[str, str]:
        """+WIND:64: (item, value) the remote-configuration page set ("Key" and the wrong
        password when it refused)."""
        w = await self.wait_wind(REMOTE_CONFIG, timeout)
        item, _, value = w.tail.partition(":")
        return item, value

    async def wait_file_received(self, timeout: float | None = None) -> str:
        """+WIND:90: a file arrived (over HTTP here; TFTP puts the client's address first)."""
        w = await self.wait_wind(FILE_RECEIVED, timeout)
        _ip, _, name = w.tail.partition(":")
        return name
