"""SMTP without any dialect: build an RFC 5322 message and deliver it with aiosmtplib.

``message.build`` makes the bytes (Date from the module's clock, Message-ID, From, To,
Subject, the body as given); ``client.send`` connects to an address the caller resolved and
allowed, secures the session as asked (``Security``), logs in, sends. Failures are
``ServiceError(SmtpFault.X)``; a certificate the module does not trust is
``SmtpFault.CERT`` with the certificate failure's ``CertReason`` in ``info["reason"]``.

The kinds (``kinds.py``) load at once; the client and the message builder on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from atwifi.services.smtp.kinds import Security, SmtpFault

_LAZY = {
    "Server": "client",
    "send": "client",
    "Mail": "message",
    "build": "message",
    "parse_address": "message",
    "split_recipients": "message",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)


__all__ = ["Security", "SmtpFault", *_LAZY]
