"""TFTP packets (RFC 1350), sans-I/O: bytes in, packets out, and back.

No well-kept TFTP library fits asyncio (tftpy, the known one, runs its own blocking loops in
threads), and the protocol is five packet shapes, so atwifi has this small codec of its own.
Options (RFC 2347) in a request are parsed and kept, never acted on: a peer that asks for
them gets plain RFC 1350 replies, which RFC 2347 allows.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

BLOCK = 512  # RFC 1350 data size; a shorter DATA ends the transfer
MAX_BLOCKS = 65535  # block numbers are 16 bits and atwifi does not let them wrap
MAX_SIZE = MAX_BLOCKS * BLOCK - 1  # the largest file one transfer carries


class Op(IntEnum):
    RRQ = 1
    WRQ = 2
    DATA = 3
    ACK = 4
    ERROR = 5
    OACK = 6


class Code(IntEnum):
    """ERROR codes of RFC 1350 (8 is RFC 2347's option refusal)."""

    NOT_DEFINED = 0
    NOT_FOUND = 1
    ACCESS = 2
    DISK_FULL = 3
    ILLEGAL = 4
    UNKNOWN_TID = 5
    EXISTS = 6
    NO_USER = 7
    OPTION = 8


MESSAGES = {
    Code.NOT_DEFINED: "Not defined",
    Code.NOT_FOUND: "File not found",
    Code.ACCESS: "Access violation",
    Code.DISK_FULL: "Disk full or allocation exceeded",
    Code.ILLEGAL: "Illegal TFTP operation",
    Code.UNKNOWN_TID: "Unknown transfer ID",
    Code.EXISTS: "File already exists",
    Code.NO_USER: "No such user",
    Code.OPTION: "Option negotiation failed",
}


class PacketError(ValueError):
    """Bytes that are not a TFTP packet."""


# NamedTuples rather than dataclasses: the server loads at every boot, and these classes
# cost a tenth as much to create.
class Request(NamedTuple):
    op: Op  # RRQ or WRQ
    filename: str
    mode: str  # lower-cased: "octet", "netascii", "mail"
    options: dict[str, str] = {}  # shared default, never mutated (parse makes a new one)


class Data(NamedTuple):
    block: int
    data: bytes


class Ack(NamedTuple):
    block: int


class Error(NamedTuple):
    code: int
    message: str


class OAck(NamedTuple):
    options: dict[str, str]


Packet = Request | Data | Ack | Error | OAck


def _strings(body: bytes) -> list[str]:
    if not body.endswith(b"\0"):
        raise PacketError("strings not NUL-terminated")
    # Names are bytes on the wire; latin-1 keeps every byte (the module's names are ASCII).
    return [p.decode("latin-1") for p in body[:-1].split(b"\0")]


def parse(raw: bytes) -> Packet:
    if len(raw) < 4:
        raise PacketError(f"{len(raw)} bytes: too short")
    (op,) = struct.unpack_from("!H", raw)
    body = raw[2:]
    if op in (Op.RRQ, Op.WRQ):
        parts = _strings(body)
        if len(parts) < 2 or len(parts) % 2:
            raise PacketError("request without filename and mode")
        opts = {parts[i].lower(): parts[i + 1] for i in range(2, len(parts), 2)}
        return Request(Op(op), parts[0], parts[1].lower(), opts)
    if op == Op.DATA:
        if len(body) > 2 + BLOCK:
            raise PacketError("DATA longer than 512 bytes")
        return Data(struct.unpack_from("!H", body)[0], bytes(body[2:]))
    if op == Op.ACK:
        if len(body) != 2:
            raise PacketError("ACK of the wrong length")
        return Ack(struct.unpack_from("!H", body)[0])
    if op == Op.ERROR:
        code = struct.unpack_from("!H", body)[0]
        text = body[2:]
        text = text[:-1] if text.endswith(b"\0") else text
        return Error(code, text.decode("latin-1", "replace"))
    if op == Op.OACK:
        parts = _strings(body) if body else []
        if len(parts) % 2:
            raise PacketError("OACK with an odd number of strings")
        return OAck({parts[i].lower(): parts[i + 1] for i in range(0, len(parts), 2)})
    raise PacketError(f"unknown opcode {op}")


def request(op: Op, filename: str, mode: str = "octet") -> bytes:
    return struct.pack("!H", op) + filename.encode("latin-1") + b"\0" + mode.encode() + b"\0"


def data(block: int, payload: bytes) -> bytes:
    return struct.pack("!HH", Op.DATA, block) + payload


def ack(block: int) -> bytes:
    return struct.pack("!HH", Op.ACK, block)


def error(code: int, message: str | None = None) -> bytes:
    if message is None:
        message = MESSAGES.get(code, "")  # type: ignore[call-overload]
    text = message
    return struct.pack("!HH", Op.ERROR, code) + text.encode("latin-1", "replace") + b"\0"


# netascii (RFC 764 via RFC 1350): CR LF for a line end, CR NUL for a bare CR.
def to_netascii(raw: bytes) -> bytes:
    return raw.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")


def from_netascii(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\r\0", b"\r")
