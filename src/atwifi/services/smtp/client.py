"""Deliver one mail with aiosmtplib, secured as ``Security`` says.

The caller resolves the server's name; this module connects to that address through the
module's one connection path (services/net/dial.py: the network policy, the fault rules) and
hands aiosmtplib a socket relayed to it (so nothing else resolves names), with the server's
*name* for TLS (SNI, certificate check). TLS runs without Python's own
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
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from atwifi.services.errors import ServiceError
from atwifi.services.smtp.kinds import Security, SmtpFault

if TYPE_CHECKING:
    from atwifi.services.faults.conn import ConnFaults
    from atwifi.services.net.dial import Dialer
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


async def _socket(
    dialer: Dialer, server: Server, timeout: float, implicit: bool
) -> tuple[socket.socket, ConnFaults | None]:
    """A socket connected to the server through the module's connection path (policy, fault
    rules); aiosmtplib runs SMTP and TLS on it."""
    from atwifi.services.net.dial import Blocked

    secure = server.security is not Security.PLAIN
    where = f"{server.ip}:{server.port}"
    try:
        async with asyncio.timeout(timeout):
            return await dialer.connected_socket(
                host=server.name,
                ip=server.ip,
                port=server.port,
                proto="tls" if secure else "tcp",
                handshake=implicit,  # STARTTLS: the handshake comes later
            )
    except Blocked as e:
        raise ServiceError(SmtpFault.CONNECT, f"{where}: {e}") from None
    except TimeoutError:
        raise ServiceError(SmtpFault.CONNECT, f"{where}: connect timed out") from None
    except ssl.SSLError as e:  # a tls_fail fault on implicit TLS: as a peer without SMTPS
        raise _NotTls(str(e)) from None
    except OSError as e:
        raise ServiceError(SmtpFault.CONNECT, f"{where}: {e}") from None


def _ssl_cause(exc: BaseException) -> BaseException | None:
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
    dialer: Dialer | None = None,
) -> Result:
    """Deliver ``mail``. The connection goes through ``dialer`` (the module's one connection
    path: policy, fault rules); without one, a path with no policy and no faults."""
    if dialer is None:
        from atwifi.services.net.dial import Dialer

        dialer = Dialer(tls=tls)  # type: ignore[arg-type]
    if server.security is not Security.PLAIN and tls is None:
        raise ServiceError(SmtpFault.NO_TLS, "no TLS service")
    if server.security in (Security.BEST_EFFORT, Security.TLS_REQUIRED):
        try:
            return await _session(server, mail, tls, dialer, timeout, note, implicit=True)
        except _NotTls as e:
            note(f"SMTP: no SMTPS on {server.ip}:{server.port} ({e}); trying STARTTLS")
    return await _session(server, mail, tls, dialer, timeout, note, implicit=False)


async def _session(
    server: Server,
    mail: Mail,
    tls: Tls | None,
    dialer: Dialer,
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
    sock, plan = await _socket(dialer, server, timeout, implicit)
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
            await _verify(smtp, dialer, server.name, plan)
            secured = "smtps"
        await _hello(smtp)
        if not implicit and server.security is not Security.PLAIN:
            refused = None
            if smtp.supports_extension("starttls"):
                assert ctx is not None
                try:
                    dialer.tls_handshake(server.name, server.ip, server.port)  # tls_fail
                    await smtp.starttls(
                        server_hostname=server.name, validate_certs=False, tls_context=ctx
                    )
                except aiosmtplib.SMTPResponseException as e:  # e.g. 454: still plain
                    refused = f"{e.code} {e.message}"
                except ssl.SSLError as e:
                    raise ServiceError(SmtpFault.TLS, f"STARTTLS: {e}") from None
                except aiosmtplib.SMTPException as e:
                    if _ssl_cause(e) is not None:
                        raise ServiceError(SmtpFault.TLS, f"STARTTLS: {e}") from None
                    raise
                if refused is None:
                    await _verify(smtp, dialer, server.name, plan)
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


async def _verify(smtp: Any, dialer: Dialer, name: str, plan: ConnFaults | None) -> None:
    from atwifi.services.tls import CertError

    try:
        await dialer.verify(smtp.transport, name, plan)
    except CertError as e:
        raise ServiceError(SmtpFault.CERT, str(e), reason=e.reason) from None
