"""Faults on demand: network faults per destination or per socket, DNS, TLS, the console,
and scenarios that apply verbs over time. The service: atwifi.services.faults."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from atwifi.control.protocol import ControlError
from atwifi.control.verbs import verb
from atwifi.services.faults import NET_KINDS, FaultError, Faults, make_rule
from atwifi.services.faults.conn import ConnFaults

SOCKET_KINDS = ("reset", "stall", "delay", "bandwidth", "loss")


def _faults(device: Any) -> Faults:
    f = getattr(device, "faults", None)
    if f is None:
        raise ControlError("the module has no fault service")
    return f


@verb(
    "fault.add",
    "add a network fault: kind=refuse|reset|stall|delay|loss|bandwidth|dns_fail|dns_timeout|"
    "dns_answer|tls_fail|tls_cert [match=host:port glob] [proto=tcp|udp|tls] [times=N] "
    "[seed=N] and the kind's own (after=, ms=, jitter_ms=, rate=, bps=, seconds=, answer=, cert=)",
)
def fault_add(device: Any, kind: str, **args: Any) -> dict[str, Any]:
    try:
        rule = make_rule(kind, **args)
    except (FaultError, TypeError, ValueError) as e:
        raise ControlError(str(e)) from None
    f = _faults(device)
    f.add(rule)
    f.note(f"fault #{rule.id} {rule.kind} added for {rule.match} ({rule.proto}) {rule.params}")
    return rule.to_dict()


@verb("fault.remove", "remove a fault rule (id=N, as fault.add or fault.list give it)")
def fault_remove(device: Any, id: Any) -> dict[str, Any]:
    f = _faults(device)
    try:
        rule = f.remove(int(id))
    except (FaultError, ValueError) as e:
        raise ControlError(str(e)) from None
    f.note(f"fault #{rule.id} {rule.kind} removed")
    return rule.to_dict()


@verb("fault.list", "the active fault rules and console faults")
def fault_list(device: Any) -> dict[str, Any]:
    f = _faults(device)
    return {
        "rules": [r.to_dict() for r in f.rules + f.bound],
        "console": f.console.to_dict(),
        "kinds": {k: list(v) for k, v in NET_KINDS.items()},
    }


@verb("fault.clear", "remove every fault rule and the console faults")
def fault_clear(device: Any) -> int:
    f = _faults(device)
    n = f.clear()
    f.note(f"faults cleared ({n} rules)")
    return n


def _client_transport(device: Any, client: str, id: Any) -> Any:
    """The transport (as the client's protocol sees it) of an open WebSocket client (the
    host's, WSOCKON id) or of MQTT's broker connection (id 0), or None."""
    try:
        n = int(id)
    except (TypeError, ValueError):
        return None
    if client == "websocket":
        ws = getattr(device, "websockets", None)
        c = ws.clients.get(n) if ws is not None else None
        return getattr(c, "_transport", None) if c is not None and c.connected else None
    if client == "mqtt":
        svc = getattr(device, "mqtt", None)
        session = getattr(svc, "session", None)
        if n != 0 or session is None or session.closed:
            return None
        link = session.link
        link = getattr(link, "link", link)  # MQTT's own WebSocket link: its TCP/TLS link
        writer = getattr(link, "writer", None)
        if writer is not None:
            return writer.transport
        ws_client = getattr(link, "client", None)  # over the WebSocket service
        return getattr(ws_client, "_transport", None)
    raise ControlError(f"client must be websocket or mqtt, not {client!r}")


def _fault_client(device: Any, f: Faults, client: str, id: Any, kind: str, args: Any) -> Any:
    from atwifi.services.net.dial import plan_of

    if kind == "loss":
        raise ControlError("loss applies to UDP client sockets")
    plan = plan_of(_client_transport(device, client, id))
    if plan is None:
        raise ControlError(f"no open {client} connection {id}")
    try:
        rule = make_rule(kind, **args)
    except (FaultError, TypeError, ValueError) as e:
        raise ControlError(str(e)) from None
    rule.socket = int(id)
    f.add(rule)
    f.note(f"fault #{rule.id} {rule.kind} added on {client} {id} {rule.params}")
    plan.add(rule)
    return rule.to_dict()


@verb(
    "fault.socket",
    "a fault on one open socket: id=N (a client socket; with server=S, client N of the "
    "module's server S; with client=websocket, WebSocket client N; with client=mqtt, the "
    "broker connection 0) kind=reset|stall|delay|bandwidth|loss [after=bytes] [ms=] "
    "[jitter_ms=] [bps=] [rate=] [seed=]",
)
def fault_socket(
    device: Any, id: Any, kind: str, server: Any = None, client: Any = None, **args: Any
) -> dict[str, Any]:
    f = _faults(device)
    if kind not in SOCKET_KINDS:
        raise ControlError(f"kind must be one of {SOCKET_KINDS} on an open socket")
    if client is not None:
        return _fault_client(device, f, str(client), id, kind, args)  # type: ignore[no-any-return]
    sockets = getattr(device, "sockets", None)
    try:
        if sockets is None:
            conn = None
        elif server is None:
            conn = sockets.clients[int(id)]
        else:
            conn = sockets.servers[int(server)].clients[int(id)]
    except (KeyError, ValueError):
        conn = None
    if conn is None or (server is not None and conn.udp_addr is not None):
        where = f"client {id} of server {server} (TCP/TLS)" if server is not None else id
        raise ControlError(f"no open socket {where}")
    if kind == "loss" and conn.kind != "u":
        raise ControlError("loss applies to UDP client sockets")
    try:
        rule = make_rule(kind, **args)
    except (FaultError, TypeError, ValueError) as e:
        raise ControlError(str(e)) from None
    rule.socket = int(id)  # numbered like the others, but bound to this socket only
    f.add(rule)
    f.note(f"fault #{rule.id} {rule.kind} added on socket {id} {rule.params}")
    if conn.faults is None:
        proto = {"t": "tcp", "u": "udp", "s": "tls"}.get(conn.kind, "tls")
        name = f"socket {id}" if server is None else f"server {server} client {id}"
        plan = f.track(ConnFaults([], f"{proto} {name} ({conn.ip}:{conn.port})", f.note))
        plan.conn = conn
        conn.faults = plan
    conn.faults.add(rule)
    return rule.to_dict()


@verb(
    "fault.console",
    "console faults: [fragment_size=bytes] [fragment_delay_ms=] [drop_rate=0..1] "
    "[corrupt_rate=0..1] [direction=out|in|both] [seed=N]; 0 turns one off",
)
def fault_console(device: Any, **args: Any) -> dict[str, Any]:
    f = _faults(device)
    from atwifi.services.faults.load import CONSOLE_KEYS

    unknown = set(args) - set(CONSOLE_KEYS)
    if unknown:
        raise ControlError(f"unknown console fault settings {sorted(unknown)}")
    try:
        return f.console.set(**args)
    except (TypeError, ValueError) as e:
        raise ControlError(str(e)) from None


def start_scenario(device: Any, steps: list[dict[str, Any]]) -> asyncio.Task[int]:
    """Run ``steps`` in the background through the control verbs (outlives module resets)."""
    from atwifi.control import verbs
    from atwifi.services.faults import scenario

    f = _faults(device)

    async def call(name: str, args: dict[str, Any]) -> Any:
        return await verbs.call(device, name, args)

    task = asyncio.get_running_loop().create_task(scenario.run(steps, call, f.note))
    f.scenarios.add(task)
    task.add_done_callback(f.scenarios.discard)
    return task


@verb(
    "scenario.run",
    "schedule verbs over time: file=PATH (TOML [[step]] at=, verb=, args=) or steps=[...]",
)
def scenario_run(device: Any, file: str | None = None, steps: Any = None) -> dict[str, Any]:
    from atwifi.services.faults.load import load_scenario, parse_scenario

    try:
        if file is not None:
            parsed = load_scenario(Path(str(file)))
        elif steps is not None:
            parsed = parse_scenario(steps)
        else:
            raise ControlError("scenario.run wants file=PATH or steps=[...]")
    except FaultError as e:
        raise ControlError(str(e)) from None
    start_scenario(device, parsed)
    return {"steps": len(parsed), "last_at": parsed[-1]["at"]}


@verb("scenario.stop", "stop every running scenario (what it applied stays)")
def scenario_stop(device: Any) -> int:
    f = _faults(device)
    tasks = list(f.scenarios)
    for t in tasks:
        t.cancel()
    return len(tasks)
