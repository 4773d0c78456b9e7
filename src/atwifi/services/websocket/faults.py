"""What the WebSocket service reports: its error kinds and its events interface."""

from __future__ import annotations

from enum import Enum
from typing import Protocol


class WsFault(Enum):
    """Why a WebSocket operation failed (``ServiceError(WsFault.X, detail, **info)``)."""

    RESOLVE = "resolve"  # the host name does not resolve
    BLOCKED = "blocked"  # the network policy (or the module's own console) forbids the address
    REFUSED = "refused"  # the server refused the TCP connection
    TCP = "tcp"  # connect timed out, unreachable, reset, lost during the opening handshake
    TLS = "tls"  # the TLS handshake failed (certificate checks raise the TLS service's error)
    HANDSHAKE = "handshake"  # the HTTP upgrade failed: info status=<HTTP status> when one came
    HANDSHAKE_TIMEOUT = "handshake_timeout"  # no HTTP answer to the upgrade in time
    TOO_MANY = "too_many"  # every slot is taken (2, shared with MQTT)
    SAME_SERVER = "same_server"  # a connection to that server (address, port) is already open
    BAD_ID = "bad_id"  # no such client
    PENDING = "pending"  # close refused: unread data in the buffer
    NOT_CONNECTED = "not_connected"  # write to a client whose server has gone
    WRITE_FAILED = "write_failed"  # the server does not read, or the OS refused the write
    CLOSED = "closed"  # read from a client whose server has gone and that has nothing left
    BAD_CODE = "bad_code"  # a close status that RFC 6455 does not let a client send
    BAD_TEXT = "bad_text"  # text frame data that is not UTF-8


class Events(Protocol):
    """What a connection reports. The SPWF04 dialect turns ``data`` into +WIND:88 and
    ``closed`` into +WIND:89; MQTT passes an object of its own to ``open``."""

    def data(self, cid: int, last_frame: bool, last_frag: bool, received: int, unread: int) -> None:
        """Bytes arrived. ``last_frag``: they complete a frame; ``last_frame``: they complete
        a message (the frame had FIN). ``received``: bytes since the previous report;
        ``unread``: bytes now in the buffer."""

    def closed(self, cid: int, code: int | None, reason: str) -> None:
        """The server closed (``code`` from its Close frame) or the connection was lost
        (``code`` None). Not raised when the host closes."""

    def note(self, text: str) -> None:
        """A line for the trace."""
