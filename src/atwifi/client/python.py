"""MicroPython helpers of the client: run a script of the module's volumes.

Built only on ``self.command(line)`` (see client/aio.py), so they work against a real
module as well as the virtual one. The REPL is no request/reply exchange: open it with
``AT+S.PYTHON`` on a raw serial line (or use mpremote, docs/micropython.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


class PythonMixin:
    if TYPE_CHECKING:  # provided by the client core (client/aio.py); never defined here

        async def command(self, line: str, data: bytes | None = None, **kw: Any) -> Any: ...

    async def run_script(self, filename: str, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        """``AT+S.PYTHON=<filename>``: what the script printed (CR LF line ends, a traceback
        included when it raised), once it has ended. ``timeout``: how long the script may
        run (the client's own timeout when None)."""
        reply = await self.command(f"AT+S.PYTHON={filename}", timeout=timeout)
        return bytes(reply.body)
