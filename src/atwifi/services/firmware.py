"""The virtual module's firmware image format (``.fota`` / ``.sfota``), dialect-free.

Layout (integers little-endian)::

    magic     4 bytes  b"AWFW"
    format    1 byte   1
    flags     1 byte   bit 0: secure (an HMAC tag follows the CRC)
    reserved  2 bytes  zero
    version  16 bytes  ASCII, NUL-padded: what STS prints as fw_version ("1.2.0")
    build    32 bytes  ASCII, NUL-padded: STS build and +WIND:1 ("180301-1a2b3c4-SPWF04S")
    size      u32      payload length, at most MAX_PAYLOAD
    payload   size bytes, opaque (the firmware proper; the virtual module runs none of it)
    crc32     u32      zlib CRC-32 of every byte before it
    tag      32 bytes  secure images only: HMAC-SHA256 over every byte before it, keyed with
                       the module's aes128_key (16 bytes)

``check_file`` reads an image in pieces (never whole) and says what is wrong with it.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"AWFW"
FORMAT = 1
SECURE = 0x01
MAX_PAYLOAD = 2 * 1024 * 1024  # the STM32F439's flash
_HEAD = struct.Struct("<4sBB2x16s32sI")
_CRC = struct.Struct("<I")
TAG_SIZE = 32
MAX_IMAGE = _HEAD.size + MAX_PAYLOAD + _CRC.size + TAG_SIZE
_PIECE = 64 * 1024


class FirmwareError(ValueError):
    """Not a valid image. ``reason``: "format" (magic, sizes, CRC) or "secure" (tag)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class FirmwareInfo:
    version: str
    build: str
    size: int
    secure: bool


def _text(raw: bytes, name: str) -> str:
    text = raw.rstrip(b"\0")
    if not text or b"\0" in text or any(c < 0x20 or c > 0x7E for c in text):
        raise FirmwareError("format", f"bad {name} field")
    return text.decode("ascii")


def pack(version: str, build: str, payload: bytes = b"", key: bytes | None = None) -> bytes:
    """An image; with ``key`` (16 bytes) a secure one (``.sfota``)."""
    v, b = version.encode("ascii"), build.encode("ascii")
    if not 0 < len(v) <= 16 or not 0 < len(b) <= 32:
        raise ValueError("version is 1..16 bytes, build 1..32")
    flags = SECURE if key is not None else 0
    body = _HEAD.pack(MAGIC, FORMAT, flags, v, b, len(payload)) + payload
    body += _CRC.pack(zlib.crc32(body))
    if key is not None:
        body += hmac.new(key, body, hashlib.sha256).digest()
    return body


def check_file(path: Path, *, secure: bool, key: bytes | None) -> FirmwareInfo:
    """Validate the image in ``path`` (blocking: run it in a thread). ``secure``: the image
    was asked for as ``.sfota`` and must carry a good tag for ``key``."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(_HEAD.size)
        if len(head) < _HEAD.size:
            raise FirmwareError("format", "image too short")
        magic, fmt, flags, v, b, plen = _HEAD.unpack(head)
        if magic != MAGIC or fmt != FORMAT:
            raise FirmwareError("format", "not an atwifi firmware image")
        is_secure = bool(flags & SECURE)
        if plen > MAX_PAYLOAD:
            raise FirmwareError("format", f"payload of {plen} bytes")
        expect = _HEAD.size + plen + _CRC.size + (TAG_SIZE if is_secure else 0)
        if size != expect:
            raise FirmwareError("format", f"{size} bytes, the header says {expect}")
        info = FirmwareInfo(_text(v, "version"), _text(b, "build"), plen, is_secure)
        crc = zlib.crc32(head)
        mac = hmac.new(key, head, hashlib.sha256) if (is_secure and key) else None
        left = plen
        while left:
            piece = f.read(min(_PIECE, left))
            if not piece:
                raise FirmwareError("format", "image too short")
            left -= len(piece)
            crc = zlib.crc32(piece, crc)
            if mac is not None:
                mac.update(piece)
        raw_crc = f.read(_CRC.size)
        if _CRC.unpack(raw_crc)[0] != crc:
            raise FirmwareError("format", "checksum mismatch")
        if mac is not None:
            mac.update(raw_crc)
        tag = f.read(TAG_SIZE) if is_secure else b""
    if secure and not is_secure:
        raise FirmwareError("secure", "a .sfota update needs a secure image")
    if is_secure and (mac is None or not hmac.compare_digest(mac.digest(), tag)):
        raise FirmwareError("secure", "the image's tag does not match aes128_key")
    return info
