"""Deliver one mail with aiosmtplib, secured as ``Security`` says.

The caller resolves the server's name and checks the network policy; this module connects a
socket to that address itself and hands it to aiosmtplib (so nothing else resolves names),
with the server's *name* for TLS (SNI, certificate check). TLS runs without Python's own
verification; the certificate is checked afterwards against the module's clock by the TLS
service (``verify_server``), as for the module's TLS sockets.

Security (what the SPWF04's TLS values 0, 5, 8, 9 ask for, manual 6.52):
  PLAIN        no TLS, even if the server offers STARTTLS
  BEST_EFFORT  implicit TLS (SMTPS) on the port; if the server does not speak TLS there, a
               new plain session on the same port with STARTTLS if offered, else plain
  STARTTLS     plain session, STARTTLS required: without it the mail is not sent
  TLS_REQUIRED as BEST_EFFORT, but without STARTTLS the mail is not sent
A certificate the module does not trust never falls back to anything: the mail is not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from atwifi.services.errors import ServiceError
from atwifi.services.smtp.kinds import Security, SmtpFault

if TYPE_CHECKING:
    import ssl

    from atwifi.services.smtp.message import Mail

TIMEOUT = 30.0  # seconds for the connection and for each SMTP reply


class Tls(Protocol):
    async def client_context(self) -> ssl.SSLContext: ...
    async def verify_server(self, leaf_der: bytes | None, name: str) -> None: ...


@dataclass(frozen=True)
class Server:
    name: str  # as the host gave it: TLS server name
    ip: str  # resolved and allowed by the caller
    port: int
    security: Security = Security.PLAIN
    username: str = ""
    password: str = ""
    helo: str = "localhost"


@dataclass
class Result:
    refused: dict[str, str]  # recipients the server refused while accepting others
    secured: str  # "smtps", "starttls" or "plain": for the trace


class _NotTls(Exception):
    """Implicit TLS failed because the peer speaks no TLS on that port."""


Note = Callable[[str], None]


async def _socket(ip: str, port: int, timeout: float) -> socket.socket:
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (ip, port))
    except TimeoutError:
        sock.close()
        raise ServiceError(SmtpFault.CONNECT, f"{ip}:{port}: connect timed out") from None
    except OSError as e:
        sock.close()
        raise ServiceError(SmtpFault.CONNECT, f"{ip}:{port}: {e}") from None
    return sock


def _ssl_cause(exc: BaseException) -> BaseException | None:
    import ssl

    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, ssl.SSLError | ConnectionResetError | EOFError):
            return exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
    return None


async def send(
    server: Server,
    mail: Mail,
    tls: Tls | None,
    *,
    timeout: float = TIMEOUT,
    note: Note = lambda text: None,
) -> Result:
    if server.security is not Security.PLAIN and tls is None:
        raise ServiceError(SmtpFault.NO_TLS, "no TLS service")
    if server.security in (Security.BEST_EFFORT, Security.TLS_REQUIRED):
        try:
            return await _session(server, mail, tls, timeout, note, implicit=True)
        except _NotTls as e:
            note(f"SMTP: no SMTPS on {server.ip}:{server.port} ({e}); trying STARTTLS")
    return await _session(server, mail, tls, timeout, note, implicit=False)


async def _session(
    server: Server,
    mail: Mail,
    tls: Tls | None,
    timeout: float,
    note: Note,
    *,
    implicit: bool,
) -> Result:
    import aiosmtplib

    ctx = (
        await tls.client_context()
        if tls is not None and server.security is not Security.PLAIN
        else None
    )
    sock = await _socket(server.ip, server.port, timeout)
    try:
        smtp = aiosmtplib.SMTP(
            hostname=server.name,
            sock=sock,
            use_tls=implicit,
            start_tls=False,
            validate_certs=False,
            tls_context=ctx if implicit else None,
            local_hostname=server.helo,
            timeout=timeout,
        )
    except ValueError as e:  # a HELO name with spaces or control bytes
        sock.close()
        raise ServiceError(SmtpFault.BAD_ARGUMENT, str(e)) from None
    secured = "plain"
    try:
        try:
            await smtp.connect()
        except aiosmtplib.SMTPException as e:
            if implicit and _ssl_cause(e) is not None:
                raise _NotTls(str(e)) from None
            raise
        if implicit:
            await _verify(smtp, tls, server.name)
            secured = "smtps"
        await _hello(smtp)
        if not implicit and server.security is not Security.PLAIN:
            refused = None
            if smtp.supports_extension("starttls"):
                assert ctx is not None
                try:
                    await smtp.starttls(
                        server_hostname=server.name, validate_certs=False, tls_context=ctx
                    )
                except aiosmtplib.SMTPResponseException as e:  # e.g. 454: still plain
                    refused = f"{e.code} {e.message}"
                except aiosmtplib.SMTPException as e:
                    if _ssl_cause(e) is not None:
                        raise ServiceError(SmtpFault.TLS, f"STARTTLS: {e}") from None
                    raise
                if refused is None:
                    await _verify(smtp, tls, server.name)
                    secured = "starttls"
                    await _hello(smtp)
            if secured == "plain":
                why = f"refused STARTTLS ({refused})" if refused else "offers no STARTTLS"
                if server.security is not Security.BEST_EFFORT:
                    raise ServiceError(SmtpFault.NO_TLS, f"the server {why}")
                note(f"SMTP: {server.ip}:{server.port} {why}: sending unsecured")
        if server.username or server.password:
            if not smtp.supports_extension("auth"):
                raise ServiceError(SmtpFault.AUTH, "the server offers no AUTH")
            try:
                await smtp.login(server.username, server.password)
            except aiosmtplib.SMTPAuthenticationError as e:
                raise ServiceError(SmtpFault.AUTH, str(e)) from None
            except aiosmtplib.SMTPException as e:
                if "authentication" in str(e).lower():
                    raise ServiceError(SmtpFault.AUTH, str(e)) from None
                raise
        try:
            refused, _ = await smtp.sendmail(mail.sender, mail.recipients, mail.message)
        except (
            aiosmtplib.SMTPRecipientsRefused,
            aiosmtplib.SMTPSenderRefused,
            aiosmtplib.SMTPDataError,
            aiosmtplib.SMTPNotSupported,
        ) as e:
            raise ServiceError(SmtpFault.REJECTED, str(e)) from None
        with contextlib.suppress(aiosmtplib.SMTPException):
            await smtp.quit()  # the mail is accepted: a rude goodbye changes nothing
        return Result({k: str(v) for k, v in refused.items()}, secured)
    except aiosmtplib.SMTPTimeoutError as e:
        raise ServiceError(SmtpFault.TIMEOUT, str(e)) from None
    except aiosmtplib.SMTPConnectResponseError as e:  # a greeting that turns us away (554)
        raise ServiceError(SmtpFault.REJECTED, str(e)) from None
    except aiosmtplib.SMTPException as e:
        raise ServiceError(SmtpFault.PROTOCOL, f"{type(e).__name__}: {e}") from None
    finally:
        # The socket belongs to aiosmtplib's transport now, which closes it: closing it here
        # would free its descriptor while the event loop still watches it.
        smtp.close()


async def _hello(smtp: Any) -> None:
    import aiosmtplib

    try:
        await smtp.ehlo()
    except aiosmtplib.SMTPHeloError:
        await smtp.helo()


async def _verify(smtp: Any, tls: Tls | None, name: str) -> None:
    from atwifi.services.tls import CertError

    assert tls is not None
    obj = smtp.transport.get_extra_info("ssl_object") if smtp.transport is not None else None
    der = obj.getpeercert(binary_form=True) if obj is not None else None
    try:
        await tls.verify_server(der, name)
    except CertError as e:
        raise ServiceError(SmtpFault.CERT, str(e), reason=e.reason) from None
