"""TCP/UDP/TLS client and server sockets with the module's buffers and indications."""

from atwifi.services.sockets.conn import FIN, RST, TIMEOUT, Conn, Events
from atwifi.services.sockets.errors import Closure, Refusal, SockFault
from atwifi.services.sockets.manager import MAX_CLIENTS, MAX_SERVERS, Sockets, literal_resolve
from atwifi.services.sockets.server import Server

__all__ = [
    "Closure",
    "Refusal",
    "FIN",
    "MAX_CLIENTS",
    "MAX_SERVERS",
    "RST",
    "TIMEOUT",
    "Conn",
    "Events",
    "Server",
    "SockFault",
    "Sockets",
    "literal_resolve",
]
