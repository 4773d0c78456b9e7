"""The module's firmware as the boot loader sees it: what runs, and an update waiting.

``AT+S.FWUPDATE`` leaves a downloaded image in ``<state>/firmware/pending.fota`` (with
``pending.json`` saying whether it was asked for as ``.sfota``). At the next boot
``boot_loader`` checks it (services/firmware.py format) and prints the WIND:17 lines of
Table 14: ``Boot <boot_version>``, then ``Performing F/W update``, ``Completed F/W update``,
``Cleanup`` for a good image (its version and build run from then on: flash blob
``firmware``), or ``Aborting F/W update:<n>`` and ``Cleanup`` for a bad one (the old
firmware keeps running). Reasons: 2 format or CRC, 3 secure check (1, GPIO0 held high, cannot
happen on a virtual module). Choices: docs/behaviour.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from atwifi.services import firmware as image
from atwifi.services.flash import CorruptBlob

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

FACTORY_BUILD = "171117-0328fe3-SPWF04S"
FACTORY_VERSION = "1.1.0"
BLOB = "firmware"
ABORT_FORMAT, ABORT_SECURE = 2, 3


def folder(state_dir: Path) -> Path:
    return Path(state_dir) / "firmware"


def pending_path(state_dir: Path) -> Path:
    return folder(state_dir) / "pending.fota"


def store_pending(state_dir: Path, download: Path, secure: bool) -> None:
    """Make ``download`` (a finished download in the same folder) the pending image
    (blocking: run in a thread). A crash leaves the old pending image or the new one."""
    d = folder(state_dir)
    meta = d / "pending.json"
    tmp = d / f".pending.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"secure": secure}))
    os.replace(download, pending_path(state_dir))
    os.replace(tmp, meta)
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _installed(device: Device) -> tuple[str, str]:
    try:
        raw = device.flash.read(BLOB)
        info = json.loads(raw) if raw else {}
        return str(info["version"]), str(info["build"])
    except (CorruptBlob, ValueError, KeyError, TypeError):
        return FACTORY_VERSION, FACTORY_BUILD


def _apply(device: Device) -> tuple[list[str], tuple[str, str], list[str]]:
    """(WIND:17 lines, (version, build) now running, trace notes). Blocking."""
    path = pending_path(device.state_dir)
    if not path.exists():
        return [], _installed(device), []
    notes: list[str] = []
    lines = [f"Boot {device.status.get('boot_version')}"]
    meta = folder(device.state_dir) / "pending.json"
    try:
        secure = bool(json.loads(meta.read_text()).get("secure"))
    except (OSError, ValueError, AttributeError):
        secure = False
    key = device.config.get("aes128_key")
    try:
        info = image.check_file(path, secure=secure, key=bytes(key) if key else None)
    except (image.FirmwareError, OSError) as e:
        reason = getattr(e, "reason", "format")
        lines += [f"Aborting F/W update:{ABORT_SECURE if reason == 'secure' else ABORT_FORMAT}"]
        notes.append(f"firmware update aborted: {e}")
        running = _installed(device)
    else:
        lines += ["Performing F/W update", "Completed F/W update"]
        running_now = {"version": info.version, "build": info.build}
        device.flash.write(BLOB, json.dumps(running_now).encode())
        notes.append(f"firmware updated to {info.version} ({info.build})")
        running = (info.version, info.build)
    lines.append("Cleanup")
    for p in (path, meta):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    return lines, running, notes


def apply_blocking(device: Device) -> None:
    """The boot loader's disk work, for a caller in a thread: boot_loader() then uses it."""
    device.boot_loader_done = _apply(device)


async def boot_loader(device: Device) -> str:
    """Run at every boot before +WIND:1: apply a pending update, publish fw_version and
    build in STS, return the build for +WIND:1."""
    done = getattr(device, "boot_loader_done", None)
    if done is not None:
        device.boot_loader_done = None  # done in the boot's one thread hop (apply_blocking)
        lines, (version, build), notes = done
    elif getattr(device, "fresh", False):
        # No state folder: no update can wait, the factory firmware runs (no thread hop).
        lines, (version, build), notes = [], (FACTORY_VERSION, FACTORY_BUILD), []
    else:
        lines, (version, build), notes = await asyncio.to_thread(_apply, device)
    for note in notes:
        device.trace_note(note)
    for line in lines:
        device.wind(17, line)
    device.status.set("fw_version", version)
    device.status.set("build", build)
    return build
