"""The module's TFTP server: read and write requests on one UDP port, one task per transfer.

Each transfer gets its own port (the server's TID, RFC 1350). Files come from and go to a
``Store`` the dialect provides; it raises ``ServiceError(TftpFault.NOT_FOUND / ACCESS /
DISK_FULL)``, which the client sees as TFTP ERROR 1 / 2 / 3. A write is kept whole in memory
and handed to the store at the end, so a transfer that fails half-way leaves nothing behind;
the store is asked every 64 blocks whether the file still fits, so a full volume stops the
upload early with ERROR 3.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from atwifi.services.errors import ServiceError
from atwifi.services.tftp import packet as P
from atwifi.services.tftp.client import DEFAULT, ROOM_EVERY, TftpFault, Timing
from atwifi.services.tftp.udp import Addr, Endpoint, open_endpoint

MAX_TRANSFERS = 4  # at once; more requests get ERROR 0 "Server busy"

_CODE_OF_FAULT = {
    TftpFault.NOT_FOUND: P.Code.NOT_FOUND,
    TftpFault.ACCESS: P.Code.ACCESS,
    TftpFault.DISK_FULL: P.Code.DISK_FULL,
}


if TYPE_CHECKING:
    from typing import Protocol

    class Store(Protocol):
        async def read(self, name: str) -> bytes: ...

        async def room(self, name: str, size: int) -> None:
            """Raise ServiceError(ACCESS) if ``name`` may not be written, (DISK_FULL) if ``size``
            bytes would not fit."""

        async def write(self, name: str, data: bytes) -> None: ...

    class Events(Protocol):
        def received(self, ip: str, name: str) -> None: ...
        def note(self, text: str) -> None: ...


def _code(exc: ServiceError) -> int:
    return _CODE_OF_FAULT.get(exc.kind, P.Code.NOT_DEFINED)  # type: ignore[call-overload]


class TftpServer:
    def __init__(
        self,
        store: Store,
        events: Events,
        *,
        allowed: Callable[[str], bool] = lambda ip: True,
        timing: Timing = DEFAULT,
    ) -> None:
        self.store = store
        self.events = events
        self.allowed = allowed
        self.timing = timing
        self.host = ""
        self.port = 0
        self._ep: Endpoint | None = None
        self._task: asyncio.Task[None] | None = None
        self._transfers: dict[Addr, asyncio.Task[None]] = {}

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` (0: a free port); ``self.port`` says which."""
        self._ep = await open_endpoint(host, port)
        self.host, self.port = host, self._ep.port
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="tftpd")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._transfers.values()) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
        self._transfers.clear()
        self._task = None
        if self._ep is not None:
            self._ep.close()
            self._ep = None

    async def _listen(self) -> None:
        ep = self._ep
        assert ep is not None
        while not ep.closed:
            got = await ep.recv(3600.0)
            if got is None:
                continue
            raw, addr = got
            try:
                req = P.parse(raw)
            except P.PacketError:
                continue  # not a request: no answer (nothing to amplify)
            if not isinstance(req, P.Request):
                continue
            if not self.allowed(addr[0]):
                self.events.note(f"TFTP: request from {addr[0]} blocked by network policy")
                continue
            if addr in self._transfers:
                continue  # a retransmitted request: that transfer is running
            if len(self._transfers) >= MAX_TRANSFERS:
                ep.send(P.error(P.Code.NOT_DEFINED, "Server busy"), addr)
                continue
            task = asyncio.get_running_loop().create_task(
                self._transfer(req, addr), name=f"tftpd {addr[0]}:{addr[1]}"
            )
            self._transfers[addr] = task
            task.add_done_callback(lambda _t, a=addr: self._transfers.pop(a, None))

    async def _transfer(self, req: P.Request, peer: Addr) -> None:
        ep = await open_endpoint(self.host, 0)
        try:
            if req.mode not in ("octet", "netascii"):
                ep.send(P.error(P.Code.ILLEGAL, f"mode {req.mode} not supported"), peer)
            elif req.op == P.Op.RRQ:
                await self._send_file(ep, req, peer)
            else:
                await self._receive_file(ep, req, peer)
        except _Gone as e:
            self.events.note(f"TFTP: {req.filename} with {peer[0]}:{peer[1]}: {e}")
        except Exception as e:  # a bug or a store failing unexpectedly: end this transfer only
            ep.send(P.error(P.Code.NOT_DEFINED, "Internal error"), peer)
            self.events.note(f"TFTP: {req.filename} with {peer[0]}:{peer[1]} failed: {e!r}")
        finally:
            ep.close()

    async def _await(self, ep: Endpoint, peer: Addr, last: bytes, want: type) -> P.Packet:
        """The peer's next packet of type ``want`` (ERROR ends the transfer), with
        retransmission of ``last``; packets from other ports get ERROR 5."""
        loop = asyncio.get_running_loop()
        tries = 0
        deadline = loop.time() + self.timing.timeout
        while True:
            got = await ep.recv(max(0.0, deadline - loop.time()))
            if got is None:
                tries += 1
                if tries > self.timing.retries:
                    raise _Gone("no answer")
                ep.send(last, peer)
                deadline = loop.time() + self.timing.timeout
                continue
            raw, addr = got
            if addr != peer:
                ep.send(P.error(P.Code.UNKNOWN_TID), addr)
                continue
            try:
                pkt = P.parse(raw)
            except P.PacketError as e:
                ep.send(P.error(P.Code.ILLEGAL), peer)
                raise _Gone(f"bad packet: {e}") from None
            if isinstance(pkt, P.Error):
                raise _Gone(f"client sent ERROR {pkt.code} {pkt.message}")
            if isinstance(pkt, want):
                return pkt
            ep.send(P.error(P.Code.ILLEGAL), peer)
            raise _Gone(f"unexpected {pkt!r}")

    async def _send_file(self, ep: Endpoint, req: P.Request, peer: Addr) -> None:
        try:
            content = await self.store.read(req.filename)
        except ServiceError as e:
            ep.send(P.error(_code(e)), peer)
            self.events.note(f"TFTP: read {req.filename} refused: {e}")
            return
        if req.mode == "netascii":
            content = P.to_netascii(content)
        if len(content) > P.MAX_SIZE:
            ep.send(P.error(P.Code.NOT_DEFINED, "File too large for TFTP"), peer)
            return
        blocks = len(content) // P.BLOCK + 1
        for n in range(1, blocks + 1):
            last = P.data(n, content[(n - 1) * P.BLOCK : n * P.BLOCK])
            ep.send(last, peer)
            while True:
                ack = await self._await(ep, peer, last, P.Ack)
                assert isinstance(ack, P.Ack)
                if ack.block == n:
                    break  # older ACKs are duplicates: never resend on them

    async def _receive_file(self, ep: Endpoint, req: P.Request, peer: Addr) -> None:
        name = req.filename
        try:
            await self.store.room(name, 0)
        except ServiceError as e:
            ep.send(P.error(_code(e)), peer)
            self.events.note(f"TFTP: write {name} refused: {e}")
            return
        buf = bytearray()
        last = P.ack(0)
        ep.send(last, peer)
        n = 1
        while True:
            pkt = await self._await(ep, peer, last, P.Data)
            assert isinstance(pkt, P.Data)
            if pkt.block != n:
                if pkt.block == n - 1:
                    ep.send(last, peer)  # our ACK was lost
                continue
            buf += pkt.data
            final = len(pkt.data) < P.BLOCK
            if not final and n == P.MAX_BLOCKS:
                ep.send(P.error(P.Code.DISK_FULL), peer)
                raise _Gone("more than 65535 blocks")
            try:
                if final:
                    content = P.from_netascii(bytes(buf)) if req.mode == "netascii" else bytes(buf)
                    await self.store.write(name, content)
                elif n % ROOM_EVERY == 0:
                    await self.store.room(name, len(buf))
            except ServiceError as e:
                ep.send(P.error(_code(e)), peer)
                self.events.note(f"TFTP: write {name} failed: {e}")
                return
            last = P.ack(n)
            ep.send(last, peer)
            if final:
                break
            n += 1
        self.events.received(peer[0], name)
        await self._dally(ep, peer, last, n)

    async def _dally(self, ep: Endpoint, peer: Addr, last: bytes, n: int) -> None:
        """Our final ACK may be lost: answer a repeated last block for one timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timing.timeout
        while (left := deadline - loop.time()) > 0:
            got = await ep.recv(left)
            if got is None:
                return
            raw, addr = got
            if addr == peer:
                with contextlib.suppress(P.PacketError):
                    pkt = P.parse(raw)
                    if isinstance(pkt, P.Data) and pkt.block == n:
                        ep.send(last, peer)


class _Gone(Exception):
    """The transfer ended early (timeout, ERROR from the client, a bad packet)."""
