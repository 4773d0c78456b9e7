"""Command handlers, one module per group of Table 1; the registry maps names to handlers.

A handler is ``async def h(ctx: Context, **args)``, or a plain ``def`` for a command that
never waits (or only rarely: it then returns an awaitable that finishes it; SOCKW when the
send buffer is full). A plain handler runs with no coroutine at all, straight from the
transport's callback (the hot path of bulk data: SOCKW, SOCKR). It gets the typed parameters of its table
entry as keyword arguments (names as in the table) plus ``data: bytes`` for {data} commands.
Returning means ``AT-S.OK``; raising ``AtError(n)`` means ``AT-S.ERROR:n:<text>``. Information
lines go out through ``ctx.info()``/``ctx.line()``/``ctx.raw()`` before the OK.

A command in the table with no registered handler answers
``AT-S.ERROR:1:Command not implemented in atwifi``, never a silent OK (docs/behaviour.md).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atwifi.spwf04.context import Context

Handler = Callable[..., Awaitable[None] | None]

_HANDLERS: dict[str, Handler] = {}
# The handlers that are plain functions (see above): the device calls them without a coroutine.
SYNC_HANDLERS: set[Handler] = set()

# Every handler module; each registers its commands on import. Add new groups here.
MODULES = (
    "basic",
    "config",
    "status",
    "files",
    "radio",
    "sockets",
    "servers",
    "tls",
    "net",
    "httpd",
    "pins",
    "power",
    "http",
    "tftp",
    "smtp",
    "websocket",
    "mqtt",
    "python",
)


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler of table command ``name`` ("SOCKW", "" for bare AT)."""

    def register(fn: Handler) -> Handler:
        key = name.upper()
        if key in _HANDLERS:
            raise RuntimeError(f"two handlers for AT+S.{key}")
        _HANDLERS[key] = fn
        if not inspect.iscoroutinefunction(fn):
            SYNC_HANDLERS.add(fn)
        return fn

    return register


# The burst forms of plain handlers (see ``burst``), by the handler they speed up.
BURSTS: dict[Handler, Callable[..., tuple[int, Awaitable[None] | None]]] = {}


def burst(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the burst form of the plain handler of ``name``: ``fn(ctx, blocks, **args)``
    carries out a burst of identical commands (``blocks``: each one's data) exactly as the
    handler would, one after the other, and returns how many it carried out and, when the
    last of those has to wait, that wait. It stops before a block it cannot carry out plainly
    (an error): the handler then runs that one, which says why."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        BURSTS[_HANDLERS[name.upper()]] = fn
        return fn

    return register


_loaded = False


def handlers() -> dict[str, Handler]:
    global _loaded
    if not _loaded:
        for mod in MODULES:
            importlib.import_module(f"{__name__}.{mod}")
        _loaded = True
    return _HANDLERS


def lookup(name: str) -> Handler | None:
    """``name`` as the table spells it (upper case)."""
    if not _loaded:
        handlers()
    return _HANDLERS.get(name)


__all__ = ["handler", "burst", "handlers", "lookup", "Context", "Any", "SYNC_HANDLERS", "BURSTS"]
