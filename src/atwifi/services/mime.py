"""Content types by file extension, the manual's Table 5 and nothing more: what the module's
web server serves a file as, and what HTTPPOST sends a file as."""

from __future__ import annotations

# Table 5, "Association between file extension and HTTP content-type".
TABLE5: dict[str, str] = {
    "html": "text/html",
    "fhtml": "text/html",
    "css": "text/css",
    "txt": "text/plain",
    "xml": "text/xml",
    "xls": "text/xls",
    "gif": "image/gif",
    "jpg": "image/jpg",
    "bmp": "image/bmp",
    "png": "image/png",
    "ico": "image/x-icon",
    "class": "application/x-java-applet",
    "swf": "application/x-shockwave-flash",
    "json": "application/json",
    "woff": "application/font-woff",
    "form": "application/x-www-form-urlencoded",
}
UNKNOWN = "application/x-raw-stuff"  # "unknown extension"

# Types whose files are scanned for SSI markers (text pages; never a .gz file).
SSI_TYPES = frozenset({"text/html"})


def content_type(name: str) -> str:
    """The Content-Type of file ``name`` (its last extension, case-insensitive)."""
    _, dot, ext = name.rpartition(".")
    if not dot:
        return UNKNOWN
    return TABLE5.get(ext.lower(), UNKNOWN)
