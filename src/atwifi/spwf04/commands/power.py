"""Handler: AT+S.PMS (6.6, Table 4)."""

from __future__ import annotations

from atwifi.services.power import PowerFault, PowerSettings
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

wording.register({PowerFault.NOT_ENABLED: 8})  # Invalid value: Table 4's variables not set


@handler("PMS")
async def pms(ctx: Context, mode: int) -> None:
    cfg = ctx.device.config
    settings = PowerSettings(
        sleep_enabled=cfg.get("sleep_enabled") == 1,
        standby_enabled=cfg.get("standby_enabled") == 1,
        powersave=int(cfg.get("wifi_powersave")),
        standby_time=int(cfg.get("standby_time")),
    )
    ctx.device.power.request(mode, settings)
