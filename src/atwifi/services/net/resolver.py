"""Name resolution for the virtual module: the world's [hosts], the system hosts file, and
only when the network policy lets packets leave the machine, the host's resolver.

Under the loopback-only policy no DNS query is ever sent: the hosts file is parsed here
rather than through getaddrinfo, because getaddrinfo falls through to DNS for unknown names.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atwifi.services.errors import ServiceError
from atwifi.services.net.errors import NetFault
from atwifi.services.net.policy import NetworkPolicy

SYSTEM_HOSTS = Path("/etc/hosts")


class ResolveError(ServiceError):
    """The name could not be resolved (``NetFault.UNRESOLVED``). ``blocked`` is True when the
    host resolver was not asked because the network policy keeps DNS queries on the machine."""

    def __init__(self, name: str, reason: str, blocked: bool = False) -> None:
        super().__init__(NetFault.UNRESOLVED, f"{name}: {reason}", name=name, blocked=blocked)
        self.name = name
        self.reason = reason
        self.blocked = blocked

    def __str__(self) -> str:
        return f"cannot resolve {self.name!r}: {self.reason}"


def ip_literal(text: str) -> str | None:
    """The canonical text of an IP literal (brackets and IPv6 zone allowed), else None."""
    t = text.strip()
    if t.startswith("[") and t.endswith("]"):
        t = t[1:-1]
    try:
        return str(ipaddress.ip_address(t.split("%", 1)[0]))
    except ValueError:
        return None


def parse_hosts(text: str) -> dict[str, list[str]]:
    """hosts(5) text -> lower-case name -> addresses in file order (first entry wins)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        addr = ip_literal(fields[0])
        if addr is None:
            continue
        for name in fields[1:]:
            out.setdefault(name.lower().rstrip("."), []).append(addr)
    return out


def _prefer_v4(addrs: list[str]) -> str:
    for a in addrs:
        if ":" not in a:
            return a
    return addrs[0]


def _read_small(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# hosts file -> the read in progress. Lookups made while one is under way share it (a fleet's
# modules all look up their NTP servers as they join): one thread hop and one parse for all.
_READING: dict[tuple[int, Path], asyncio.Future[dict[str, list[str]]]] = {}
# hosts file -> ((mtime_ns, size, inode), names): parsed again only when the file changed.
_PARSED: dict[Path, tuple[tuple[int, int, int], dict[str, list[str]]]] = {}


def _load_hosts(path: Path) -> dict[str, list[str]]:
    """Blocking: the names of hosts file ``path`` (empty when unreadable)."""
    try:
        st = path.stat()
    except OSError:
        return {}
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _PARSED.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    names = parse_hosts(_read_small(path))
    _PARSED[path] = (stamp, names)
    return names


async def hosts_file_names(path: Path) -> dict[str, list[str]]:
    """The names in hosts file ``path``, read off the event loop (it is disk I/O, however
    small), the file looked at again for every lookup that does not overlap one in progress."""
    loop = asyncio.get_running_loop()
    key = (id(loop), path)
    fut = _READING.get(key)
    if fut is None:
        fut = loop.run_in_executor(None, _load_hosts, path)
        _READING[key] = fut

        def done(_: object, key: tuple[int, Path] = key, fut: object = fut) -> None:
            if _READING.get(key) is fut:
                del _READING[key]

        fut.add_done_callback(done)
    return await asyncio.shield(fut)


class Resolver:
    def __init__(
        self,
        hosts: Mapping[str, str] | None = None,
        policy: NetworkPolicy | None = None,
        hosts_file: Path | str | None = SYSTEM_HOSTS,
        faults: Any = None,
    ) -> None:
        self.policy = policy or NetworkPolicy()
        self.faults = faults  # services/faults: DNS failure, timeout, wrong answer
        self.hosts: dict[str, str] = {}
        for name, addr in (hosts or {}).items():
            lit = ip_literal(str(addr))
            if lit is None:
                raise ValueError(f"[hosts] {name} = {addr!r}: not an IP address")
            self.hosts[str(name).strip().lower().rstrip(".")] = lit
        self.hosts_file = Path(hosts_file) if hosts_file is not None else None

    async def resolve(self, name: str) -> str:
        """The address ``name`` stands for, IPv4 preferred. IP literals pass through
        unchanged (the policy is the caller's business: resolving sends nothing)."""
        lit = ip_literal(name)
        if lit is not None:
            return lit
        key = name.strip().lower().rstrip(".")
        if not key:
            raise ResolveError(name, "empty name")
        if self.faults is not None:
            from atwifi.services.faults import DnsFault

            try:
                wrong = await self.faults.on_resolve(key)
            except DnsFault as e:
                raise ResolveError(name, e.reason) from None
            if wrong is not None:
                return wrong
        if key in self.hosts:
            return self.hosts[key]
        if self.hosts_file is not None:
            found = (await hosts_file_names(self.hosts_file)).get(key)
            if found:
                return _prefer_v4(found)
        if self.policy.loopback_only:
            raise ResolveError(
                name,
                "not in [hosts] or the hosts file, and the loopback-only network policy "
                "sends no DNS query",
                blocked=True,
            )
        return await self._system(name, key)

    async def _system(self, name: str, key: str) -> str:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(key, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as e:
            raise ResolveError(name, f"host resolver: {e}") from e
        addrs = [str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
        if not addrs:
            raise ResolveError(name, "host resolver returned no address")
        return _prefer_v4(addrs)
