"""Handlers: IP services (AT+S.PING). Output shape and failure choices: docs/behaviour.md."""

from __future__ import annotations

from atwifi.errors import AtError
from atwifi.services.net.errors import NetFault
from atwifi.services.net.ping import Reply
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

wording.register(
    {
        NetFault.UNRESOLVED: 65,  # DNS address failure
        NetFault.NTP: 111,  # Request failed (no command waits on NTP today: it runs at boot)
    }
)

PING_MAX_COUNT = 1000  # the console is busy while pinging: keep one command bounded
# wifi_state values (Table 8) with an IP link: 10 "Link Up" (station), 8 "Access point
# started" (miniAP: the module pings its clients).
IP_READY_STATES = (8, 10)


def _link_up(ctx: Context) -> bool:
    # Without a radio part the host's own network is the link; with one, the module must
    # have an IP link before it can send anything, as the real module.
    if getattr(ctx.device, "radio", None) is None:
        return True
    try:
        return int(ctx.device.status.get("wifi_state")) in IP_READY_STATES
    except (TypeError, ValueError):
        return False


@handler("PING")
async def ping(
    ctx: Context, counter: int | None = 1, size: int | None = 56, hostname: str = ""
) -> None:
    counter = 1 if counter is None else counter
    size = 56 if size is None else size
    if counter > PING_MAX_COUNT:
        raise AtError(8, f"counter above {PING_MAX_COUNT}")
    net = ctx.device.net
    if net is None:
        raise AtError(1, "IP services not available")
    if not _link_up(ctx):
        raise AtError(60, "no link")

    async def show(ip: str, reply: Reply) -> None:
        # A lost request costs up to a second: flushing lets the host see each reply as it
        # comes rather than all of them at the end.
        ctx.info(f"Reply:{reply.seq}:{ip}:{reply.size}:{reply.ms}ms")
        await ctx.flush()

    result = await net.ping(hostname, counter, size, on_reply=show)
    if result.sent and not result.replies:
        raise AtError(60, f"no echo reply from {result.address}")
