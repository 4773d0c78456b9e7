"""The SPI packet format, sans I/O: the manual's four examples byte for byte, items out,
bad packets in."""

from __future__ import annotations

import pytest

from atwifi.framings.spi import (
    IND_DATA,
    IND_MESSAGE,
    IND_OK,
    IND_RESULT_LINE,
    KIND_RESULT,
    KIND_WIND,
    MasterDecoder,
    SlaveDecoder,
    SlavePacket,
    SpiFraming,
    encode_master,
    encode_slave,
)
from atwifi.runtime.items import Error, Info, Line, Ok, Raw, ResultLine, Wind


class Status:
    def __init__(self, state: int = 10) -> None:
        self.state = state

    def get(self, name: str) -> int:
        assert name == "wifi_state"
        return self.state


class Dialect:
    def __init__(self) -> None:
        self.status = Status()
        self.notes: list[str] = []

    def trace_note(self, text: str) -> None:
        self.notes.append(text)


def framing() -> SpiFraming:
    return SpiFraming(Dialect())


# -- the manual's examples (section 4) --------------------------------------------------------


def test_example_1_fsl_uses_table_1_id() -> None:
    # The manual prints 0x25 (FSD's id); Table 1 and drivers give FSL 0x27 (wire-notes).
    assert encode_master(0x27) == bytes([0x02, 0x00, 0x02, 0x27, 0x00])
    f = framing()
    f.feed(bytes([0x02, 0x00, 0x02, 0x27, 0x00]))
    req = f.next_request()
    assert req is not None and req.command is not None
    assert req.command.name == "FSL" and req.params == () and req.data is None


def test_example_2_scan() -> None:
    # "0x0D" in the manual: the bytes it lists are 14 (1+1+2+10); the length counts them all.
    packet = encode_master(0x33, ["d", "/scan.txt"])
    assert packet == bytes([0x02, 0x00, 0x0E, 0x33, 0x02, 0x01]) + b"d" + b"\x09/scan.txt"
    f = framing()
    f.feed(packet)
    req = f.next_request()
    assert req is not None and req.command.name == "SCAN"
    assert req.params == ("d", "/scan.txt")


def test_example_2_as_printed_is_refused() -> None:
    """The manual's bytes with its length 0x0D: the packet ends inside "/scan.txt", the
    parameter overruns it (error 2), the last "t" is noise, and the next packet is read."""
    printed = bytes([0x02, 0x00, 0x0D, 0x33, 0x02, 0x01]) + b"d" + b"\x09/scan.txt"
    d = Dialect()
    f = SpiFraming(d)
    f.feed(printed + encode_master(0x01))
    req = f.next_request()
    assert req is not None and req.error == 2
    after = f.next_request()
    assert after is not None and after.command is not None and after.command.name == ""
    assert any("1 bytes before a start byte" in n for n in d.notes)


def test_example_3_sockw_with_data() -> None:
    packet = encode_master(0x44, ["0", "5"], b"hello")
    assert packet == bytes([0x02, 0x00, 0x0B, 0x44, 0x02, 0x01]) + b"0" + b"\x01" + b"5hello"
    f = framing()
    f.feed(packet[:9])  # the head is in, the data is not
    assert f.next_request() is None and f.awaiting_data
    f.feed(packet[9:])
    req = f.next_request()
    assert req is not None and req.command.name == "SOCKW"
    assert req.params == ("0", "5") and req.data == b"hello"
    assert not f.awaiting_data


def test_example_4_wind_poweron() -> None:
    f = SpiFraming(Dialect(), wifi_state=lambda: 0)
    f.send(Wind(1, "Poweron", ("170726-b7ac1ba-SPWF04S",)))
    assert bytes(f.out) == bytes([0x02, 0x10, 0x01, 0x16, 0x00]) + b"170726-b7ac1ba-SPWF04S"


# -- items out ----------------------------------------------------------------------------


def decode(f: SpiFraming) -> list[SlavePacket]:
    packets = SlaveDecoder().feed(bytes(f.out))
    f.out.clear()
    return packets


def test_items_as_slave_packets() -> None:
    f = framing()  # wifi_state 10
    f.send(Info("On:127.0.0.1:0"))
    f.send(Raw(b"\x00\x02abc"))
    f.send(Line(b"0:\t BSS 00:11"))
    f.send(Ok())
    f.send(Error(76, "Illegal Socket ID"))
    f.send(ResultLine("Certificate Error:21"))
    f.send(Wind(55, "Pending Data", ("", 0, 31, 31)))
    f.send(Wind(0, "Console active"))
    assert decode(f) == [
        SlavePacket(KIND_RESULT, 10, IND_MESSAGE, b"On:127.0.0.1:0"),
        SlavePacket(KIND_RESULT, 10, IND_DATA, b"\x00\x02abc"),
        SlavePacket(KIND_RESULT, 10, IND_MESSAGE, b"0:\t BSS 00:11"),
        SlavePacket(KIND_RESULT, 10, IND_OK, b""),
        SlavePacket(KIND_RESULT, 10, 76, b""),
        SlavePacket(KIND_RESULT, 10, IND_RESULT_LINE, b"Certificate Error:21"),
        SlavePacket(KIND_WIND, 10, 55, b":0:31:31"),
        SlavePacket(KIND_WIND, 10, 0, b""),
    ]


def test_ok_is_five_bytes_and_length_is_low_first() -> None:
    f = SpiFraming(Dialect(), wifi_state=lambda: 3)
    f.send(Ok())
    assert bytes(f.out) == b"\x02\x33\x00\x00\x00"
    f.out.clear()
    f.send(Raw(b"x" * 300))
    assert bytes(f.out[:5]) == b"\x02\x33\x03\x2c\x01"


def test_long_data_leaves_in_bounded_packets() -> None:
    f = framing()
    f.send(Raw(bytes(range(256)) * 10))  # 2560 bytes
    packets = decode(f)
    assert [len(p.payload) for p in packets] == [1024, 1024, 512]
    assert b"".join(p.payload for p in packets) == bytes(range(256)) * 10


def test_final_packets() -> None:
    assert SlavePacket(KIND_RESULT, 0, IND_OK, b"").is_final
    assert SlavePacket(KIND_RESULT, 0, 8, b"").is_final
    assert SlavePacket(KIND_RESULT, 0, IND_RESULT_LINE, b"x").is_final
    assert not SlavePacket(KIND_RESULT, 0, IND_MESSAGE, b"x").is_final
    assert not SlavePacket(KIND_RESULT, 0, IND_DATA, b"").is_final
    assert not SlavePacket(KIND_WIND, 0, 0, b"").is_final


# -- bad packets in: each gets its error, the next packet is read as if nothing happened ------


def refused(packet: bytes) -> tuple[int | None, str]:
    f = framing()
    f.feed(packet + encode_master(0x01))
    req = f.next_request()
    assert req is not None
    after = f.next_request()
    assert after is not None and after.command is not None and after.command.name == ""
    return req.error, req.detail


def test_unknown_id() -> None:
    assert refused(encode_master(0x7F))[0] == 1


def test_too_many_parameters() -> None:
    assert refused(encode_master(0x01, ["x"]))[0] == 6  # AT takes none
    assert refused(encode_master(0x45, ["0", "1", "2"]))[0] == 6  # SOCKR takes two


def test_parameters_past_the_end() -> None:
    # count says 2, only one fits in the announced length
    assert refused(bytes([0x02, 0x00, 0x04, 0x45, 0x02, 0x01]) + b"0")[0] == 2
    # a parameter longer than what is left
    assert refused(bytes([0x02, 0x00, 0x04, 0x45, 0x01, 0x09]) + b"0")[0] == 2


def test_data_length_lies() -> None:
    short = bytes([0x02, 0x00, 0x09, 0x44, 0x02, 0x01]) + b"0\x015hel"
    assert refused(short)[0] == 2
    long = bytes([0x02, 0x00, 0x0D, 0x44, 0x02, 0x01]) + b"0\x015hello!!"
    assert refused(long)[0] == 6
    assert refused(b"\x02\x00\x03\x01\x00Z")[0] == 6  # AT with a byte of data


def test_command_over_512_bytes() -> None:
    # two parameters of 255 bytes and a third: a head of 2 + 3 + 255*2 + 10 bytes
    packet = encode_master(0x0A, ["a" * 255, "b" * 255, "c" * 9])
    assert refused(packet)[0] in (6, 32)
    packet = encode_master(0x0A, ["a" * 255, "b" * 255])  # 514 bytes of head
    assert refused(packet)[0] == 32


def test_data_may_make_a_packet_longer_than_512() -> None:
    f = framing()
    f.feed(encode_master(0x44, ["0", "1000"], b"z" * 1000))
    req = f.next_request()
    assert req is not None and req.error is None and req.data == b"z" * 1000


def test_bytes_before_a_start_byte_are_dropped() -> None:
    d = Dialect()
    f = SpiFraming(d)
    f.feed(b"\xff\x00junk" + encode_master(0x01))
    req = f.next_request()
    assert req is not None and req.command.name == ""
    assert any("dropped" in n for n in d.notes)


def test_decoder_in_pieces() -> None:
    d = MasterDecoder()
    packet = encode_master(0x44, ["0", "5"], b"hello")
    for b in packet[:-1]:
        d.feed(bytes([b]))
        assert d.next_payload() is None
    d.feed(packet[-1:])
    assert d.next_payload() == packet[3:]


def test_slave_decoder_skips_idle_bytes() -> None:
    stream = b"\xff\xff" + encode_slave(3, 1, 0) + b"\xff" + encode_slave(1, 1, 24, b"0:1.2.3.4")
    dec = SlaveDecoder()
    out = []
    for b in stream:
        out += dec.feed(bytes([b]))
    assert out == [SlavePacket(3, 1, 0, b""), SlavePacket(1, 1, 24, b"0:1.2.3.4")]


def test_encode_master_limits() -> None:
    with pytest.raises(ValueError):
        encode_master(0x0A, ["x" * 256])
