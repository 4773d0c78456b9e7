"""The sans-I/O MQTT 3.1.1 codec: layouts, any split of the byte stream, bounded memory."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atwifi.services.mqtt import codec
from atwifi.services.mqtt.codec import T


def test_connect_layout() -> None:
    data = codec.encode_connect(
        b"id", 60, True, b"u", b"p", codec.Will(b"w", b"bye", qos=1, retain=True)
    )
    # fixed header, "MQTT" level 4, flags user|pass|will retain|will qos 1|will|clean, ka 60
    assert data[:2] == bytes((0x10, len(data) - 2))
    assert data[2:10] == b"\x00\x04MQTT\x04" + bytes((0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02,))
    assert data[10:12] == b"\x00\x3c"
    assert codec.Decoder().feed(data) == [
        codec.Connect(b"id", 60, True, b"u", b"p", codec.Will(b"w", b"bye", 1, True))
    ]


def test_small_packets() -> None:
    assert codec.encode_bare(T.PINGREQ) == b"\xc0\x00"
    assert codec.encode_bare(T.DISCONNECT) == b"\xe0\x00"
    assert codec.encode_ack(T.PUBREL, 7) == b"\x62\x02\x00\x07"
    assert codec.encode_ack(T.PUBACK, 0x1234) == b"\x40\x02\x12\x34"
    assert codec.encode_subscribe(1, [(b"a/#", 2)]) == b"\x82\x08\x00\x01\x00\x03a/#\x02"
    dec = codec.Decoder()
    assert dec.feed(b"\x20\x02\x01\x00\x90\x03\x00\x01\x80\xd0\x00") == [
        codec.Connack(True, 0),
        codec.Suback(1, (0x80,)),
        codec.Bare(T.PINGRESP),
    ]


@given(
    topic=st.binary(min_size=1, max_size=300),
    payload=st.binary(max_size=5000),
    qos=st.integers(0, 2),
    retain=st.booleans(),
    dup=st.booleans(),
    cuts=st.lists(st.integers(0, 6000), max_size=6),
)
def test_publish_round_trip_in_any_pieces(topic, payload, qos, retain, dup, cuts) -> None:
    pub = codec.Publish(topic, payload, qos, retain, dup, 42 if qos else None)
    data = codec.encode_publish(pub) * 2
    dec = codec.Decoder()
    got: list[codec.Packet] = []
    last = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts) + [len(data)]:
        got += dec.feed(data[last:cut])
        last = cut
    assert got == [pub, pub]
    assert not dec.buf


def test_lengths_of_every_size_class() -> None:
    for n in (0, 127, 128, 16383, 16384, 2_097_152):
        pub = codec.Publish(b"t", b"x" * n)
        dec = codec.Decoder(max_packet=3_000_000)
        assert dec.feed(codec.encode_publish(pub)) == [pub]


def test_oversized_and_malformed() -> None:
    dec = codec.Decoder(max_packet=100)
    with pytest.raises(codec.ProtocolError):
        dec.feed(b"\x30\xff\x7f")  # 16383 bytes announced: refused before they arrive
    for bad in (
        b"\x30\xff\xff\xff\xff\x01",  # 5-byte remaining length
        b"\x00\x00",  # type 0
        b"\x36\x03\x00\x01t",  # QoS 3
        b"\x20\x03\x00\x00\x00",  # CONNACK of 3 bytes
        b"\x40\x01\x00",  # PUBACK of 1 byte
        b"\x30\x02\x00\x05",  # topic longer than the packet
        b"\xd0\x01\x00",  # PINGRESP with a body
    ):
        with pytest.raises(codec.ProtocolError):
            codec.Decoder().feed(bad)
