"""Parts: what binds a dialect-free service to the SPWF04 device's life cycle.

A part is a class ``Part(device)`` with three coroutines, called by the device:
  start()      at power-on and after every reset, once the configuration is loaded and
               before +WIND:0 (mount volumes, size buffers from configuration...)
  after_boot() after +WIND:32 (the radio starts joining here); must not block: spawn
               long work with device.spawn()
  stop()       before a reset or power-off: drop everything volatile (sockets, RAM disk)
Optional: preload() (blocking, called in a thread before start() of a boot of a module whose
state folder exists: the boot's disk reads go in one thread hop, a fleet's in one per batch;
start() then uses what it read). A module with no state folder (``device.fresh``) has
nothing on disk: start() then skips its reads.
A part publishes its service on the device as the attribute named in ``attr`` (device.fs,
device.radio, device.net, device.sockets, device.tls...) so handlers reach it in one step;
``attr`` may be a tuple when a part publishes several. The device creates each named
attribute (None until the part starts), so adding a service is one line in ``PARTS``; give
it a typed annotation on ``Device`` (spwf04/device.py) when handlers use it much.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device


class Part(Protocol):
    attr: str | tuple[str, ...]

    def __init__(self, device: Device) -> None: ...
    async def start(self) -> None: ...
    async def after_boot(self) -> None: ...
    async def stop(self) -> None: ...


# "module:Class" of every part, in start order (the file system before the radio and TLS).
PARTS: tuple[str, ...] = (
    "atwifi.spwf04.parts.pins:PinsPart",  # first: a GPIO0 strap restores the factory config
    "atwifi.spwf04.parts.power:PowerPart",  # after pins (the wake-up pin)
    "atwifi.spwf04.parts.line:LinePart",  # console_speed, console_hwfc (a boot hook)
    "atwifi.spwf04.parts.files:FilesPart",
    "atwifi.spwf04.parts.net:NetPart",  # before the radio (on_link_up) and sockets (resolve)
    "atwifi.spwf04.parts.radio:RadioPart",
    "atwifi.spwf04.parts.faults:FaultsPart",  # after the radio (the world's [faults])
    "atwifi.spwf04.parts.sockets:SocketsPart",
    "atwifi.spwf04.parts.httpd:HttpdPart",  # after files (pages) and sockets (device.tls)
    "atwifi.spwf04.parts.http:HttpPart",  # after sockets (device.tls)
    "atwifi.spwf04.parts.tftp:TftpPart",  # after files and net (it reads both)
    "atwifi.spwf04.parts.websocket:WebSocketPart",  # after sockets: uses device.tls
    "atwifi.spwf04.parts.mqtt:MqttPart",  # after sockets and websocket (device.tls, slots)
    "atwifi.spwf04.parts.control:ControlPart",
    "atwifi.spwf04.parts.python:PythonPart",  # after every service a script may use
    "atwifi.fleet.runtime:FleetPart",  # last: idle unless the device is in a fleet
)


_LOADED: dict[str, type] = {}


def load_parts() -> list[type]:
    """The part classes of PARTS (imported once per process: a fleet makes 10,000 devices)."""
    out = []
    for ref in PARTS:
        cls = _LOADED.get(ref)
        if cls is None:
            mod, _, name = ref.partition(":")
            cls = _LOADED[ref] = getattr(importlib.import_module(mod), name)
        out.append(cls)
    return out
