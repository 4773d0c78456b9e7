"""The console as a raw byte stream on TCP (one host at a time)."""

from __future__ import annotations

from atwifi.transports._sockhost import SocketHostTransport


class TcpTransport(SocketHostTransport):
    """Raw console on TCP. A new connection replaces the old one; while no host is connected the
    newest 64 KiB of output wait for the next host, so it still sees the boot indications."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
