"""MicroPython for the module: a real MicroPython VM (the native unix port in a bwrap sandbox,
or the WASI build run by wasmtime) whose only way out is the host bridge the dialect gives it.
Dialect-free: no AT text here.

Imported lazily by the dialect's part: ``import atwifi.services.micropython`` does not import
wasmtime (engine.py does, on the first run).
"""

from atwifi.services.micropython.session import GuestError, Session

__all__ = ["GuestError", "Session"]
