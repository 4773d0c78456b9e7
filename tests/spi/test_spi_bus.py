"""The module's SPI slave port, sans I/O: sync bytes, IRQ, chip select, reset, bad input."""

from __future__ import annotations

from atwifi.framings.spi import SlaveDecoder, SlavePacket, encode_master, encode_slave
from atwifi.framings.spibus import IDLE, SpiSlave

OK = encode_slave(3, 0, 0)


def xfer(bus: SpiSlave, mosi: bytes) -> bytes:
    bus.select()
    try:
        return bus.transfer(mosi)
    finally:
        bus.deselect()


def test_idle_bus() -> None:
    bus = SpiSlave()
    assert bus.irq == 1 and bus.take_irq() == []
    assert xfer(bus, b"\x00\x00\x00") == bytes([IDLE] * 3)
    assert bus.take_packets() == []


def test_write_as_drivers_do_sync_then_head_then_data() -> None:
    bus = SpiSlave()
    packet = encode_master(0x44, ["0", "5"], b"hello")
    bus.select()
    assert bus.transfer(packet[:1]) != b"\x02"  # sync: the module has nothing to send
    bus.deselect()
    bus.select()
    assert bus.transfer(packet[1:9]) == bytes([IDLE] * 8)  # length and head
    bus.deselect()
    assert bus.take_irq() == [0]  # "send the data"
    assert bus.take_packets() == []
    xfer(bus, packet[9:])
    assert bus.take_irq() == [1]  # "data received"
    assert bus.take_packets() == [packet]


def test_write_in_one_transfer() -> None:
    bus = SpiSlave()
    packet = encode_master(0x01)
    assert xfer(bus, packet) == bytes([IDLE] * len(packet))
    assert bus.take_packets() == [packet]
    assert bus.take_irq() == []


def test_read_header_then_payload_in_separate_periods() -> None:
    bus = SpiSlave()
    wind = encode_slave(1, 0, 1, b"171117-0328fe3-SPWF04S")
    bus.push(wind)
    assert bus.take_irq() == [0]
    assert xfer(bus, b"\x00") == b"\x02"
    header = xfer(bus, b"\x00" * 4)
    assert header == wind[1:5]
    n = header[2] | header[3] << 8
    assert xfer(bus, b"\x00" * n) == wind[5:]
    assert bus.take_irq() == [1]


def test_read_the_stream_in_big_chunks() -> None:
    bus = SpiSlave()
    bus.push(OK + encode_slave(1, 0, 0) + encode_slave(1, 0, 32))
    miso = xfer(bus, b"\x00" * 40)
    dec = SlaveDecoder()
    assert [p.indication for p in dec.feed(miso)] == [0, 0, 32]
    assert miso[15:] == bytes([IDLE] * 25)


def test_collision_the_module_wins() -> None:
    bus = SpiSlave()
    bus.push(OK)
    packet = encode_master(0x01)
    miso = xfer(bus, packet)  # the host wanted to write; the module answers 0x02
    assert miso == OK
    assert bus.take_packets() == []  # the host must write again
    xfer(bus, packet)
    assert bus.take_packets() == [packet]


def test_output_waits_while_a_write_is_under_way() -> None:
    bus = SpiSlave()
    packet = encode_master(0x44, ["0", "5"], b"hello")
    xfer(bus, packet[:9])
    bus.push(encode_slave(1, 0, 55, b":0:1:1"))  # a WIND raised meanwhile
    assert xfer(bus, packet[9:]) == bytes([IDLE] * 5)
    assert bus.take_packets() == [packet]
    assert bus.take_irq() == [0, 1, 0]  # data please, data received, something to read
    assert xfer(bus, b"\x00" * 11)[:3] == b"\x02\x10\x37"


def test_wrong_start_byte_is_ignored_until_chip_select_is_released() -> None:
    bus = SpiSlave()
    packet = encode_master(0x01)
    assert xfer(bus, b"\x41T+S.STS\r" + packet) == bytes([IDLE] * (9 + len(packet)))
    assert bus.take_packets() == []
    assert any("wrong start byte 0x41" in n for n in bus.take_notes())
    xfer(bus, packet)
    assert bus.take_packets() == [packet]


def test_chip_select_released_inside_a_head() -> None:
    bus = SpiSlave()
    packet = encode_master(0x0A, ["console_echo", "0"])
    xfer(bus, packet[:6])
    assert bus.take_packets() == []
    assert any("released 5 bytes into" in n for n in bus.take_notes())
    assert bus.take_irq() == [0]
    dec = SlaveDecoder()
    (error,) = dec.feed(xfer(bus, b"\x00" * 32))
    assert error == SlavePacket(2, 0, 2, b"Missing argument(s)")
    xfer(bus, packet)  # the bus is in sync again
    assert bus.take_packets() == [packet]


def test_length_too_short_rest_is_noise() -> None:
    bus = SpiSlave()
    # SOCKW 0,5 announcing 9 bytes: "hello" does not fit; the 'lo' that is left over is noise
    packet = bytes([0x02, 0x00, 0x09, 0x44, 0x02, 0x01]) + b"0\x015hello"
    xfer(bus, packet)
    (got,) = bus.take_packets()
    assert got == packet[:12]
    assert any("0x6C" in n for n in bus.take_notes())
    xfer(bus, encode_master(0x01))
    assert bus.take_packets() == [encode_master(0x01)]


def test_reset_holds_the_module() -> None:
    bus = SpiSlave()
    bus.push(OK)
    bus.set_reset(True)
    assert bus.irq == 0  # low, as at power-up
    assert xfer(bus, b"\x00\x00") == bytes([IDLE, IDLE])
    assert xfer(bus, encode_master(0x01)) == bytes([IDLE] * 5)
    assert bus.take_packets() == []
    bus.set_reset(False)
    assert bus.irq == 1 and bus.pending == 0


def test_inactive_bus_ignores_everything() -> None:
    bus = SpiSlave()
    bus.set_active(False)
    bus.push(OK)
    assert bus.irq == 1
    assert xfer(bus, encode_master(0x01)) == bytes([IDLE] * 5)
    assert bus.take_packets() == []


def test_backlog_is_bounded() -> None:
    bus = SpiSlave(backlog=1000)
    for _ in range(100):
        bus.push(encode_slave(3, 0, 0xFF, b"x" * 95))
    assert bus.pending <= 1000 and bus.dropped > 0


def test_partial_output_waits_for_the_rest_of_its_packet() -> None:
    bus = SpiSlave()
    bus.push(OK[:3])
    assert bus.irq == 1
    bus.push(OK[3:])
    assert bus.irq == 0


def test_new_host_reads_a_half_read_packet_again() -> None:
    bus = SpiSlave()
    wind = encode_slave(1, 0, 0)
    bus.push(wind)
    xfer(bus, b"\x00\x00")
    bus.host_changed()
    assert xfer(bus, b"\x00" * 5) == wind
