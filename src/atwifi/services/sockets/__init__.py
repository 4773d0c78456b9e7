"""TCP/UDP/TLS client and server sockets with the module's buffers and indications."""

from atwifi.services.sockets.conn import FIN, RST, TIMEOUT, Conn, Events
from atwifi.services.sockets.manager import MAX_CLIENTS, MAX_SERVERS, Sockets, literal_resolve
from atwifi.services.sockets.server import Server

__all__ = [
    "FIN",
    "MAX_CLIENTS",
    "MAX_SERVERS",
    "RST",
    "TIMEOUT",
    "Conn",
    "Events",
    "Server",
    "Sockets",
    "literal_resolve",
]
