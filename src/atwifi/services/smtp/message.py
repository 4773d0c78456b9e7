"""The mail as it leaves the module: RFC 5322 headers, the body as the host sent it.

* Recipients: ``a@x.y;Nick <nick@name.xy>`` -> each item parsed on its own (``;`` splits).
* Date: the module's clock, in UTC (1970 on a module that never got the time).
* Body: line ends made CR LF (RFC 5322 allows no bare CR or LF); sent as is (7bit) when it is
  ASCII with lines of at most 998 bytes, else quoted-printable (UTF-8 when it decodes as
  UTF-8, else ISO-8859-1, which holds any byte), so the receiver decodes exactly the bytes
  the host sent, line ends aside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from atwifi.services.errors import ServiceError

MAX_LINE = 998  # RFC 5322 2.1.1
_ADDR = re.compile(r"[^\s<>()\[\],;:\\\"@]+(\.[^\s<>()\[\],;:\\\"@]+)*@[A-Za-z0-9.\-\[\]:]+")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?")
_EOL = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class Mail:
    sender: str  # addr-spec for MAIL FROM
    recipients: list[str]  # addr-specs for RCPT TO
    message: bytes  # the whole RFC 5322 message


def _bad(detail: str) -> ServiceError:
    from atwifi.services.smtp.kinds import SmtpFault

    return ServiceError(SmtpFault.BAD_ARGUMENT, detail)


def parse_address(text: str) -> tuple[str, str]:
    """``"Nick <nick@name.xy>"`` -> ``("Nick", "nick@name.xy")``; a bare address has no name."""
    from email.utils import parseaddr

    name, addr = parseaddr(text.strip()) if text.strip() else ("", "")
    if not addr or not _ADDR.fullmatch(addr):
        raise _bad(f"not an e-mail address: {text!r}")
    return name, addr


def split_recipients(text: str) -> list[tuple[str, str]]:
    items = [item for item in (p.strip() for p in text.split(";")) if item]
    if not items:
        raise _bad("no recipient")
    return [parse_address(item) for item in items]


def _clean(text: str) -> str:
    """Control characters and line separators (which no header may hold) become spaces."""
    import unicodedata

    return "".join(
        " " if c != "\t" and unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text
    )


def _header_text(text: str) -> str:
    """A header value: as is when ASCII, else RFC 2047 encoded words (UTF-8)."""
    text = _clean(text)
    if text.isascii():
        return text
    from email.header import Header

    return Header(text, "utf-8").encode(linesep="\r\n")


def _display(name: str, addr: str) -> str:
    from email.utils import formataddr

    return formataddr((_clean(name), addr), charset="utf-8") if name else addr


def _body(raw: bytes) -> tuple[bytes, str, str]:
    """(encoded body with CR LF line ends, charset, transfer encoding)."""
    lines = _EOL.split(raw)
    if raw.isascii() and b"\0" not in raw and all(len(line) <= MAX_LINE for line in lines):
        return b"\r\n".join(lines), "us-ascii", "7bit"
    try:
        raw.decode("utf-8")
        charset = "utf-8"
    except UnicodeDecodeError:
        charset = "iso-8859-1"
    import binascii

    qp = binascii.b2a_qp(b"\n".join(lines), quotetabs=False, istext=True, header=False)
    return qp.replace(b"\n", b"\r\n"), charset, "quoted-printable"


def build(
    sender: str,
    recipients: list[tuple[str, str]],
    subject: str,
    body: bytes,
    now: float,
) -> Mail:
    """The message. ``subject`` is text (decoded by the caller); ``now`` the module's time."""
    import secrets
    from datetime import UTC, datetime
    from email.utils import format_datetime

    from_name, from_addr = parse_address(sender)
    date = format_datetime(datetime.fromtimestamp(now, UTC))
    domain = from_addr.rpartition("@")[2]
    if not _DOMAIN.fullmatch(domain):
        domain = "atwifi.invalid"
    msgid = f"<{int(now)}.{secrets.token_hex(8)}@{domain}>"
    text, charset, cte = _body(body)
    headers = [
        f"Date: {date}",
        f"From: {_display(from_name, from_addr)}",
        f"To: {', '.join(_display(n, a) for n, a in recipients)}",
        f"Subject: {_header_text(subject)}",
        f"Message-ID: {msgid}",
        "MIME-Version: 1.0",
        f"Content-Type: text/plain; charset={charset}",
        f"Content-Transfer-Encoding: {cte}",
    ]
    for h in headers:
        if "\r" in h.replace("\r\n ", "") or "\n" in h.replace("\r\n ", ""):
            raise _bad(f"line break in a header: {h!r}")
    message = "\r\n".join(headers).encode("utf-8") + b"\r\n\r\n" + text
    return Mail(from_addr, [a for _, a in recipients], message)
