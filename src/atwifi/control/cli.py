"""`atwifi ctl --state DIR <verb> [key=value ...]`: one control request, the result as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from atwifi.control.client import ControlClient
from atwifi.control.protocol import ControlError


def parse_value(text: str) -> Any:
    """``-60`` -> -60, ``true`` -> True, ``["a","b"]`` -> list; anything else stays text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="atwifi ctl",
        description="Act on a running virtual module through its control channel. "
        "'atwifi ctl --state DIR help' lists the verbs.",
    )
    p.add_argument("--state", metavar="DIR", type=Path, help="the module's state folder")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the reply")
    p.add_argument("verb")
    p.add_argument("args", nargs="*", metavar="key=value")
    a = p.parse_args(argv)
    args: dict[str, Any] = {}
    for item in a.args:
        key, sep, value = item.partition("=")
        if not sep or not key:
            p.error(f"arguments are key=value, got {item!r}")
        args[key] = parse_value(value)
    state = a.state
    if state is None:
        from atwifi.spwf04.device import default_state_dir

        state = default_state_dir()
    try:
        result = ControlClient(state, timeout=a.timeout).call(a.verb, **args)
    except ControlError as e:
        print(f"atwifi ctl: {e}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError) as e:
        print(f"atwifi ctl: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0
