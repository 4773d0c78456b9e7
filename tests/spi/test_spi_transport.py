"""The bus stand-in (transports/spi.py) and the client's SPI host (client/spi.py) against a
small responder built on the framing: the bus protocol of docs/spi.md, over a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atwifi.client.aio import AsyncClient
from atwifi.client.errors import AtCommandError
from atwifi.client.spi import BusHost, command_packet, uart_words
from atwifi.framings.spi import SlavePacket, SpiFraming, encode_master
from atwifi.runtime.items import Error, Info, Ok, Raw, Wind
from atwifi.transports.spi import FAULT, HELLO, IRQ, MISO, MessageReader, SpiBusTransport, message


class Responder:
    """Answers a few commands as the module would, through the SPI framing."""

    def __init__(self, transport: SpiBusTransport) -> None:
        self.transport = transport
        self.framing = SpiFraming(None, wifi_state=lambda: 10)
        self.requests: list = []

    def feed(self, data: bytes) -> None:
        f = self.framing
        f.feed(data)
        while (req := f.next_request()) is not None:
            self.requests.append(req)
            if req.error is not None:
                f.send(Error(req.error))
            elif req.command.name == "GCFG":
                f.send(Info(f"Var:{req.params[0]}=0"))
                f.send(Ok())
            elif req.command.name == "SOCKR":
                f.send(Info("Reading:5:5"))
                f.send(Raw(b"he\r\nl"))
                f.send(Ok())
            elif req.command.name == "SOCKQ":
                f.send(Error(76))
            else:
                f.send(Ok())
            if req.command is not None and req.command.name == "SOCKW":
                f.send(Wind(55, "Pending Data", ("", 0, 5, 5)))
            self.transport.write(bytes(f.out))
            f.out.clear()

    def wind(self, number: int, *fields: object) -> None:
        self.framing.send(Wind(number, "", fields))
        self.transport.write(bytes(self.framing.out))
        self.framing.out.clear()


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[tuple[SpiBusTransport, Responder]]:
    t = SpiBusTransport(str(tmp_path / "bus.sock"))
    r = Responder(t)
    await t.start(r.feed)
    yield t, r
    await t.close()


async def test_client_over_spi(bus: tuple[SpiBusTransport, Responder]) -> None:
    transport, responder = bus
    async with await AsyncClient.open(transport.url(), timeout=5) as c:
        assert (await c.command("AT")).ok
        reply = await c.command("AT+S.GCFG=console_echo")
        assert reply.lines == ["AT-S.Var:console_echo=0"]
        reply = await c.command("AT+S.SOCKR=0,5", raw_prefixes={"AT-S.Reading:": 0})
        assert reply.raw == b"he\r\nl"
        await c.command("AT+S.SOCKW=0,5", b"hello")
        wind = await c.wait_wind(55, timeout=5)
        assert wind.line == "+WIND:55:Pending Data::0:5:5"
        with pytest.raises(AtCommandError) as e:
            await c.command("AT+S.SOCKQ=9")
        assert e.value.number == 76
        responder.wind(24, 0, "10.0.0.2")
        assert (await c.wait_wind(24, timeout=5)).fields[-1] == "10.0.0.2"
    sockw = responder.requests[-2]
    assert sockw.params == ("0", "5") and sockw.data == b"hello"


async def test_tcp_address() -> None:
    t = SpiBusTransport("127.0.0.1:0")
    r = Responder(t)
    await t.start(r.feed)
    try:
        assert t.url().startswith("spi://127.0.0.1:")
        async with await AsyncClient.open(t.url(), timeout=5) as c:
            assert (await c.command("AT")).ok
    finally:
        await t.close()


async def raw_connect(path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_unix_connection(path)


async def read_message(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readexactly(3)
    return head[0], await reader.readexactly(int.from_bytes(head[1:], "big"))


async def test_bus_protocol_by_hand(bus: tuple[SpiBusTransport, Responder]) -> None:
    transport, _ = bus
    assert transport.path is not None
    reader, writer = await raw_connect(transport.path)
    try:
        assert await read_message(reader) == (HELLO, bytes([1, 0xFF, 1]))
        # The worked exchange of docs/spi.md, byte for byte.
        writer.write(bytes.fromhex("02 00 01 00") + bytes.fromhex("01 00 01 02"))
        assert await read_message(reader) == (MISO, b"\xff")
        writer.write(bytes.fromhex("01 00 04 00 02 01 00") + bytes.fromhex("02 00 01 01"))
        assert await read_message(reader) == (MISO, b"\xff" * 4)
        assert await read_message(reader) == (IRQ, b"\x00")  # the reply is ready
        writer.write(bytes.fromhex("04 00 05 00 00 00 00 00"))
        assert await read_message(reader) == (MISO, bytes.fromhex("02 3a 00 00 00"))
        assert await read_message(reader) == (IRQ, b"\x01")
        writer.write(message(0x7E, b"?"))
        kind, text = await read_message(reader)
        assert kind == FAULT and b"0x7E" in text
        assert await reader.read() == b""  # and the module hangs up
    finally:
        writer.close()


async def test_a_new_host_replaces_the_old(bus: tuple[SpiBusTransport, Responder]) -> None:
    transport, _ = bus
    a = await BusHost.connect(transport.url())
    b = await BusHost.connect(transport.url())
    try:
        assert b.irq == 1
        await asyncio.wait_for(a._task, 5)
        assert a.closed is not None
    finally:
        await a.close()
        await b.close()


def test_text_commands_as_packets() -> None:
    assert command_packet(b"AT") == encode_master(0x01)
    assert command_packet(b"AT+S.FSL") == bytes([0x02, 0x00, 0x02, 0x27, 0x00])
    assert command_packet(b"at+s.scan=d,/scan.txt") == encode_master(0x33, ["d", "/scan.txt"])
    assert command_packet(b"AT+S.SOCKW=0,5", b"hello") == encode_master(0x44, ["0", "5"], b"hello")
    assert command_packet(b"AT+S.SOCKR=0,") == encode_master(0x45, ["0", ""])
    assert command_packet(b"AT+S.NOPE") == encode_master(0x00)


def test_uart_words() -> None:
    assert uart_words(SlavePacket(3, 0, 0, b"")) == b"AT-S.OK\r\n"
    assert uart_words(SlavePacket(3, 0, 76, b"")) == b"AT-S.ERROR:76:Illegal Socket ID\r\n"
    assert uart_words(SlavePacket(3, 0, 0xFF, b"Var:a=1")) == b"AT-S.Var:a=1\r\n"
    assert uart_words(SlavePacket(3, 0, 0xFF, b"0:\t BSS x")) == b"0:\t BSS x\r\n"
    assert uart_words(SlavePacket(3, 0, 0x03, b"\r\n")) == b"\r\n"
    assert uart_words(SlavePacket(1, 0, 0, b"")) == b"+WIND:0:Console active\r\n"
    assert uart_words(SlavePacket(1, 0, 1, b"b")) == b"+WIND:1:Poweron:b\r\n"


def test_message_reader_in_pieces() -> None:
    r = MessageReader()
    data = message(1, b"abc") + message(2, b"")
    out = []
    for b in data:
        out += r.feed(bytes([b]))
    assert out == [(1, b"abc"), (2, b"")]


async def test_a_host_that_does_not_read_is_not_buffered_for(
    bus: tuple[SpiBusTransport, Responder],
) -> None:
    """Transfers flood in, nobody reads the MISO: the module stops reading the host (its
    socket buffers fill up) instead of keeping every answer in memory; then it goes on."""
    transport, _ = bus
    assert transport.path is not None
    reader, writer = await raw_connect(transport.path)
    try:
        assert (await read_message(reader))[0] == HELLO
        chunk = message(0x04, b"\x00" * 60000)
        sent = 0
        while sent < 400:  # 24 MB asked for; the socket stops taking it long before
            writer.write(chunk)
            sent += 1
            try:
                await asyncio.wait_for(writer.drain(), 0.5)
            except TimeoutError:
                break
        assert sent < 400
        for _ in range(sent):  # everything sent is answered, in order
            kind, body = await read_message(reader)
            while kind == IRQ:
                kind, body = await read_message(reader)
            assert kind == MISO and len(body) == 60000
    finally:
        writer.close()
