"""MQTT 3.1.1 packets, sans-I/O: ``encode_*`` build bytes, ``Decoder.feed`` turns bytes into
packets. No sockets, no clock, no tasks: the service owns the connection.

Written here because no well-kept sans-I/O MQTT 3.1.1 codec can be installed: paho-mqtt's
packet code lives inside its socket loop, gmqtt builds packets but parses them inside its
client (with process-global packet ids), and mqttproto is not on the registry this project
installs from. The packet layouts are the OASIS MQTT 3.1.1 standard's (section 3); the tests
check them against a real broker (mosquitto) and a real client (paho-mqtt).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

# The module is a small device: an incoming packet larger than this ends the connection
# (docs/behaviour.md, "MQTT"), so a broker cannot make it hold unbounded memory.
MAX_INCOMING = 1 << 20


class T(IntEnum):
    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    PUBREC = 5
    PUBREL = 6
    PUBCOMP = 7
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14


class ProtocolError(Exception):
    """The peer sent bytes that are not MQTT 3.1.1 (or a packet over the size limit)."""


@dataclass(frozen=True, slots=True)
class Will:
    topic: bytes
    message: bytes
    qos: int = 0
    retain: bool = False


@dataclass(frozen=True, slots=True)
class Connack:
    session_present: bool
    code: int  # 0 accepted, 1 protocol version, 2 id rejected, 3 unavailable, 4 bad user/pass, 5 not authorised


@dataclass(frozen=True, slots=True)
class Publish:
    topic: bytes
    payload: bytes
    qos: int = 0
    retain: bool = False
    dup: bool = False
    packet_id: int | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: a type and a packet id."""

    type: T
    packet_id: int


@dataclass(frozen=True, slots=True)
class Suback:
    packet_id: int
    codes: tuple[int, ...]  # granted QoS per topic, 0x80 failure


@dataclass(frozen=True, slots=True)
class Bare:
    """PINGREQ, PINGRESP, DISCONNECT."""

    type: T


@dataclass(frozen=True, slots=True)
class Connect:
    """Decoded only so that tests and fake brokers can read what the module sent."""

    client_id: bytes
    keep_alive: int
    clean_session: bool
    username: bytes | None
    password: bytes | None
    will: Will | None


@dataclass(frozen=True, slots=True)
class Subscribe:
    packet_id: int
    topics: tuple[tuple[bytes, int], ...]


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    packet_id: int
    topics: tuple[bytes, ...]


Packet = Connack | Publish | Ack | Suback | Bare | Connect | Subscribe | Unsubscribe


# -- encoding ------------------------------------------------------------------------------
def _length(n: int) -> bytes:
    if n > 268_435_455:
        raise ValueError("MQTT packet too large")
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(b: bytes) -> bytes:
    if len(b) > 0xFFFF:
        raise ValueError("MQTT string longer than 65535 bytes")
    return struct.pack("!H", len(b)) + b


def _packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + _length(len(body)) + body


def encode_connect(
    client_id: bytes,
    keep_alive: int,
    clean_session: bool = True,
    username: bytes | None = None,
    password: bytes | None = None,
    will: Will | None = None,
) -> bytes:
    flags = 0x02 if clean_session else 0
    payload = _str(client_id)
    if will is not None:
        flags |= 0x04 | (will.qos & 3) << 3 | (0x20 if will.retain else 0)
        payload += _str(will.topic) + _str(will.message)
    if username is not None:
        flags |= 0x80
        payload += _str(username)
        if password is not None:
            flags |= 0x40
            payload += _str(password)
    head = _str(b"MQTT") + bytes((4, flags)) + struct.pack("!H", keep_alive & 0xFFFF)
    return _packet(T.CONNECT << 4, head + payload)


def encode_publish(p: Publish) -> bytes:
    first = T.PUBLISH << 4 | (0x08 if p.dup else 0) | (p.qos & 3) << 1 | (1 if p.retain else 0)
    body = _str(p.topic)
    if p.qos:
        if p.packet_id is None:
            raise ValueError("QoS > 0 needs a packet id")
        body += struct.pack("!H", p.packet_id)
    return _packet(first, body + p.payload)


def encode_ack(kind: T, packet_id: int) -> bytes:
    # PUBREL has the reserved flags 0b0010 (3.6.1).
    first = kind << 4 | (0x02 if kind is T.PUBREL else 0)
    return _packet(first, struct.pack("!H", packet_id))


def encode_subscribe(packet_id: int, topics: list[tuple[bytes, int]]) -> bytes:
    body = struct.pack("!H", packet_id) + b"".join(_str(t) + bytes((q,)) for t, q in topics)
    return _packet(T.SUBSCRIBE << 4 | 0x02, body)


def encode_unsubscribe(packet_id: int, topics: list[bytes]) -> bytes:
    body = struct.pack("!H", packet_id) + b"".join(_str(t) for t in topics)
    return _packet(T.UNSUBSCRIBE << 4 | 0x02, body)


def encode_bare(kind: T) -> bytes:
    return bytes((kind << 4, 0))


def encode_connack(session_present: bool, code: int) -> bytes:
    """For fake brokers in tests."""
    return _packet(T.CONNACK << 4, bytes((1 if session_present else 0, code)))


# -- decoding ------------------------------------------------------------------------------
class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProtocolError("packet shorter than its fields")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("!H", self.take(2))[0]

    def string(self) -> bytes:
        return self.take(self.u16())

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out

    def done(self) -> bool:
        return self.pos >= len(self.data)


def decode(first: int, body: bytes) -> Packet:
    """One packet from its first byte and its body (everything after the length)."""
    try:
        kind = T(first >> 4)
    except ValueError:
        raise ProtocolError(f"packet type {first >> 4} is not MQTT 3.1.1") from None
    flags = first & 0x0F
    r = _Reader(body)
    if kind is T.PUBLISH:
        qos = flags >> 1 & 3
        if qos == 3:
            raise ProtocolError("PUBLISH with QoS 3")
        topic = r.string()
        pid = r.u16() if qos else None
        return Publish(topic, r.rest(), qos, bool(flags & 1), bool(flags & 8), pid)
    if kind is T.CONNACK:
        if len(body) != 2:
            raise ProtocolError("CONNACK is not 2 bytes")
        return Connack(bool(body[0] & 1), body[1])
    if kind in (T.PUBACK, T.PUBREC, T.PUBREL, T.PUBCOMP, T.UNSUBACK):
        if len(body) != 2:
            raise ProtocolError(f"{kind.name} is not 2 bytes")
        return Ack(kind, r.u16())
    if kind is T.SUBACK:
        pid = r.u16()
        return Suback(pid, tuple(r.rest()))
    if kind in (T.PINGREQ, T.PINGRESP, T.DISCONNECT):
        if body:
            raise ProtocolError(f"{kind.name} with a body")
        return Bare(kind)
    if kind is T.CONNECT:
        if r.string() != b"MQTT" or r.u8() != 4:
            raise ProtocolError("not an MQTT 3.1.1 CONNECT")
        cflags, keep_alive = r.u8(), r.u16()
        client_id = r.string()
        will = None
        if cflags & 0x04:
            wt, wm = r.string(), r.string()
            will = Will(wt, wm, cflags >> 3 & 3, bool(cflags & 0x20))
        user = r.string() if cflags & 0x80 else None
        pw = r.string() if cflags & 0x40 else None
        return Connect(client_id, keep_alive, bool(cflags & 0x02), user, pw, will)
    if kind is T.SUBSCRIBE:
        pid = r.u16()
        subs: list[tuple[bytes, int]] = []
        while not r.done():
            t = r.string()
            subs.append((t, r.u8()))
        return Subscribe(pid, tuple(subs))
    assert kind is T.UNSUBSCRIBE
    pid = r.u16()
    topics: list[bytes] = []
    while not r.done():
        topics.append(r.string())
    return Unsubscribe(pid, tuple(topics))


class Decoder:
    """Bytes in any pieces -> whole packets. Memory stays bounded by ``max_packet``."""

    def __init__(self, max_packet: int = MAX_INCOMING) -> None:
        self.buf = bytearray()
        self.max_packet = max_packet

    def feed(self, data: bytes) -> list[Packet]:
        self.buf += data
        out: list[Packet] = []
        while True:
            head = self._header()
            if head is None:
                break
            first, start, length = head
            if len(self.buf) < start + length:
                break
            body = bytes(self.buf[start : start + length])
            del self.buf[: start + length]
            out.append(decode(first, body))
        return out

    def _header(self) -> tuple[int, int, int] | None:
        buf = self.buf
        if len(buf) < 2:
            return None
        length, mult = 0, 1
        for i in range(1, 5):
            if i >= len(buf):
                return None
            b = buf[i]
            length += (b & 0x7F) * mult
            if not b & 0x80:
                if length > self.max_packet:
                    raise ProtocolError(f"packet of {length} bytes, over {self.max_packet}")
                return buf[0], i + 1, length
            mult *= 128
        raise ProtocolError("remaining length longer than 4 bytes")
