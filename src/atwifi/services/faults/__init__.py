"""Faults on demand: the active fault rules that the network services consult.

Dialect-free: no Table 10 number, no dialect text. The services ask through small hooks:

* every client connection (the socket service, HTTP, WebSocket, MQTT, SMTP, TFTP, NTP), through
  the one connection path (services/net/dial.py): ``Faults.on_connect(name, ip, port, proto)``
  before it connects:
  raises ``ConnectionRefusedError`` (refuse) or an ``ssl.SSLError`` (TLS handshake failure),
  else returns a ``ConnFaults`` plan (or None) that the socket's receive path runs its bytes
  through (reset after N bytes, stall, delay/jitter, bandwidth cap, UDP loss) and that says
  how the TLS verification should see the peer (an unknown or an expired certificate);
* resolver: ``Faults.on_resolve(name)``: a DNS failure, a timeout or a wrong answer;
* console: ``ConsoleFaults`` (faults/console.py), used by a transport-level wrapper.

Every fault that fires is named through ``note`` (the device's trace). Rules come from the
control channel (atwifi.control.verbs.faults), the world file's ``[faults]`` table and
scenario files (faults/scenario.py).
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import random
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from atwifi.services.faults.conn import ConnFaults

# Every kind of network fault, and the parameters each takes (besides match/times/seed).
NET_KINDS: dict[str, tuple[str, ...]] = {
    "refuse": (),
    "reset": ("after",),  # RST once `after` bytes were received from the peer
    "stall": ("after",),  # stop delivering once `after` bytes were received
    "delay": ("ms", "jitter_ms"),
    "loss": ("rate",),  # UDP datagrams from the peer dropped at this rate (0..1)
    "bandwidth": ("bps",),  # bytes per second from the peer
    "dns_fail": (),
    "dns_timeout": ("seconds",),
    "dns_answer": ("answer",),
    "tls_fail": (),  # the TLS handshake fails
    "tls_cert": ("cert",),  # the verification sees a bad certificate: unknown | expired
}
DNS_KINDS = ("dns_fail", "dns_timeout", "dns_answer")
STREAM_KINDS = ("reset", "stall", "delay", "loss", "bandwidth", "tls_cert")
PROTOS = ("tcp", "udp", "tls", "any")
TLS_CERTS = ("unknown", "expired")


class FaultError(ValueError):
    """A fault rule that cannot be: unknown kind, bad parameter."""


@dataclass
class Rule:
    kind: str
    match: str = "*"  # "host:port" glob: "127.0.0.1:*", "*:8080", "example.test:*", "*"
    proto: str = "any"  # tcp | udp | tls | any
    times: int = 0  # how many connects/lookups it applies to; 0: until removed
    seed: int | None = None  # for the random parts (jitter, loss)
    params: dict[str, Any] = field(default_factory=dict)
    id: int = 0
    fired: int = 0
    socket: int | None = None  # bound to one open client socket (fault.socket)
    active: bool = True  # False once removed: open sockets stop applying it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, name: str, ip: str, port: int | None, proto: str) -> bool:
        if self.proto != "any" and proto != "any" and self.proto != proto:
            return False
        pat = self.match.lower()
        host_pat, sep, port_pat = pat.rpartition(":") if ":" in pat else (pat, "", "*")
        if not sep:
            host_pat, port_pat = pat, "*"
        if host_pat.startswith("[") and host_pat.endswith("]"):
            host_pat = host_pat[1:-1]
        if port is not None and not fnmatch.fnmatchcase(str(port), port_pat or "*"):
            return False
        hosts = {h.lower().rstrip(".") for h in (name, ip) if h}
        return any(fnmatch.fnmatchcase(h, host_pat or "*") for h in hosts)


def _num(params: dict[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    try:
        v = float(params.get(key, default))
    except (TypeError, ValueError):
        raise FaultError(f"{key}: not a number: {params.get(key)!r}") from None
    if not lo <= v <= hi:
        raise FaultError(f"{key}={v} outside {lo}..{hi}")
    return v


def make_rule(kind: str, **args: Any) -> Rule:
    """A checked rule from verb/file arguments: kind=, match=, proto=, times=, seed= and the
    kind's own parameters."""
    kind = str(kind)
    if kind not in NET_KINDS:
        raise FaultError(f"unknown fault kind {kind!r}; known: {', '.join(NET_KINDS)}")
    match = str(args.pop("match", "*"))
    proto = str(args.pop("proto", "any")).lower()
    if proto not in PROTOS:
        raise FaultError(f"proto must be one of {PROTOS}, not {proto!r}")
    times = int(_num(args, "times", 0, 0, 1e9))
    args.pop("times", None)
    seed = args.pop("seed", None)
    if seed is not None:
        seed = int(seed)
    unknown = set(args) - set(NET_KINDS[kind])
    if unknown:
        raise FaultError(
            f"{kind} takes {list(NET_KINDS[kind]) or 'no parameters'}, not {sorted(unknown)}"
        )
    p: dict[str, Any] = {}
    if kind in ("reset", "stall"):
        p["after"] = int(_num(args, "after", 0, 0, 1e12))
    elif kind == "delay":
        p["ms"] = _num(args, "ms", 100, 0, 60000)
        p["jitter_ms"] = _num(args, "jitter_ms", 0, 0, 60000)
    elif kind == "loss":
        p["rate"] = _num(args, "rate", 1.0, 0, 1)
    elif kind == "bandwidth":
        p["bps"] = _num(args, "bps", 1000, 1, 1e10)
    elif kind == "dns_timeout":
        p["seconds"] = _num(args, "seconds", 2.0, 0, 60)
    elif kind == "dns_answer":
        from atwifi.services.net.resolver import ip_literal

        answer = ip_literal(str(args.get("answer", "")))
        if answer is None:
            raise FaultError(f"dns_answer needs answer=<an IP address>, not {args.get('answer')!r}")
        p["answer"] = answer
    elif kind == "tls_cert":
        cert = str(args.get("cert", "unknown"))
        if cert not in TLS_CERTS:
            raise FaultError(f"cert must be one of {TLS_CERTS}, not {cert!r}")
        p["cert"] = cert
    return Rule(kind=kind, match=match, proto=proto, times=times, seed=seed, params=p)


class DnsFault(Exception):
    """The resolver must fail: ``reason`` says why (the fault's name)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Faults:
    """The active fault rules of one module (they outlive its resets, as the world does)."""

    def __init__(self, note: Callable[[str], None] = lambda text: None) -> None:
        self.note = note
        self.rules: list[Rule] = []  # per destination
        self.bound: list[Rule] = []  # per open socket
        self._ids = itertools.count(1)
        from atwifi.services.faults.console import ConsoleFaults

        self.console = ConsoleFaults(note=lambda text: self.note(text))
        self.scenarios: set[asyncio.Task[Any]] = set()  # running scenarios (scenario.py)
        self.plans: weakref.WeakSet[ConnFaults] = weakref.WeakSet()  # of open connections

    # -- rules ---------------------------------------------------------------------------
    def add(self, rule: Rule) -> Rule:
        rule.id = next(self._ids)
        (self.bound if rule.socket is not None else self.rules).append(rule)
        return rule

    def remove(self, rule_id: int) -> Rule:
        for rules in (self.rules, self.bound):
            for r in rules:
                if r.id == rule_id:
                    rules.remove(r)
                    r.active = False
                    self._retime()
                    return r
        raise FaultError(f"no fault rule {rule_id}")

    def clear(self) -> int:
        n = len(self.rules) + len(self.bound)
        for r in self.rules + self.bound:
            r.active = False
        self.rules.clear()
        self.bound.clear()
        self.console.clear()
        self._retime()
        return n

    def track(self, plan: ConnFaults) -> ConnFaults:
        """A plan of an open connection: told when rules go (``ConnFaults.rule_gone``)."""
        self.plans.add(plan)
        return plan

    def _retime(self) -> None:
        for plan in list(self.plans):
            plan.rule_gone()

    def forget_socket(self, rule: Rule) -> None:
        """A socket's rule whose socket has gone."""
        if rule in self.bound:
            self.bound.remove(rule)

    def _fire(
        self, kinds: tuple[str, ...], name: str, ip: str, port: int | None, proto: str
    ) -> list[Rule]:
        out = []
        for r in list(self.rules):
            if r.kind in kinds and r.matches(name, ip, port, proto):
                r.fired += 1
                if r.times and r.fired >= r.times:
                    self.rules.remove(r)  # used up; open sockets keep what they got
                out.append(r)
        return out

    # -- hooks ---------------------------------------------------------------------------
    def on_connect(
        self, name: str, ip: str, port: int, proto: str, handshake: bool = True
    ) -> ConnFaults | None:
        """Before a client socket connects to ``ip:port`` (``name`` as the host gave it).
        ``handshake`` False: a TLS connection whose handshake comes later (STARTTLS); its
        ``tls_fail`` rules are asked then, through ``on_tls``."""
        where = f"{name}:{port}" if name == ip else f"{name} ({ip}):{port}"
        for r in self._fire(("refuse",), name, ip, port, proto):
            self.note(f"fault #{r.id} refuse: connection to {where} refused")
            raise ConnectionRefusedError(111, f"connection refused (fault #{r.id})")
        if proto == "tls" and handshake:
            self.on_tls(name, ip, port)
        # Only the kinds that mean something on this socket fire (and count against `times`).
        kinds = {
            "tcp": ("reset", "stall", "delay", "bandwidth"),
            "tls": ("reset", "stall", "delay", "bandwidth", "tls_cert"),
            "udp": ("loss", "delay", "bandwidth"),
        }.get(proto, STREAM_KINDS)
        rules = self._fire(kinds, name, ip, port, proto)
        if not rules:
            return None
        return self.track(ConnFaults(rules, f"{proto} {where}", self.note))

    def empty_plan(self, name: str, ip: str, port: int, proto: str) -> ConnFaults:
        """A plan with no rule yet for a connection that may take per-connection faults later
        (``fault.socket client=...``): the rules added to it act from then on."""
        where = f"{name}:{port}" if name == ip else f"{name} ({ip}):{port}"
        return self.track(ConnFaults([], f"{proto} {where}", self.note))

    def on_tls(self, name: str, ip: str, port: int) -> None:
        """Before a TLS handshake on a connection to ``ip:port``: at the connect for TLS from
        the start, or when a plain connection upgrades (SMTP's STARTTLS). Raises
        ``ssl.SSLError`` for a ``tls_fail`` rule."""
        where = f"{name}:{port}" if name == ip else f"{name} ({ip}):{port}"
        for r in self._fire(("tls_fail",), name, ip, port, "tls"):
            import ssl

            self.note(f"fault #{r.id} tls_fail: TLS handshake with {where} fails")
            raise ssl.SSLError(1, f"TLS handshake failure (fault #{r.id})")

    async def on_resolve(self, name: str) -> str | None:
        """Before a name is looked up: None (no fault), the wrong answer to return, or
        DnsFault raised."""
        for r in self._fire(DNS_KINDS, name, "", None, "any"):
            if r.kind == "dns_fail":
                self.note(f"fault #{r.id} dns_fail: lookup of {name} fails")
                raise DnsFault(f"fault #{r.id} dns_fail")
            if r.kind == "dns_timeout":
                self.note(f"fault #{r.id} dns_timeout: lookup of {name} gets no answer")
                # The module's resolver waiting for an answer that never comes.
                await asyncio.sleep(r.params["seconds"])
                raise DnsFault(f"fault #{r.id} dns_timeout: no answer")
            self.note(f"fault #{r.id} dns_answer: {name} resolves to {r.params['answer']}")
            return str(r.params["answer"])
        return None


def rng_for(seed: int | None) -> random.Random:
    return random.Random(seed)


__all__ = [
    "DNS_KINDS",
    "NET_KINDS",
    "ConnFaults",
    "DnsFault",
    "FaultError",
    "Faults",
    "Rule",
    "make_rule",
]
