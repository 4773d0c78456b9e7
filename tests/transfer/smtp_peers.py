"""aiosmtpd servers on loopback for the SMTP tests: plain, STARTTLS, SMTPS, AUTH."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


@dataclass
class Received:
    helo: str
    secure: bool
    user: bytes | None
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Sink:
    mails: list[Received] = field(default_factory=list)
    refuse_rcpt: tuple[str, ...] = ()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201
        if address in self.refuse_rcpt:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        login = session.auth_data if session.authenticated else None
        self.mails.append(
            Received(
                helo=session.host_name,
                secure=server.transport.get_extra_info("ssl_object") is not None,
                user=login.login if isinstance(login, LoginPassword) else None,
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content,
            )
        )
        return "250 OK queued"


USERS = {b"mod": b"s3cret"}


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
    ok = isinstance(auth_data, LoginPassword) and USERS.get(auth_data.login) == auth_data.password
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def server_ctx(ca: trustme.CA, name: str = "localhost") -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(name, "127.0.0.1").configure_cert(ctx)
    return ctx


async def smtp_server(
    sink: Sink,
    *,
    implicit: ssl.SSLContext | None = None,
    starttls: ssl.SSLContext | None = None,
    auth: bool = False,
) -> tuple[asyncio.Server, int]:
    """An aiosmtpd server: ``implicit`` = SMTPS, ``starttls`` = offers STARTTLS, ``auth`` =
    AUTH PLAIN/LOGIN with USERS (allowed without TLS so every mode can be tested)."""
    kw: dict[str, Any] = {"hostname": "mx.test", "auth_require_tls": False}
    if starttls is not None:
        kw["tls_context"] = starttls
    if auth:
        kw["authenticator"] = authenticator
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: SMTP(sink, **kw), "127.0.0.1", 0, ssl=implicit)
    return srv, srv.sockets[0].getsockname()[1]
