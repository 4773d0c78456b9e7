"""Request targets to file names: whatever a client sends, the name is one flat, valid module
file name or nothing (properties, no server needed)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from atwifi.services.fs.names import valid_name
from atwifi.services.httpd.paths import INDEX, file_name, parse_target
from atwifi.services.mime import content_type

PIECES = st.sampled_from(
    [
        "/",
        "..",
        ".",
        "%2e",
        "%2E",
        "%2f",
        "%2F",
        "%5c",
        "\\",
        "%00",
        "%25",
        "a",
        "b.html",
        "etc",
        "passwd",
        ":",
        "0:",
        "%3a",
        "__LOCKED__",
        "%c0%ae",
        "?",
        "#",
        " ",
        "%20",
    ]
)


@given(st.lists(PIECES, max_size=12).map("".join))
def test_any_path_names_one_flat_file_or_none(path: str) -> None:
    name = file_name("/" + path)
    assert name == "" or (valid_name(name) and "/" not in name and "\\" not in name)
    assert name not in ("..", ".", "__LOCKED__")
    assert ":" not in name


@given(st.binary(max_size=80))
def test_any_target_bytes_parse_or_refuse(raw: bytes) -> None:
    target = parse_target(raw)
    if target is not None:
        assert target.name == "" or valid_name(target.name)


def test_examples() -> None:
    assert file_name("/") == INDEX
    assert file_name("/status.html") == "status.html"
    assert file_name("/my%20page.html") == "my page.html"
    assert file_name("/%2e%2e/x") == ""
    assert file_name("/a/b") == ""
    t = parse_target(b"http://example.com/firstset.html?x=1")
    assert t is not None and (t.path, t.query, t.name) == ("/firstset.html", "x=1", "firstset.html")
    assert parse_target(b"*") is None
    assert content_type("x.PNG") == "image/png"
