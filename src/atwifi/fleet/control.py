"""The fleet's control socket (<fleet state>/ctl.sock): the verbs of `atwifi ctl`, each for
the module named by the ``module`` argument; ``fleet.modules`` lists the modules and their
consoles, ``fleet.servers module=NAME`` the module's socket servers and their host ports."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from atwifi.control import verbs
from atwifi.control.protocol import ControlError, decode
from atwifi.control.server import ControlServer

log = logging.getLogger("atwifi.fleet")


class FleetControlServer(ControlServer):
    def __init__(self, fleet: Any, path: Path) -> None:
        super().__init__(None, path)
        self.fleet = fleet

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
        if name == "fleet.modules":
            return {"id": rid, "ok": True, "result": dict(self.fleet.consoles())}
        args = dict(args)
        module = args.pop("module", None)
        if name != "help" and module is None:
            return {
                "id": rid,
                "ok": False,
                "error": "a fleet's control socket needs module=NAME ('fleet.modules' lists them)",
            }
        try:
            device = self.fleet.device(str(module)) if module is not None else None
        except KeyError:
            return {"id": rid, "ok": False, "error": f"no module {module!r} in the fleet"}
        if name == "fleet.servers":
            sockets = getattr(device, "sockets", None)
            servers = [] if sockets is None else list(sockets.servers.values())
            return {
                "id": rid,
                "ok": True,
                "result": [
                    {"id": sv.sid, "port": sv.port, "kind": sv.kind, "host_port": sv.host_port}
                    for sv in servers
                ],
            }
        try:
            result = await verbs.call(device, name, args)
        except (ControlError, ValueError) as e:
            return {"id": rid, "ok": False, "error": str(e)}
        except Exception as e:  # a bug in a verb: say so, keep serving
            log.exception("control verb %s failed", name)
            return {"id": rid, "ok": False, "error": f"internal error in {name}: {e!r}"}
        if device is not None:
            device.trace_note(f"control: {name} {args}")
        return {"id": rid, "ok": True, "result": result}
