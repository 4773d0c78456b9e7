"""Client library: TFTP transfers and mail, the module's application commands.

    await client.tftp_get("tftp.lan", "firmware/cfg.txt")            # -> 2:/cfg.txt
    await client.tftp_get("tftp.lan", "cfg.txt", local="1:/cfg.txt", port=6969)
    await client.tftp_put("tftp.lan", "2:/log.txt")
    await client.send_mail("smtp.lan", "me@x.test", ["a@x.test", "Nick <n@x.test>"],
                           "Subject", b"body", tls=8, username="me", password="pw")

The mixin uses only ``self.command``. The console carries parameters separated by commas and
ended by CR, so a value holding a comma, CR or LF cannot be sent: ``ValueError`` before
anything leaves. The module is busy (one command at a time) for the whole transfer: the
default ``timeout`` covers the module's own give-up times (TFTP: 2 s x 5 retries per packet;
SMTP: 30 s per step).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

TFTP_TIMEOUT = 120.0
MAIL_TIMEOUT = 180.0


def _field(what: str, value: str) -> str:
    if any(c in value for c in ",\r\n"):
        raise ValueError(f"{what} the console cannot carry (comma or line end): {value!r}")
    return value


class TransferMixin:
    if TYPE_CHECKING:  # provided by the client core (client/aio.py)

        async def command(self, line: str, data: bytes | None = None, **kw: Any) -> Any: ...

    async def tftp_get(
        self,
        host: str,
        filename: str,
        *,
        local: str | None = None,
        port: int | None = None,
        timeout: float = TFTP_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """AT+S.TFTPGET: fetch ``filename`` from a TFTP server into the module's file
        ``local`` (default ``2:/<last part of filename>``)."""
        line = (
            f"AT+S.TFTPGET={_field('host', host)},{'' if port is None else port},"
            f"{_field('file name', filename)},{_field('local name', local or '')}"
        )
        await self.command(line, timeout=timeout)

    async def tftp_put(
        self,
        host: str,
        local: str,
        *,
        port: int | None = None,
        timeout: float = TFTP_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """AT+S.TFTPPUT: send the module's file ``local`` to a TFTP server (the remote name is
        ``local`` without its volume prefix)."""
        line = (
            f"AT+S.TFTPPUT={_field('host', host)},{'' if port is None else port},"
            f"{_field('local name', local)}"
        )
        await self.command(line, timeout=timeout)

    async def send_mail(
        self,
        host: str,
        sender: str,
        to: str | Iterable[str],
        subject: str,
        body: bytes | str,
        *,
        port: int | None = None,
        tls: int = 0,
        username: str | None = None,
        password: str | None = None,
        helo: str | None = None,
        timeout: float = MAIL_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """AT+S.SMTP: send one mail. ``to``: addresses (``a@x.y`` or ``Name <a@x.y>``), a list
        or one ``;``-separated text. ``tls``: 0 none, 5 best effort, 8 STARTTLS required,
        9 SMTPS or STARTTLS required (manual 6.52). A refused certificate raises
        ``CertificateError``."""
        rcpt = to if isinstance(to, str) else ";".join(to)
        data = body.encode() if isinstance(body, str) else bytes(body)
        fields = [
            _field("host", host),
            "" if port is None else str(port),
            str(tls),
            _field("user name", username or ""),
            _field("password", password or ""),
            _field("HELO name", helo or ""),
            _field("sender", sender),
            _field("recipients", rcpt),
            "",
            "",
            _field("subject", subject),
            "",
            str(len(data)),
        ]
        await self.command("AT+S.SMTP=" + ",".join(fields), data, timeout=timeout)
