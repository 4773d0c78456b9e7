"""SMTP without any dialect: build an RFC 5322 message and deliver it with aiosmtplib.

``message.build`` makes the bytes (Date from the module's clock, Message-ID, From, To,
Subject, the body as given); ``client.send`` connects to an address the caller resolved and
allowed, secures the session as asked (``Security``), logs in, sends. Failures are
``ServiceError(SmtpFault.X)``; a certificate the module does not trust is
``SmtpFault.CERT`` with the certificate error's number in ``info["number"]``.
"""

from atwifi.services.smtp.client import Security, Server, SmtpFault, send
from atwifi.services.smtp.message import Mail, build, parse_address, split_recipients

__all__ = [
    "Mail",
    "Security",
    "Server",
    "SmtpFault",
    "build",
    "parse_address",
    "send",
    "split_recipients",
]
