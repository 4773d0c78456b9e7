"""SocketsPart: publishes ``device.sockets`` and ``device.tls`` and turns socket events into
WINDs. At a reset or power-off every socket goes, unread data included (RAM is lost)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from atwifi.errors import AtError
from atwifi.services.sockets import Closure, Refusal, Sockets, literal_resolve
from atwifi.services.tls import TlsService

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

UNIT = 1500  # ip_sock_memsize counts in units of 1500 bytes (Table 7)


# WIND:58 / WIND:62 closure reasons (manual Table 14, WIND 58) and WIND:83's reasons.
_CLOSURES = {
    Closure.FIN: 0,
    Closure.RST: 1,
    Closure.RETRANSMISSIONS: 2,
    Closure.NETWORK: 3,
    Closure.TIMEOUT: 4,
    Closure.UNREACHABLE: 5,
}
_REFUSALS = {Refusal.NO_MEMORY: 1, Refusal.TOO_MANY_UDP: 2}


class WindEvents:
    """Socket events as the SPWF04's indications (Table 14, wire-notes)."""

    def __init__(self, device: Device) -> None:
        self.device = device

    def pending(self, sid: int | None, cid: int, received: int, unread: int) -> None:
        # A client socket has no server id: "+WIND:55:Pending Data::0:31:31".
        self.device.wind(55, "" if sid is None else sid, cid, received, unread)

    def closed(self, cid: int, reason: Closure) -> None:
        self.device.wind(58, cid, _CLOSURES[reason])

    def incoming(self, ip: str, port: int, sid: int, cid: int) -> None:
        self.device.wind(61, ip, port, sid, cid)

    def gone(self, ip: str, port: int, sid: int, cid: int, reason: Closure) -> None:
        self.device.wind(62, ip, port, sid, cid, _CLOSURES[reason])

    def dropping(self, sid: int | None, cid: int, dropped: int) -> None:
        self.device.wind(63, "" if sid is None else sid, cid, dropped)

    def refused(self, reason: Refusal) -> None:
        self.device.wind(83, _REFUSALS[reason])

    def broadcast(self, sid: int, ip: str, port: int, data: bytes) -> None:
        self.device.wind(80, sid, ip, port, len(data), data.decode("latin-1"))

    def note(self, text: str) -> None:
        self.device.trace_note(text)


class SocketsPart:
    attr = "sockets"

    def __init__(self, device: Device) -> None:
        self.device = device
        self.tls = TlsService(
            device.state_dir / "certs", now=device.clock.now, read_file=self._read_file
        )

    async def _read_file(self, name: str) -> bytes:
        fs = self.device.fs
        if fs is None:  # no file system service: no fallback (manual 6.32)
            raise AtError(51, f"no file system for {name}")
        return await fs.read(name)

    async def _resolve(self, host: str) -> str:
        net = self.device.net
        if net is None:
            return await literal_resolve(host)
        return await net.resolve(host)

    def _check(self, ip: str, port: int) -> None:
        net = self.device.net
        if net is not None:
            net.check(ip, port)

    def _route(self, ip: str, port: int, kind: str) -> tuple[str, int] | None:
        """In a fleet (atwifi fleet), another module's server behind its simulated address."""
        fleet = getattr(self.device, "fleet", None)
        return None if fleet is None else fleet.route(self.device, ip, port, kind)

    def _capacity(self) -> int:
        return max(1, int(self.device.config.get("ip_sock_memsize"))) * UNIT

    def _threshold(self) -> int:
        return min(100, max(0, int(self.device.config.get("ip_sock_threshold"))))

    async def start(self) -> None:
        d = self.device
        await asyncio.to_thread(self.tls.load_saved)
        d.tls = self.tls
        d.sockets = Sockets(
            WindEvents(d),
            capacity=self._capacity,
            threshold=self._threshold,
            resolve=self._resolve,
            check=self._check,
            tls=self.tls,
            bind_host=d.options.bind_host,
            port_map=d.options.port_map,
            route=self._route,
            faults=getattr(d, "faults", None),
            heap=d.heap,
        )

    async def after_boot(self) -> None:
        return None

    async def stop(self) -> None:
        if self.device.sockets is not None:
            self.device.sockets.close_all()
            self.device.sockets = None
