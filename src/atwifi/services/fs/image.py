"""The volume image format: what ``AT+S.FSWRITE`` takes and what ``extvol.img`` holds.

Layout (all integers little-endian)::

    magic    4 bytes  b"AWFS"
    version  1 byte   1
    reserved 3 bytes  zero
    count    u32      number of files
    count times:
      name_len u16    1..64
      name     bytes  printable ASCII, a valid flat file name (names.valid_name)
      size     u32    file length
      data     bytes
    crc32    u32      zlib.crc32 of every byte before it

The checksum and the exact length make a truncated or corrupted image fail as a whole: a
volume is either the old one or the new one, never half an image.
"""

from __future__ import annotations

import struct
import zlib

from atwifi.services.fs.names import valid_name

MAGIC = b"AWFS"
VERSION = 1
_HEAD = struct.Struct("<4sB3xI")
_NAME = struct.Struct("<H")
_SIZE = struct.Struct("<I")
_CRC = struct.Struct("<I")


class ImageError(ValueError):
    """The bytes are not a valid volume image."""


def pack(files: dict[str, bytes]) -> bytes:
    """The image of ``files`` (name -> contents), in the given order."""
    parts = [_HEAD.pack(MAGIC, VERSION, len(files))]
    for name, data in files.items():
        if not valid_name(name):
            raise ImageError(f"bad file name {name!r}")
        raw = name.encode("ascii")
        parts += [_NAME.pack(len(raw)), raw, _SIZE.pack(len(data)), bytes(data)]
    body = b"".join(parts)
    return body + _CRC.pack(zlib.crc32(body))


def unpack(image: bytes) -> dict[str, bytes]:
    """The files of ``image``; raises ImageError for anything but a whole, valid image."""
    view = memoryview(image)
    if len(view) < _HEAD.size + _CRC.size:
        raise ImageError("image too short")
    (crc,) = _CRC.unpack_from(view, len(view) - _CRC.size)
    body = view[: len(view) - _CRC.size]
    if zlib.crc32(body) != crc:
        raise ImageError("checksum mismatch")
    magic, version, count = _HEAD.unpack_from(body, 0)
    if magic != MAGIC or version != VERSION:
        raise ImageError("not an atwifi volume image")
    pos = _HEAD.size
    files: dict[str, bytes] = {}
    for _ in range(count):
        if pos + _NAME.size > len(body):
            raise ImageError("truncated entry")
        (nlen,) = _NAME.unpack_from(body, pos)
        pos += _NAME.size
        if pos + nlen + _SIZE.size > len(body):
            raise ImageError("truncated entry")
        try:
            name = bytes(body[pos : pos + nlen]).decode("ascii")
        except UnicodeDecodeError:
            raise ImageError("bad file name") from None
        pos += nlen
        if not valid_name(name) or name in files:
            raise ImageError(f"bad or repeated file name {name!r}")
        (size,) = _SIZE.unpack_from(body, pos)
        pos += _SIZE.size
        if pos + size > len(body):
            raise ImageError("truncated data")
        files[name] = bytes(body[pos : pos + size])
        pos += size
    if pos != len(body):
        raise ImageError("trailing bytes")
    return files
