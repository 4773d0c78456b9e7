"""Handler: AT+S.SMTP (manual 6.52). The delivery is the dialect-free service
(services/smtp); here: TLS values, defaults, the network policy, the SPWF04's words.
Choices in docs/behaviour.md, "SMTP"."""

from __future__ import annotations

from atwifi.errors import AtError, AtResultLine
from atwifi.services.errors import ServiceError
from atwifi.services.smtp.kinds import Security, SmtpFault
from atwifi.spwf04 import wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.commands.net import _link_up
from atwifi.spwf04.commands.tls import certificate_line
from atwifi.spwf04.context import Context

SECURITY = {
    0: Security.PLAIN,
    5: Security.BEST_EFFORT,
    8: Security.STARTTLS,
    9: Security.TLS_REQUIRED,
}


def _cert_line(exc: ServiceError) -> AtResultLine:
    return certificate_line(exc)  # Table 13, from the failure's CertReason


# Table 10 has no SMTP rows: 74 for a server that cannot be reached (as sockets), 8 for an
# address that is not one, the certificate's own line (Table 13), 111 "Request failed" for
# everything the server refused or could not do.
wording.register(
    {
        SmtpFault.BAD_ARGUMENT: 8,  # "Invalid value"
        SmtpFault.CONNECT: 74,  # "Failed to open socket"
        SmtpFault.NO_TLS: 111,
        SmtpFault.TLS: 111,
        SmtpFault.CERT: _cert_line,
        SmtpFault.AUTH: 111,
        SmtpFault.REJECTED: 111,
        SmtpFault.TIMEOUT: 111,
        SmtpFault.PROTOCOL: 111,
    }
)

TIMEOUT = 30.0  # seconds per connection step and per SMTP reply (tests shorten it)


def _text(value: str | None) -> str:
    """Parameters arrive decoded as Latin-1 (one char per byte); hosts send UTF-8."""
    if not value:
        return ""
    raw = value.encode("latin-1", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


@handler("SMTP")
async def smtp(
    ctx: Context,
    hostname: str,
    port: int | None = None,
    tls: int | None = 0,
    username: str | None = None,
    passwd: str | None = None,
    id: str | None = None,
    address: str = "",
    to: str = "",
    null_1: None = None,
    null_2: None = None,
    subject: str = "",
    null_3: None = None,
    len: int = 0,
    data: bytes | None = None,
) -> None:
    from atwifi.services.smtp.client import Server, send
    from atwifi.services.smtp.message import build, split_recipients

    tls = 0 if tls is None else tls
    security = SECURITY.get(tls)
    if security is None:
        raise AtError(8, f"tls {tls}: 0, 5, 8 or 9")
    if port is None:
        port = 25 if tls == 0 else 465
    helo = (id or "").strip() or str(ctx.device.config.get("nv_model"))
    recipients = split_recipients(_text(to))
    mail = build(_text(address), recipients, _text(subject), data or b"", ctx.device.clock.now())
    net = ctx.device.net
    if net is None:
        raise AtError(1, "IP services not available")
    if not _link_up(ctx):
        raise AtError(60, "no link")
    ip = await net.resolve(hostname)  # 65
    server = Server(
        name=hostname[1:-1] if hostname.startswith("[") and hostname.endswith("]") else hostname,
        ip=ip,
        port=port,
        security=security,
        username=username or "",
        password=passwd or "",
        helo=helo,
    )
    from atwifi.spwf04.parts.net import dialer_for

    # The connection: the network policy (74, also never the module's own console port), the
    # fault rules, TLS (services/net/dial.py).
    result = await send(
        server,
        mail,
        ctx.device.tls,
        timeout=TIMEOUT,
        note=ctx.device.trace_note,
        dialer=dialer_for(ctx.device),
    )
    ctx.device.trace_note(f"SMTP: sent to {ip}:{port} ({result.secured})")
    for rcpt, why in result.refused.items():
        ctx.device.trace_note(f"SMTP: recipient {rcpt} refused: {why}")
