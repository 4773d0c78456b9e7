"""The control channel's server: a Unix socket next to the module, JSON lines, one verb per
request. It runs in the module's event loop, so verbs act on the device directly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from atwifi.control import verbs
from atwifi.control.protocol import (
    MAX_LINE,
    ControlError,
    bindable,
    decode,
    encode,
    socket_path,
)
from atwifi.statedir import FILE_MODE, private_folder

log = logging.getLogger("atwifi.control")


class ControlServer:
    def __init__(self, device: Any, path: Path | None = None) -> None:
        self.device = device
        self.path = path or socket_path(device.state_dir)
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        if self._server is not None:
            return
        private_folder(self.path.parent)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a stale socket of a module that died
        with bindable(self.path) as name:
            self._server = await asyncio.start_unix_server(self._serve, path=name, limit=MAX_LINE)
            # Whoever can connect can read the world's passphrases (world.show): owner only.
            os.chmod(name, FILE_MODE)

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._clients):
            task.cancel()
        with contextlib.suppress(Exception):
            await server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write(encode({"id": None, "ok": False, "error": "request too long"}))
                    break
                if not line:
                    break
                writer.write(encode(await self.handle(line)))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._clients.discard(task)
            writer.close()

    async def handle(self, line: bytes) -> dict[str, Any]:
        try:
            req = decode(line)
        except ValueError as e:
            return {"id": None, "ok": False, "error": f"bad request: {e}"}
        rid = req.get("id")
        name = req.get("verb")
        args = req.get("args") or {}
        if not isinstance(name, str) or not isinstance(args, dict):
            return {
                "id": rid,
                "ok": False,
                "error": "a request has a verb (text) and args (object)",
            }
        return await self.dispatch(rid, name, dict(args))

    async def dispatch(self, rid: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """A well-formed request: run it (a fleet's server picks the module first)."""
        return await self.call_verb(self.device, rid, name, args)

    @staticmethod
    async def call_verb(device: Any, rid: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            result = await verbs.call(device, name, args)
        except (ControlError, ValueError) as e:
            return {"id": rid, "ok": False, "error": str(e)}
        except Exception as e:  # a bug in a verb: say so, keep serving
            log.exception("control verb %s failed", name)
            return {"id": rid, "ok": False, "error": f"internal error in {name}: {e!r}"}
        if hasattr(device, "trace_note"):
            device.trace_note(f"control: {name} {args}")
        return {"id": rid, "ok": True, "result": result}
