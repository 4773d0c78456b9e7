"""The control channel's verbs: one registry, filled by modules that each own an area.

A verb is ``async def fn(device, **args) -> result`` (or a plain function) registered with
``@verb("ap.add", "help text")``. Its keyword parameters are the request's arguments; the
result must be JSON-serialisable. Raise ``ControlError`` (or a service's ValueError) to fail.
Add a module to ``MODULES`` to add verbs (GPIO, ADC, socket faults... in later issues).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atwifi.control.protocol import ControlError

MODULES = (
    "atwifi.control.verbs.core",
    "atwifi.control.verbs.radio",
    "atwifi.control.verbs.httpd",
    "atwifi.control.verbs.servers",
    "atwifi.control.verbs.faults",
)


@dataclass(frozen=True)
class Verb:
    name: str
    fn: Callable[..., Any]
    help: str

    def usage(self) -> str:
        params = list(inspect.signature(self.fn).parameters.values())[1:]
        out = []
        for p in params:
            if p.kind is p.VAR_KEYWORD:
                out.append("[key=value ...]")
            elif p.default is inspect.Parameter.empty:
                out.append(f"{p.name}=...")
            else:
                out.append(f"[{p.name}=...]")
        return " ".join([self.name, *out])


_VERBS: dict[str, Verb] = {}
_loaded = False


def verb(name: str, help: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _VERBS:
            raise RuntimeError(f"two control verbs named {name}")
        _VERBS[name] = Verb(name, fn, help or (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return register


def verbs() -> dict[str, Verb]:
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in MODULES:
            importlib.import_module(mod)
    return _VERBS


async def call(device: Any, name: str, args: dict[str, Any]) -> Any:
    v = verbs().get(name)
    if v is None:
        raise ControlError(f"unknown verb {name!r}; 'help' lists them")
    sig = inspect.signature(v.fn)
    try:
        sig.bind(device, **args)
    except TypeError as e:
        raise ControlError(f"{name}: {e}; usage: {v.usage()}") from None
    result = v.fn(device, **args)
    if inspect.isawaitable(result):
        result = await result
    return result
