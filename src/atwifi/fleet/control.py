"""The fleet's control socket (<fleet state>/ctl.sock): the verbs of `atwifi ctl`, each for
the module named by the ``module`` argument; ``fleet.modules`` lists the modules and their
consoles, ``fleet.servers module=NAME`` the module's socket servers and their host ports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from atwifi.control.server import ControlServer


class FleetControlServer(ControlServer):
    def __init__(self, fleet: Any, path: Path) -> None:
        super().__init__(None, path)
        self.fleet = fleet

    async def dispatch(self, rid: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
        if name == "fleet.modules":
            return {"id": rid, "ok": True, "result": dict(self.fleet.consoles())}
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
        return await self.call_verb(device, rid, name, args)
