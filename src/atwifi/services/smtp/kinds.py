"""The SMTP service's error kinds and security modes: small, so a dialect can word them at
import time without loading the client (aiosmtplib, email) before the first mail."""

from __future__ import annotations

from enum import Enum


class SmtpFault(Enum):
    BAD_ARGUMENT = "bad argument"  # an address or HELO name that cannot be sent
    CONNECT = "connect failed"  # refused, unreachable, no answer to the connection
    NO_TLS = "no TLS offered"  # TLS required and the server offers neither SMTPS nor STARTTLS
    TLS = "TLS failed"  # STARTTLS offered but the handshake failed
    CERT = "certificate rejected"  # info["reason"]: the CertReason
    AUTH = "authentication failed"  # refused login, or no AUTH offered while a user is given
    REJECTED = "mail rejected"  # sender, every recipient or the data refused
    TIMEOUT = "server stopped answering"
    PROTOCOL = "protocol error"  # the server closed or answered nonsense


class Security(Enum):
    PLAIN = "plain"
    BEST_EFFORT = "smtps, else starttls, else plain"
    STARTTLS = "starttls or nothing"
    TLS_REQUIRED = "smtps, else starttls, else nothing"
