"""Handlers of the web server's host side: AT+S.INPUTSSI (the tokens of <!--[06|Input|n|-->).

The web server itself runs by itself (spwf04/parts/httpd.py); what it tells the host arrives
as WINDs: 56 (a page wants input and the buffer is empty), 57 (a form post), 64 (remote
configuration), 90 (a file uploaded).
"""

from __future__ import annotations

from atwifi.errors import AtError
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

NO_SERVICE = 111  # "Request failed": cannot happen after boot (the part always publishes)


@handler("INPUTSSI")
async def inputssi(ctx: Context, length: int, data: bytes | None) -> None:
    # A length over the buffer (table/commands.py DATA_INPUTSSI) never gets here: error 32.
    server = getattr(ctx.device, "httpd", None)
    if server is None:
        raise AtError(NO_SERVICE, "no web server part")
    server.provider.set_input(data or b"")
