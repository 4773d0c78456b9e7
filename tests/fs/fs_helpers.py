"""The root conftest's classes, by path: ``import conftest`` finds whichever conftest module
pytest imported last when other test folders have their own."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _root_conftest():  # type: ignore[no-untyped-def]
    name = "_atwifi_root_conftest"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_c = _root_conftest()
InProcessModule = _c.InProcessModule
ServedModule = _c.ServedModule
spawn_serve = _c.spawn_serve
stop_serve = _c.stop_serve
