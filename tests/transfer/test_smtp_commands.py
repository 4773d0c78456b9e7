"""AT+S.SMTP against aiosmtpd on loopback: the message byte for byte, every TLS value, AUTH,
and every failure with the module answering AT afterwards."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from email.utils import parsedate_to_datetime

import pytest
import trustme
from smtp_peers import Sink, server_ctx, smtp_server

from atwifi.spwf04.commands import smtp as smtp_commands

OK = b"AT-S.OK\r\n"
FAILED = b"AT-S.ERROR:111:Request failed\r\n"
T2026 = 1767225600  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def smtp(m, host: str, port: int, body: bytes, *, tls: str = "", user: str = "",
               pw: str = "", id: str = "", sender: str = "mod@example.com",
               to: str = "a@x.test", subject: str = "Hello") -> bytes:  # fmt: skip
    line = f"AT+S.SMTP={host},{port},{tls},{user},{pw},{id},{sender},{to},,,{subject},,{len(body)}"
    return await m.cmd(line, body)


async def trust(m, ca: trustme.CA, now: int | None = None) -> None:
    pem = ca.cert_pem.bytes()
    assert await m.cmd(f"AT+S.TLSCERT=Ca,{len(pem)}", pem) == OK
    assert await m.cmd(f"AT+S.TIME={now or int(time.time())}") == OK


async def test_plain_message_byte_for_byte(quiet_module):
    m = quiet_module
    assert await m.cmd(f"AT+S.TIME={T2026}") == OK
    sink = Sink()
    srv, port = await smtp_server(sink)
    async with srv:
        body = b"Line one\r\nline two\n.dot line\n\nend"
        out = await smtp(m, "localhost", port, body, to="a@x.test; Nick <nick@name.xy>")
        assert out == OK
    (mail,) = sink.mails
    assert mail.helo == "SPWF04SA"  # the ID defaults to nv_model
    assert mail.mail_from == "mod@example.com"
    assert mail.rcpt_tos == ["a@x.test", "nick@name.xy"]
    assert not mail.secure and mail.user is None
    head, _, got_body = mail.content.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert [h.split(b":", 1)[0] for h in lines] == [
        b"Date", b"From", b"To", b"Subject", b"Message-ID", b"MIME-Version",
        b"Content-Type", b"Content-Transfer-Encoding",
    ]  # fmt: skip
    date = lines[0][len(b"Date: ") :].decode()
    assert re.fullmatch(r"Thu, 01 Jan 2026 00:00:\d\d \+0000", date), date
    assert abs(parsedate_to_datetime(date).timestamp() - T2026) < 60
    assert lines[1:4] == [b"From: mod@example.com", b"To: a@x.test, Nick <nick@name.xy>",
                          b"Subject: Hello"]  # fmt: skip
    assert re.fullmatch(rb"Message-ID: <\d+\.[0-9a-f]{16}@example\.com>", lines[4])
    assert lines[5:] == [b"MIME-Version: 1.0", b"Content-Type: text/plain; charset=us-ascii",
                         b"Content-Transfer-Encoding: 7bit"]  # fmt: skip
    assert got_body == b"Line one\r\nline two\r\n.dot line\r\n\r\nend\r\n"
    assert email.message_from_bytes(mail.content, policy=email.policy.strict)["to"]
    assert await m.cmd("AT") == OK


async def test_id_and_unicode_subject_and_body(quiet_module):
    m = quiet_module
    sink = Sink()
    srv, port = await smtp_server(sink)
    async with srv:
        body = "Grüße, 10 €\n".encode()
        subject = "Prüfung ✓"
        line = (
            f"AT+S.SMTP=127.0.0.1,{port},0,,,mybox,mod@example.com,b@x.test,,,{subject},,"
            f"{len(body)}"
        ).encode()
        assert await m.cmd(line, body) == OK
    (mail,) = sink.mails
    assert mail.helo == "mybox"
    msg = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert msg["subject"] == subject
    assert msg["content-transfer-encoding"] == "quoted-printable"
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_payload(decode=True) == "Grüße, 10 €\r\n".encode()
    assert max(len(x) for x in mail.content.split(b"\r\n")) <= 998


async def test_starttls_and_auth_tls8(quiet_module, ca):
    m = quiet_module
    await trust(m, ca)
    sink = Sink()
    srv, port = await smtp_server(sink, starttls=server_ctx(ca), auth=True)
    async with srv:
        assert await smtp(m, "localhost", port, b"hi", tls="8", user="mod", pw="s3cret") == OK
        assert await smtp(m, "localhost", port, b"hi", tls="8", user="mod", pw="wrong") == FAILED
    (mail,) = sink.mails
    assert mail.secure and mail.user == b"mod"
    assert mail.content.endswith(b"\r\n\r\nhi\r\n")
    assert await m.cmd("AT") == OK


async def test_tls8_refuses_a_server_without_starttls(quiet_module, ca):
    m = quiet_module
    await trust(m, ca)
    sink = Sink()
    srv, port = await smtp_server(sink)
    async with srv:
        assert await smtp(m, "localhost", port, b"hi", tls="8") == FAILED
        assert await smtp(m, "localhost", port, b"hi", tls="9") == FAILED
        # TLS 5 falls back to no security; 0 never tries.
        assert await smtp(m, "localhost", port, b"five", tls="5") == OK
        assert await smtp(m, "localhost", port, b"zero", tls="0") == OK
    assert [x.content.rsplit(b"\r\n\r\n", 1)[1] for x in sink.mails] == [b"five\r\n", b"zero\r\n"]
    assert not any(x.secure for x in sink.mails)
    assert await m.cmd("AT") == OK


@pytest.mark.parametrize("tls", ["5", "9"])
async def test_smtps_first_then_starttls(quiet_module, ca, tls):
    m = quiet_module
    await trust(m, ca)
    sink = Sink()
    smtps, smtps_port = await smtp_server(sink, implicit=server_ctx(ca), auth=True)
    plain, plain_port = await smtp_server(sink, starttls=server_ctx(ca))
    async with smtps, plain:
        assert await smtp(m, "localhost", smtps_port, b"a", tls=tls, user="mod", pw="s3cret") == OK
        assert await smtp(m, "localhost", plain_port, b"b", tls=tls) == OK
        # An IP address as the host: no SNI, the certificate's IP entry is checked.
        assert await smtp(m, "127.0.0.1", smtps_port, b"c", tls=tls) == OK
    assert [(x.secure, x.user) for x in sink.mails] == [(True, b"mod"), (True, None), (True, None)]
    assert await m.cmd("AT") == OK


async def test_plain_tls0_never_starts_tls(quiet_module, ca):
    m = quiet_module
    sink = Sink()
    srv, port = await smtp_server(sink, starttls=server_ctx(ca))
    async with srv:
        assert await smtp(m, "localhost", port, b"x", tls="0") == OK
    assert not sink.mails[0].secure


async def test_certificate_errors_never_fall_back(quiet_module, ca):
    m = quiet_module
    sink = Sink()
    smtps, smtps_port = await smtp_server(sink, implicit=server_ctx(ca))
    starttls, starttls_port = await smtp_server(sink, starttls=server_ctx(ca))
    other, other_port = await smtp_server(sink, starttls=server_ctx(trustme.CA()))
    wrong, wrong_port = await smtp_server(sink, implicit=server_ctx(ca, "mail.other.test"))
    async with smtps, starttls, other, wrong:
        # No CA loaded: unknown CA (23), even where plain would have been allowed (TLS 5).
        assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
        for tls, port in (("5", smtps_port), ("9", smtps_port), ("8", starttls_port)):
            assert await smtp(m, "localhost", port, b"x", tls=tls) == (
                b"AT-S.Certificate Error:23\r\n"
            )
        await trust(m, ca, now=86400)  # the module's clock in 1970: not yet valid (21)
        assert await smtp(m, "localhost", smtps_port, b"x", tls="5") == (
            b"AT-S.Certificate Error:21\r\n"
        )
        assert await m.cmd(f"AT+S.TIME={int(time.time())}") == OK
        assert await smtp(m, "localhost", other_port, b"x", tls="8") == (
            b"AT-S.Certificate Error:23\r\n"
        )
        assert await smtp(m, "localhost", wrong_port, b"x", tls="9") == (
            b"AT-S.Certificate Error:5\r\n"
        )
        assert await smtp(m, "localhost", smtps_port, b"ok", tls="9") == OK
    assert len(sink.mails) == 1
    assert await m.cmd("AT") == OK


async def test_auth_failures(quiet_module):
    m = quiet_module
    sink = Sink()
    with_auth, auth_port = await smtp_server(sink, auth=True)
    no_auth, no_auth_port = await smtp_server(sink)
    async with with_auth, no_auth:
        assert await smtp(m, "localhost", auth_port, b"x", user="mod", pw="nope") == FAILED
        assert await smtp(m, "localhost", auth_port, b"x", user="who", pw="s3cret") == FAILED
        assert await smtp(m, "localhost", no_auth_port, b"x", user="mod", pw="s3cret") == FAILED
        assert await smtp(m, "localhost", auth_port, b"x", user="mod", pw="s3cret") == OK
    assert [x.user for x in sink.mails] == [b"mod"]
    assert await m.cmd("AT") == OK


async def test_recipients_refused(quiet_module):
    m = quiet_module
    sink = Sink(refuse_rcpt=("gone@x.test",))
    srv, port = await smtp_server(sink)
    async with srv:
        assert await smtp(m, "localhost", port, b"x", to="gone@x.test") == FAILED
        # One refused among several: the others get it.
        assert await smtp(m, "localhost", port, b"x", to="gone@x.test;ok@x.test") == OK
    assert [x.rcpt_tos for x in sink.mails] == [["ok@x.test"]]


async def test_bad_arguments_and_unreachable(quiet_module):
    m = quiet_module
    srv, port = await smtp_server(Sink())
    async with srv:
        assert await smtp(m, "localhost", port, b"x", tls="3") == b"AT-S.ERROR:8:Invalid value\r\n"
        assert await smtp(m, "localhost", port, b"x", to="not an address") == (
            b"AT-S.ERROR:8:Invalid value\r\n"
        )
        assert await smtp(m, "localhost", port, b"x", to=";;") == b"AT-S.ERROR:8:Invalid value\r\n"
        assert await smtp(m, "localhost", port, b"x", sender="nobody") == (
            b"AT-S.ERROR:8:Invalid value\r\n"
        )
        assert await smtp(m, "localhost", port, b"x", id="two words") == (
            b"AT-S.ERROR:8:Invalid value\r\n"
        )
    # The server is gone: refused.
    assert await smtp(m, "127.0.0.1", port, b"x") == b"AT-S.ERROR:74:Failed to open socket\r\n"
    assert await smtp(m, "nosuch.invalid", 25, b"x") == b"AT-S.ERROR:65:DNS address failure\r\n"
    assert await smtp(m, "192.0.2.7", 25, b"x") == b"AT-S.ERROR:74:Failed to open socket\r\n"
    assert await m.cmd("AT+S.SMTP=localhost,25,,,,,a@b.c,d@e.f,,,s,,") == (
        b"AT-S.ERROR:2:Missing argument(s)\r\n"
    )
    assert await m.cmd("AT") == OK


async def test_silent_server_times_out(quiet_module, monkeypatch):
    m = quiet_module
    monkeypatch.setattr(smtp_commands, "TIMEOUT", 0.2)
    held: list[asyncio.StreamWriter] = []

    async def silent(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)  # accept, never greet

    srv = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        for tls in ("0", "9"):
            assert await smtp(m, "127.0.0.1", port, b"x", tls=tls) == FAILED
        for w in held:
            w.close()
    assert await m.cmd("AT") == OK


async def _scripted(lines: dict[bytes, bytes], greeting: bytes = b"220 old.test\r\n"):
    """A minimal SMTP server answering by command word; records what it got."""
    seen: list[bytes] = []

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(greeting)
        data_mode = False
        while line := await r.readline():
            seen.append(line)
            if data_mode:
                if line == b".\r\n":
                    data_mode = False
                    w.write(b"250 queued\r\n")
                continue
            word = line[:4].upper()
            w.write(lines.get(word, b"250 ok\r\n"))
            if word == b"DATA":
                data_mode = True
            if word == b"QUIT":
                break
        w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1], seen


async def test_helo_when_ehlo_is_refused(quiet_module):
    m = quiet_module
    srv, port, seen = await _scripted({b"EHLO": b"502 what\r\n", b"DATA": b"354 go\r\n"})
    async with srv:
        assert await smtp(m, "127.0.0.1", port, b"old server", id="box1") == OK
    assert b"EHLO box1\r\n" in seen and b"HELO box1\r\n" in seen
    assert b"old server\r\n" in seen


async def test_nonsense_from_the_server(quiet_module):
    m = quiet_module
    srv, port, _ = await _scripted({b"EHLO": b"250 ok\r\n", b"MAIL": b"hello there\r\n"})
    bad_greeting, bad_port, _ = await _scripted({}, greeting=b"554 go away\r\n")
    async with srv, bad_greeting:
        assert await smtp(m, "127.0.0.1", port, b"x") == FAILED
        assert await smtp(m, "127.0.0.1", bad_port, b"x") == FAILED
    assert await m.cmd("AT") == OK


async def test_starttls_refused_by_the_server(quiet_module, ca):
    m = quiet_module
    await trust(m, ca)
    script = {
        b"EHLO": b"250-old.test\r\n250 STARTTLS\r\n",
        b"STAR": b"454 TLS not available now\r\n",
        b"DATA": b"354 go\r\n",
    }
    srv, port, seen = await _scripted(script)
    async with srv:
        assert await smtp(m, "localhost", port, b"x", tls="9") == FAILED
        assert await smtp(m, "localhost", port, b"x", tls="8") == FAILED
        assert not any(line.startswith(b"MAIL") for line in seen)
        assert await smtp(m, "localhost", port, b"sent plain", tls="5") == OK
    assert b"sent plain\r\n" in seen
    assert await m.cmd("AT") == OK


async def test_ipv6_server(quiet_module):
    import socket as _socket

    from aiosmtpd.smtp import SMTP

    m = quiet_module
    try:
        with _socket.socket(_socket.AF_INET6, _socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    sink = Sink()
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: SMTP(sink), "::1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        assert await smtp(m, "[::1]", port, b"six") == OK
    assert sink.mails[0].content.endswith(b"\r\n\r\nsix\r\n")
