"""The fleet file (TOML): which modules run, where their consoles and state live.

    [fleet]
    state = "fleet-state"     # folder; module NAME keeps its flash and files in state/NAME
    world = "world.toml"      # optional: the shared world (default: the default world)
    net = "loopback"          # or "any", as `atwifi serve --net`
    timing = "fast"           # optional: radio timing for every module ("fast" or "real")
    console = "tcp"           # "tcp" (one port each) or "pty" (one pty each)
    host = "127.0.0.1"        # where TCP consoles and module servers listen
    base_port = 0             # tcp: 0 = free ports; N = module i on port N + i
    tftp = false              # the modules' own TFTP servers (one UDP socket each)
    httpd = false             # the modules' own web servers (a TCP and a UDP socket each)

    [[module]]
    name = "ap"               # letters, digits, - and _; unique
    [[module]]
    name = "node"
    count = 3                 # node-0, node-1, node-2
    console = "pty"           # optional per-module override

Paths are relative to the fleet file's folder. Every error names the key it is about.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
CONSOLES = ("tcp", "pty")
FLEET_KEYS = {
    "state",
    "world",
    "net",
    "timing",
    "console",
    "host",
    "base_port",
    "tftp",
    "httpd",
}
MODULE_KEYS = {"name", "count", "console"}
MAX_MODULES = 100_000


class FleetError(ValueError):
    """The fleet file is wrong; the message says where and how."""


@dataclass(frozen=True)
class ModuleSpec:
    name: str
    console: str


@dataclass
class FleetSpec:
    state: Path
    modules: list[ModuleSpec]
    world: Path | None = None
    net: str = "loopback"
    timing: str | None = None
    host: str = "127.0.0.1"
    base_port: int = 0
    tftp: bool = False
    httpd: bool = False
    source: Path | None = field(default=None, compare=False)


def _type(where: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FleetError(f"{where}: {what} expected, got {value!r}")
    return value


def load(path: Path) -> FleetSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise FleetError(f"{path}: {e.strerror or e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise FleetError(f"{path}: not TOML: {e}") from None
    return from_dict(data, base=path.parent, source=path)


def from_dict(
    data: dict[str, Any], base: Path = Path("."), source: Path | None = None
) -> FleetSpec:
    unknown = set(data) - {"fleet", "module"}
    if unknown:
        raise FleetError(
            f"unknown tables {sorted(unknown)}: a fleet file has [fleet] and [[module]]"
        )
    fleet = data.get("fleet", {})
    _type("[fleet]", fleet, dict, "a table")
    unknown = set(fleet) - FLEET_KEYS
    if unknown:
        raise FleetError(f"[fleet]: unknown keys {sorted(unknown)}; known: {sorted(FLEET_KEYS)}")
    state = Path(_type("fleet.state", fleet.get("state", "fleet-state"), str, "a folder name"))
    world = fleet.get("world")
    world_path = None if world is None else base / _type("fleet.world", world, str, "a file name")
    net = _type("fleet.net", fleet.get("net", "loopback"), str, "text")
    if net not in ("loopback", "any"):
        raise FleetError(f"fleet.net: 'loopback' or 'any', got {net!r}")
    timing = fleet.get("timing")
    if timing is not None and timing not in ("fast", "real"):
        raise FleetError(f"fleet.timing: 'fast' or 'real', got {timing!r}")
    console = _type("fleet.console", fleet.get("console", "tcp"), str, "text")
    if console not in CONSOLES:
        raise FleetError(f"fleet.console: one of {', '.join(CONSOLES)}, got {console!r}")
    host = _type("fleet.host", fleet.get("host", "127.0.0.1"), str, "an address")
    base_port = _type("fleet.base_port", fleet.get("base_port", 0), int, "a port number")
    if not 0 <= base_port <= 65535:
        raise FleetError(f"fleet.base_port: 0-65535, got {base_port}")
    tftp = _type("fleet.tftp", fleet.get("tftp", False), bool, "true or false")
    httpd = _type("fleet.httpd", fleet.get("httpd", False), bool, "true or false")

    entries = data.get("module")
    if entries is None:
        raise FleetError("no [[module]]: a fleet needs at least one module")
    _type("module", entries, list, "an array of tables ([[module]])")
    modules: list[ModuleSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"module[{i}]"
        _type(where, entry, dict, "a table")
        unknown = set(entry) - MODULE_KEYS
        if unknown:
            raise FleetError(
                f"{where}: unknown keys {sorted(unknown)}; known: {sorted(MODULE_KEYS)}"
            )
        if "name" not in entry:
            raise FleetError(f"{where}: a module needs a name")
        name = _type(f"{where}.name", entry["name"], str, "text")
        if not NAME.match(name):
            raise FleetError(
                f"{where}.name: {name!r}: 1-64 letters, digits, '-' or '_' (it names a folder)"
            )
        count = _type(f"{where}.count", entry.get("count", 1), int, "a whole number")
        if count < 1:
            raise FleetError(f"{where}.count: at least 1, got {count}")
        mconsole = _type(f"{where}.console", entry.get("console", console), str, "text")
        if mconsole not in CONSOLES:
            raise FleetError(f"{where}.console: one of {', '.join(CONSOLES)}, got {mconsole!r}")
        names = [name] if "count" not in entry else [f"{name}-{j}" for j in range(count)]
        for n in names:
            if n in seen:
                raise FleetError(f"{where}.name: two modules named {n!r}")
            seen.add(n)
            modules.append(ModuleSpec(n, mconsole))
        if len(modules) > MAX_MODULES:
            raise FleetError(f"more than {MAX_MODULES} modules")
    if base_port and base_port + len(modules) - 1 > 65535:
        raise FleetError(
            f"fleet.base_port: {base_port} + {len(modules)} modules runs past port 65535"
        )
    return FleetSpec(
        state=state if state.is_absolute() else base / state,
        modules=modules,
        world=world_path,
        net=net,
        timing=timing,
        host=host,
        base_port=base_port,
        tftp=tftp,
        httpd=httpd,
        source=source,
    )
