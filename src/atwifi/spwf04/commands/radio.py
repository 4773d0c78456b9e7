"""Handlers: AT+S.WIFI, AT+S.SCAN, AT+S.WPS (SSIDTXT lives with the configuration commands,
PEERS with the status commands)."""

from __future__ import annotations

from collections.abc import Callable

from atwifi.errors import AtError
from atwifi.services.radio import RadioError, RadioFault, ScanEntry
from atwifi.services.radio.security import wps_pin8
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context

RADIO_ERRORS = {
    RadioFault.OFF: 18,  # Radio not running
    RadioFault.BUSY: 40,  # Scan in Progress
    RadioFault.MODE: 67,  # WPS only allowed on STA mode
    RadioFault.BAD: 8,  # Invalid value
}
wording.register(RADIO_ERRORS)


def _radio(ctx: Context):  # type: ignore[no-untyped-def]
    radio = ctx.device.radio
    if radio is None:
        raise AtError(18, "no radio in this module")
    return radio


def _at_error(e: RadioError) -> AtError:
    return AtError(RADIO_ERRORS.get(e.code, 8), str(e))


def strongest_per(entries: list[ScanEntry], key: Callable[[ScanEntry], str]) -> list[ScanEntry]:
    """SCAN's ``s`` and ``m`` filters: one line per SSID (per BSSID), the strongest, in scan
    order. Drivers send ``AT+S.SCAN=s,`` to list every network (mbed's SPWFSA04 scan(), ST's
    X-CUBE-WIFI1), so a filter never narrows the list to the configured network."""
    best: dict[str, ScanEntry] = {}
    for e in entries:
        k = key(e)
        if k not in best or e.rssi > best[k].rssi:
            best[k] = e
    keep = {id(e) for e in best.values()}
    return [e for e in entries if id(e) in keep]


def scan_line(index: int, e: ScanEntry) -> bytes:
    """The firmware's scan line (wire-notes): ``<i>:\\t BSS <MAC> CHAN: <cc> RSSI: <-dd>
    SSID: '<ssid>' CAPS: <xxxx> <flags>``, each flag followed by a space."""
    flags = "".join(f"{f} " for f in e.flags)
    head = f"{index}:\t BSS {e.bssid} CHAN: {e.channel:02d} RSSI: {e.rssi} SSID: '"
    tail = f"' CAPS: {e.caps:04x} {flags}"
    return head.encode("latin-1") + e.ssid.encode("utf-8") + tail.encode("latin-1")


@handler("WIFI")
async def wifi(ctx: Context, action: int) -> None:
    radio = _radio(ctx)
    if action == 1:
        await radio.start(announce=True)
    else:
        await radio.stop(announce=True)


@handler("SCAN")
async def scan(ctx: Context, filter: str = "d", filename: str | None = None) -> None:
    radio = _radio(ctx)
    try:
        entries = await radio.scan()
    except RadioError as e:
        raise _at_error(e) from None
    f = (filter or "d").lower()
    if f == "s":
        entries = strongest_per(entries, lambda e: e.ssid)
    elif f == "m":
        entries = strongest_per(entries, lambda e: e.bssid)
    lines = [scan_line(i, e) for i, e in enumerate(entries, 1)]
    if filename:
        fs = ctx.device.fs
        if fs is None:
            raise AtError(50, "no file system in this module")
        await fs.write(filename, b"".join(line + b"\r\n" for line in lines))
        return
    if not lines:
        return
    ctx.info(f"Parsing Networks:{len(lines)}")
    for line in lines:
        ctx.line(line)


@handler("WPS")
async def wps(ctx: Context, mode: int) -> None:
    radio = _radio(ctx)
    if not radio.on:
        raise AtError(18, "radio is off")
    if radio.mode != 1:
        raise AtError(67, f"wifi_mode is {radio.mode}")
    pin: str | None = None
    if mode == 1:
        factory = ctx.device.config.get("wifi_wps_pin")
        if not 1_000_000 <= factory <= 9_999_999:
            raise AtError(39, f"wifi_wps_pin={factory}")
        pin = wps_pin8(factory)
    elif mode == 2:
        import secrets  # at first use, not at boot

        pin = wps_pin8(secrets.randbelow(10_000_000))
    try:
        radio.wps(mode, pin)
    except RadioError as e:
        raise _at_error(e) from None
    if mode == 1:
        ctx.info(f"Generated user PIN:{pin}")
    elif mode == 2:
        ctx.info(f"Generated random PIN:{pin}")
