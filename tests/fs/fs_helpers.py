"""The harness classes the fs tests use."""

from harness import InProcessModule, ServedModule, spawn_serve, stop_serve

__all__ = ["InProcessModule", "ServedModule", "spawn_serve", "stop_serve"]
