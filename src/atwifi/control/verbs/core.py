"""Verbs about the channel itself and the world as a whole."""

from __future__ import annotations

from typing import Any

from atwifi.control.verbs import verb, verbs


@verb("help", "list the verbs and their arguments")
def help_(device: Any) -> list[dict[str, str]]:
    return [{"verb": v.usage(), "help": v.help} for _, v in sorted(verbs().items())]


@verb("ping", "check that the module answers")
def ping(device: Any) -> str:
    return "pong"


@verb("world.show", "the simulated world: access points, hosts, policy")
def world_show(device: Any) -> dict[str, Any]:
    world = device.world
    return world.to_dict() if world is not None else {}
