"""How the socket table fails (services/errors.py); a dialect words each kind (the SPWF04's
words are in spwf04/commands/sockets.py). Certificate failures of TLS sockets are the TLS
service's own ``CertError`` (services/tls), raised as they come."""

from __future__ import annotations

from enum import Enum


class SockFault(Enum):
    UNRESOLVED = "unresolved"  # a name that cannot be resolved
    KIND_MISSING = "kind missing"  # no socket kind given
    BAD_KIND = "bad kind"  # a server kind that is none of t, u, s1, s2
    TOO_MANY = "too many"  # every client (8) or server (2) slot is taken
    OPEN_FAILED = "open failed"  # connect refused, timed out, TLS handshake failed, no TLS
    LISTEN_FAILED = "listen failed"  # a server could not listen
    PORT_IN_USE = "port in use"  # a server's port is taken (by the module or the host)
    BAD_ID = "bad id"  # no socket (or server, or server client) with that id
    CLOSED = "closed"  # closed by the peer and nothing left to read
    PENDING_DATA = "pending data"  # unread data keeps the socket from closing
    NOT_CONNECTED = "not connected"  # writing to a socket the peer has closed
    WRITE_FAILED = "write failed"  # the bytes could not be sent
    NO_MEMORY = "no memory"  # the module's heap has no room for the socket's buffers


class Closure(Enum):
    """How a connection ended (the dialect prints it: the SPWF04 in WIND:58/62)."""

    FIN = "fin"  # the peer closed it
    RST = "rst"  # reset by the peer
    RETRANSMISSIONS = "retransmissions"
    NETWORK = "network"  # another network failure
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"


class Refusal(Enum):
    """Why a server turned a client away (the SPWF04's WIND:83)."""

    NO_MEMORY = "no memory"  # every client slot is taken
    TOO_MANY_UDP = "too many udp"  # a ninth UDP peer
