"""Properties of the SPI framing and bus, for any input (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from atwifi.framings.spi import (
    MasterDecoder,
    SlaveDecoder,
    SlavePacket,
    encode_master,
    encode_slave,
    split_master,
)
from atwifi.framings.spibus import SpiSlave

params = st.lists(st.binary(max_size=40), max_size=6)


@given(st.integers(0, 255), params, st.binary(max_size=300))
def test_master_packets_round_trip(cmd_id: int, ps: list[bytes], data: bytes) -> None:
    packet = encode_master(cmd_id, ps, data)
    dec = MasterDecoder()
    dec.feed(packet)
    payload = dec.next_payload()
    assert payload is not None
    split = split_master(payload)
    assert (split.cmd_id, list(split.params), split.rest) == (cmd_id, ps, data)


@given(
    st.lists(
        st.tuples(
            st.integers(1, 3), st.integers(0, 15), st.integers(0, 255), st.binary(max_size=80)
        ),
        max_size=8,
    ),
    st.integers(1, 17),
)
def test_slave_stream_in_any_pieces(packets: list[tuple[int, int, int, bytes]], step: int) -> None:
    stream = b"".join(b"\xff" + encode_slave(*p) for p in packets)
    dec = SlaveDecoder()
    got: list[SlavePacket] = []
    for i in range(0, len(stream), step):
        got += dec.feed(stream[i : i + step])
    assert got == [SlavePacket(*p) for p in packets]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.binary(min_size=1, max_size=40)), max_size=10),
    st.binary(max_size=20),
)
def test_the_bus_never_wedges(noise: list[tuple[bool, bytes]], output: bytes) -> None:
    """Whatever a host clocks, with chip select released anywhere, and whatever is queued:
    after one long transfer of zero bytes (a driver polling) and a chip-select release, the
    next AT packet is received whole."""
    bus = SpiSlave()
    bus.push(encode_slave(1, 0, 0, output))
    for release, chunk in noise:
        bus.select()
        bus.transfer(chunk)
        if release:
            bus.deselect()
    bus.deselect()
    bus.take_packets()
    bus.select()
    bus.transfer(b"\x00" * 70000)  # finishes any packet under way, reads any queued
    bus.deselect()
    bus.take_packets()
    at = encode_master(0x01)
    bus.select()
    miso = bus.transfer(at)
    bus.deselect()
    assert miso[0] != 0x02  # nothing left queued to collide with
    assert bus.take_packets() == [at]
