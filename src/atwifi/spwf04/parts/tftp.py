"""TftpPart: publishes ``device.tftp`` (client timing, the module's TFTP server).

With ``ip_use_tftpd=1`` (factory) the server listens from boot to reset on the module's port
69, which is ``--port-map 69:<host port>`` on the host, or a free port (never the host's 69,
which needs root and may be taken). Files go in and out of the volumes through ``device.fs``:
a write is whole or absent, the read-only application flash refuses, a full volume answers
TFTP ERROR 3 with nothing left behind. After each write: ``+WIND:90:File Received:<ip>:<name>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atwifi.services.errors import ServiceError
from atwifi.services.fs import FsFault
from atwifi.services.tftp import TftpFault, TftpServer, Timing
from atwifi.services.tftp.packet import MAX_SIZE

if TYPE_CHECKING:
    from atwifi.spwf04.device import Device

MODULE_PORT = 69


class VolumeStore:
    """The TFTP server's files: the module's volumes, as a host sees them (a protected
    application flash is not readable)."""

    def __init__(self, device: Device) -> None:
        self.device = device

    def _fs(self):  # noqa: ANN202 (the file system service of this boot)
        fs = self.device.fs
        if fs is None:
            raise ServiceError(TftpFault.ACCESS, "no file system")
        return fs

    async def read(self, name: str) -> bytes:
        fs = self._fs()
        if not fs.exists(name):
            raise ServiceError(TftpFault.NOT_FOUND, name)
        try:
            if fs.size(name) > MAX_SIZE:  # never read a file TFTP cannot carry
                raise ServiceError(TftpFault.TOO_BIG, f"{name}: more than 65535 blocks")
            return await fs.read(name, console=True)
        except ServiceError as e:
            if not isinstance(e.kind, FsFault):
                raise  # TOO_BIG above
            raise ServiceError(TftpFault.ACCESS, f"{name}: {e}") from None

    async def room(self, name: str, size: int) -> None:
        fs = self._fs()
        if not fs.writable(name):
            raise ServiceError(TftpFault.ACCESS, f"{name}: no writable volume")
        try:
            fits = await fs.fits(name, size)
        except ServiceError as e:
            raise ServiceError(TftpFault.ACCESS, f"{name}: {e}") from None
        if not fits:
            raise ServiceError(TftpFault.DISK_FULL, f"{name}: {size} bytes do not fit")

    async def write(self, name: str, data: bytes) -> None:
        await self.room(name, len(data))
        try:
            await self._fs().write(name, data)
        except ServiceError as e:  # a host folder whose disk filled up, a race with FSC
            raise ServiceError(TftpFault.DISK_FULL, f"{name}: {e}") from None


class WindEvents:
    def __init__(self, device: Device) -> None:
        self.device = device

    def received(self, ip: str, name: str) -> None:
        self.device.wind(90, ip, name)

    def note(self, text: str) -> None:
        self.device.trace_note(text)


class Tftp:
    """What ``device.tftp`` is: the client's timing (tests make it short) and the server."""

    def __init__(self) -> None:
        self.timing = Timing()
        self.server: TftpServer | None = None


class TftpPart:
    attr = "tftp"

    def __init__(self, device: Device) -> None:
        self.device = device
        self.tftp = Tftp()  # outlives resets, so a test's short timing stays
        self._port: int | None = None  # the host port of the first start

    def _allowed(self, ip: str) -> bool:
        net = self.device.net
        return True if net is None else bool(net.allowed(ip))

    async def start(self) -> None:
        d = self.device
        d.tftp = self.tftp
        if int(d.config.get("ip_use_tftpd")) != 1:
            return
        server = TftpServer(
            VolumeStore(d), WindEvents(d), allowed=self._allowed, timing=self.tftp.timing
        )
        host = d.options.bind_host
        mapped = d.options.port_map.get(MODULE_PORT)
        # A free port is chosen once and kept across resets, so the port `atwifi serve`
        # printed stays right; if it was taken meanwhile, a new free one.
        tries = [mapped] if mapped is not None else [p for p in (self._port, 0) if p is not None]
        for port in tries:
            try:
                await server.start(host, port)
                break
            except OSError as e:
                d.trace_note(f"TFTP server not started on udp {host}:{port}: {e}")
        else:
            return
        self._port = server.port
        self.tftp.server = server
        d.endpoints["tftp"] = f"udp {server.host}:{server.port}"
        d.trace_note(f"TFTP server (module port 69) on udp {server.host}:{server.port}")

    async def after_boot(self) -> None:
        return None

    async def stop(self) -> None:
        server, self.tftp.server = self.tftp.server, None
        self.device.endpoints.pop("tftp", None)
        if server is not None:
            await server.stop()
