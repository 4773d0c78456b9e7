"""Console plugs: pty, tcp, stdio, rfc2217, serial. Only the chosen one is imported."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atwifi.transports.base import Transport

KINDS = ("pty", "tcp", "stdio", "rfc2217", "serial")
DEFAULT_HOST = "127.0.0.1"


def parse_hostport(text: str) -> tuple[str, int]:
    """'HOST:PORT', '[V6]:PORT', ':PORT' or 'PORT' (host 127.0.0.1). Port 0: any free port."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError(f"bad address {text!r}: expected [IPV6]:PORT, e.g. [::1]:2217")
        port_text = rest[1:]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
        if ":" in host:
            raise ValueError(f"bad address {text!r}: write IPv6 addresses as [ADDR]:PORT")
    else:
        host, port_text = "", text
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(
            f"bad address {text!r}: expected HOST:PORT with a port number 0-65535,"
            " e.g. 127.0.0.1:2217 (0 picks a free port)"
        )
    return host or DEFAULT_HOST, int(port_text)


def make_transport(
    kind: str, arg: str | None, *, pty_link: str | None = None, baudrate: int = 115200
) -> Transport:
    """The transport `atwifi serve` asks for. baudrate: the serial port's speed (serial), the
    rate an RFC 2217 host reads back before it sets its own (rfc2217); ignored otherwise."""
    if kind == "pty":
        from atwifi.transports.pty import PtyTransport

        return PtyTransport(pty_link, baudrate)
    if pty_link is not None:
        raise ValueError("--pty-link only applies to the pty console")
    if kind == "stdio":
        from atwifi.transports.stdio import StdioTransport

        return StdioTransport()
    if kind in ("tcp", "rfc2217"):
        if not arg:
            raise ValueError(f"the {kind} console needs HOST:PORT, e.g. 127.0.0.1:2217")
        host, port = parse_hostport(arg)
        if kind == "tcp":
            from atwifi.transports.tcp import TcpTransport

            return TcpTransport(host, port)
        from atwifi.transports.rfc2217 import Rfc2217Transport

        return Rfc2217Transport(host, port, baudrate=baudrate)
    if kind == "serial":
        if not arg:
            raise ValueError("the serial console needs a device, e.g. /dev/ttyUSB0")
        from atwifi.transports.serial import SerialTransport

        return SerialTransport(arg, baudrate)
    raise ValueError(f"unknown console kind {kind!r}: choose one of {', '.join(KINDS)}")
