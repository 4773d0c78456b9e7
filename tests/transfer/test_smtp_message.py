"""The message builder on its own: whatever the body, the mail is well formed and decodes to
exactly the bytes sent (line ends made CR LF)."""

from __future__ import annotations

import email
import email.policy
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atwifi.services.errors import ServiceError
from atwifi.services.smtp import SmtpFault
from atwifi.services.smtp.message import build, split_recipients

EOL = re.compile(rb"\r\n|\r|\n")


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=3000), st.text(max_size=80).filter(lambda t: "\r" not in t and "\n" not in t)
)
def test_any_body_and_subject_round_trip(body, subject):
    mail = build("me@x.test", [("", "a@x.test")], subject, body, 0.0)
    lines = mail.message.split(b"\r\n")
    assert all(len(line) <= 998 for line in lines)
    assert b"\r" not in b"".join(lines) and b"\n" not in b"".join(lines)  # no bare CR/LF
    msg = email.message_from_bytes(mail.message, policy=email.policy.default)
    clean = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in subject)
    assert " ".join(msg["subject"].split()) == " ".join(clean.split())
    expected = b"\r\n".join(EOL.split(body))
    got = msg.get_payload(decode=True)
    assert got.rstrip(b"\r\n") == expected.rstrip(b"\r\n")
    assert msg["date"] == "Thu, 01 Jan 1970 00:00:00 +0000"


def test_recipients():
    assert split_recipients(' a@x.test ;Nick <n@x.test>;; "Doe, J" <j@x.test>') == [
        ("", "a@x.test"),
        ("Nick", "n@x.test"),
        ("Doe, J", "j@x.test"),
    ]
    for bad in ("", ";", "nobody", "a@x.test;<>", "Nick <nick>"):
        with pytest.raises(ServiceError) as e:
            split_recipients(bad)
        assert e.value.kind is SmtpFault.BAD_ARGUMENT


def test_names_are_quoted_and_encoded():
    mail = build("Bob <me@x.test>", [("Doe, J", "j@x.test"), ("Jürgen", "jg@x.test")], "s", b"", 0)
    head = mail.message.split(b"\r\n\r\n")[0].decode()
    assert "From: Bob <me@x.test>" in head
    assert 'To: "Doe, J" <j@x.test>, =?utf-8?' in head
    assert mail.sender == "me@x.test" and mail.recipients == ["j@x.test", "jg@x.test"]
