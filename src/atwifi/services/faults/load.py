"""Faults from files: the world file's ``[faults]`` table and scenario files.

World file::

    [faults]
    console = { fragment_size = 8, fragment_delay_ms = 2 }
    [[faults.rule]]
    kind = "refuse"
    match = "127.0.0.1:9"

Scenario file (TOML): steps run at ``at`` seconds after the scenario starts, each one control
verb with its arguments::

    [[step]]
    at = 0.5
    verb = "fault.add"
    args = { kind = "reset", match = "*:8080", after = 100 }
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from atwifi.services.faults import FaultError, Rule, make_rule

CONSOLE_KEYS = (
    "fragment_size",
    "fragment_delay_ms",
    "drop_rate",
    "corrupt_rate",
    "direction",
    "seed",
)


def parse_table(table: dict[str, Any]) -> tuple[list[Rule], dict[str, Any]]:
    """A ``[faults]`` table -> (rules, console settings). Raises FaultError."""
    unknown = set(table) - {"rule", "console"}
    if unknown:
        raise FaultError(f"unknown keys {sorted(unknown)}; known: rule, console")
    rules_in = table.get("rule", [])
    if not isinstance(rules_in, list):
        raise FaultError("rule must be an array of tables ([[faults.rule]])")
    rules = []
    for i, r in enumerate(rules_in):
        if not isinstance(r, dict) or "kind" not in r:
            raise FaultError(f"rule {i + 1}: a table with kind = ...")
        args = dict(r)
        rules.append(make_rule(args.pop("kind"), **args))
    console = table.get("console", {})
    if not isinstance(console, dict):
        raise FaultError("console must be a table")
    bad = set(console) - set(CONSOLE_KEYS)
    if bad:
        raise FaultError(f"console: unknown keys {sorted(bad)}; known: {', '.join(CONSOLE_KEYS)}")
    return rules, dict(console)


def parse_scenario(data: dict[str, Any] | list[Any]) -> list[dict[str, Any]]:
    """Scenario steps, sorted by time: [{"at": s, "verb": name, "args": {...}}]."""
    steps = data if isinstance(data, list) else data.get("step", data.get("steps", []))
    if isinstance(data, dict):
        unknown = set(data) - {"step", "steps"}
        if unknown:
            raise FaultError(f"a scenario has [[step]] tables only, not {sorted(unknown)}")
    if not isinstance(steps, list) or not steps:
        raise FaultError("a scenario needs at least one [[step]]")
    out = []
    for i, s in enumerate(steps):
        if not isinstance(s, dict) or not isinstance(s.get("verb"), str):
            raise FaultError(f"step {i + 1}: a table with verb = ...")
        extra = set(s) - {"at", "verb", "args"}
        if extra:
            raise FaultError(f"step {i + 1}: unknown keys {sorted(extra)}")
        try:
            at = float(s.get("at", 0))
        except (TypeError, ValueError):
            raise FaultError(f"step {i + 1}: at must be seconds") from None
        if at < 0:
            raise FaultError(f"step {i + 1}: at must be >= 0")
        args = s.get("args", {})
        if not isinstance(args, dict):
            raise FaultError(f"step {i + 1}: args must be a table")
        out.append({"at": at, "verb": s["verb"], "args": dict(args)})
    out.sort(key=lambda s: s["at"])  # stable: steps at the same time keep file order
    return out


def load_scenario(path: Path | str) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise FaultError(f"scenario {path}: {e}") from None
    return parse_scenario(data)
