"""Rfc2217Transport: pyserial's rfc2217:// client (as labgrid and pytest-embedded use it)."""

from __future__ import annotations

import asyncio
import os

import pytest
import serial
from transport_helpers import SAFETY, Echo, Notes, read_serial_exactly

from atwifi.transports.base import BACKLOG_LIMIT
from atwifi.transports.rfc2217 import Rfc2217Transport

# pyserial 3.5's client still calls Thread.setDaemon/setName
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:serial.rfc2217")


@pytest.fixture
async def rfc():
    t = Rfc2217Transport("127.0.0.1", 0)
    echo = Echo(t)
    notes = Notes(t)
    await t.start(echo.feed)
    yield t, echo, notes
    await t.close()


def _open(t: Rfc2217Transport, baudrate: int = 115200) -> serial.SerialBase:
    return serial.serial_for_url(
        f"rfc2217://127.0.0.1:{t.port}?timeout={SAFETY}", baudrate=baudrate, timeout=SAFETY
    )


def _closed(port: serial.SerialBase) -> bool:
    try:
        return port.read(1) == b""
    except serial.SerialException:  # pyserial says so when its reader thread saw the close
        return True


def _talk(port: serial.SerialBase, data: bytes) -> bytes:
    port.write(data)
    return read_serial_exactly(port, len(data))


async def test_echo_with_every_byte_value_including_iac(rfc) -> None:
    t, echo, notes = rfc
    port = await asyncio.to_thread(_open, t)
    try:
        data = bytes(range(256)) + b"\xff\xff\xff" + b"at\r"
        assert await asyncio.to_thread(_talk, port, data) == data.upper()
        assert await echo.wait_for(len(data)) == data
        assert await notes.wait_for("uses RFC 2217")
    finally:
        await asyncio.to_thread(port.close)


async def test_port_settings_and_purge_are_answered(rfc) -> None:
    t, _, notes = rfc
    port = await asyncio.to_thread(_open, t, 57600)
    try:
        assert t.baudrate == 57600  # pyserial's open() sets it and waits for the answer
        await asyncio.to_thread(setattr, port, "baudrate", 9600)
        assert t.baudrate == 9600
        assert await notes.wait_for("host set baud rate 9600")
        await asyncio.to_thread(setattr, port, "bytesize", serial.SEVENBITS)
        assert t.datasize == 7
        await asyncio.to_thread(setattr, port, "parity", serial.PARITY_EVEN)
        assert t.parity == 3
        await asyncio.to_thread(setattr, port, "stopbits", serial.STOPBITS_TWO)
        assert t.stopsize == 2
        await asyncio.to_thread(setattr, port, "dtr", False)
        assert t.dtr is False
        await asyncio.to_thread(setattr, port, "rts", False)
        assert t.rts is False
        # each of these waits for the server's PURGE-DATA answer, or raises
        await asyncio.to_thread(port.reset_input_buffer)
        await asyncio.to_thread(port.reset_output_buffer)
        assert await asyncio.to_thread(_talk, port, b"still\r") == b"STILL\r"
    finally:
        await asyncio.to_thread(port.close)


async def test_boot_output_reaches_a_host_that_opens_later(rfc) -> None:
    t, _, _ = rfc
    boot = b"\r\n+WIND:0:Console active\r\n+WIND:32:WiFi Hardware Started\xff\r\n"
    t.write(boot)
    await t.drain()
    port = await asyncio.to_thread(_open, t)
    try:
        assert await asyncio.to_thread(read_serial_exactly, port, len(boot)) == boot
    finally:
        await asyncio.to_thread(port.close)


async def test_backlog_keeps_the_newest_64k(rfc) -> None:
    t, _, notes = rfc
    data = os.urandom(200 * 1024)  # plenty of 0xFF bytes to escape
    for i in range(0, len(data), 4096):
        t.write(data[i : i + 4096])
    port = await asyncio.to_thread(_open, t)
    try:
        got = await asyncio.to_thread(read_serial_exactly, port, BACKLOG_LIMIT)
        assert got == data[-BACKLOG_LIMIT:]
        t.write(b"!")
        assert await asyncio.to_thread(read_serial_exactly, port, 1) == b"!"
        assert await notes.wait_for(f"dropped {len(data) - BACKLOG_LIMIT} bytes")
    finally:
        await asyncio.to_thread(port.close)


async def test_close_and_reopen(rfc) -> None:
    t, _, notes = rfc
    for i in range(3):
        port = await asyncio.to_thread(_open, t)
        msg = f"round {i}\r".encode()
        try:
            assert await asyncio.to_thread(_talk, port, msg) == msg.upper()
        finally:
            await asyncio.to_thread(port.close)
        await notes.wait_for("disconnected", count=i + 1)


async def test_new_connection_replaces_the_old(rfc) -> None:
    t, _, notes = rfc
    first = await asyncio.to_thread(_open, t)
    second = None
    try:
        assert await asyncio.to_thread(_talk, first, b"one\r") == b"ONE\r"
        second = await asyncio.to_thread(_open, t)
        assert await notes.wait_for("replaced by")
        assert await asyncio.to_thread(_talk, second, b"two\r") == b"TWO\r"
        assert await asyncio.to_thread(_closed, first)
    finally:
        await asyncio.to_thread(first.close)
        if second is not None:
            await asyncio.to_thread(second.close)


async def _raw(t: Rfc2217Transport):
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", t.port), SAFETY)


async def _read_until(reader: asyncio.StreamReader, marker: bytes) -> bytes:
    return await asyncio.wait_for(reader.readuntil(marker), SAFETY)


async def test_telnet_parsing_split_anywhere(rfc) -> None:
    """A hand-rolled client: options, IAC IAC and subnegotiations split across writes."""
    t, echo, _ = rfc
    reader, writer = await _raw(t)
    # the server's own offers come first
    offers = await asyncio.wait_for(reader.readexactly(18), SAFETY)
    assert bytes((255, 251, 44)) in offers and bytes((255, 253, 44)) in offers
    msg = (
        b"a\xff\xffb"  # data a, 0xFF, b
        + bytes((255, 253, 1))  # DO ECHO: refused
        + bytes((255, 250, 44, 1, 0, 0, 0x25, 0x80, 255, 240))  # SET-BAUDRATE 9600
        + bytes((255, 250, 44, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 255, 240))  # escaped 0xFF bytes
        + b"c\r"
    )
    for i in range(len(msg)):
        writer.write(msg[i : i + 1])
        await writer.drain()
    got = await echo.wait_for(5)
    assert got == b"a\xffbc\r"
    assert t.baudrate == 0xFFFF
    reply = await _read_until(reader, b"C\r")
    assert bytes((255, 252, 1)) in reply  # WONT ECHO
    assert bytes((255, 250, 44, 101, 0, 0, 0x25, 0x80, 255, 240)) in reply
    assert bytes((255, 250, 44, 101, 0, 0, 255, 255, 255, 255, 255, 255, 255, 240)) not in reply
    assert reply.endswith(b"A\xff\xffBC\r")  # output 0xFF is doubled on the wire
    writer.close()


async def test_flow_control_suspend_holds_output(rfc) -> None:
    t, echo, _ = rfc
    reader, writer = await _raw(t)
    writer.write(b"x")  # a host that talks has finished opening
    await _read_until(reader, b"X")
    writer.write(bytes((255, 250, 44, 8, 255, 240)) + b"y")  # FLOWCONTROL-SUSPEND, then data
    await echo.wait_for(2)
    assert t.pending == 1  # the module's "Y" waits
    writer.write(bytes((255, 250, 44, 9, 255, 240)))  # FLOWCONTROL-RESUME
    assert (await _read_until(reader, b"Y")).endswith(b"Y")
    assert t.pending == 0
    writer.close()


async def test_silent_host_gets_output_once_quiet(rfc) -> None:
    """A client that speaks no telnet at all (netcat) still gets the console."""
    t, _, _ = rfc
    t.write(b"+WIND:0:Console active\r\n")
    reader, writer = await _raw(t)
    got = await _read_until(reader, b"active\r\n")  # after the server's option offers
    assert got.endswith(b"+WIND:0:Console active\r\n")
    writer.close()


async def test_purge_after_open_drops_held_output(rfc) -> None:
    t, echo, _ = rfc
    reader, writer = await _raw(t)
    writer.write(b"x")
    await _read_until(reader, b"X")
    writer.write(bytes((255, 250, 44, 8, 255, 240)) + b"zz")  # suspend, then make output
    await echo.wait_for(3)
    assert t.pending == 2
    writer.write(bytes((255, 250, 44, 12, 1, 255, 240)))  # PURGE-DATA receive buffer
    ack = await _read_until(reader, bytes((255, 250, 44, 112, 1, 255, 240)))
    assert b"ZZ" not in ack
    assert t.pending == 0
    writer.close()


async def test_client_that_skips_option_answers_still_gets_com_port(rfc) -> None:
    """pyserial does not answer our offers when it took them as agreement; its first
    subnegotiation must be enough."""
    t, _, notes = rfc
    reader, writer = await _raw(t)
    await asyncio.wait_for(reader.readexactly(18), SAFETY)  # our offers; no answer from us
    writer.write(bytes((255, 250, 44, 12, 3, 255, 240)))  # PURGE-DATA both
    await _read_until(reader, bytes((255, 250, 44, 112, 3, 255, 240)))
    assert await notes.wait_for("uses RFC 2217")
    writer.close()


async def test_malformed_telnet_keeps_the_console_alive(rfc) -> None:
    t, echo, notes = rfc
    reader, writer = await _raw(t)
    await asyncio.wait_for(reader.readexactly(18), SAFETY)
    writer.write(
        bytes((255, 241, 255, 243, 255, 246))  # NOP, BRK, AYT: ignored
        + bytes((255, 250, 44, 1, 0, 255, 240))  # SET-BAUDRATE with 1 byte: a query
        + bytes((255, 250, 44, 2, 9, 255, 240))  # data size 9: refused, 8 kept
        + bytes((255, 250, 44, 12, 7, 255, 240))  # PURGE-DATA 7: ignored
        + bytes((255, 250, 44, 99, 1, 255, 240))  # unknown command
        + bytes((255, 250, 24, 1, 255, 240))  # another option's subnegotiation
        + bytes((255, 250, 44, 1)) + b"\x00" * 500 + bytes((255, 240))  # far too long
        + bytes((255, 250, 44, 5, 255, 65))  # SB cut short by IAC + not SE: ended there
        + b"ok\r"
    )  # fmt: skip
    got = await echo.wait_for(3)
    assert got.endswith(b"ok\r")
    reply = await _read_until(reader, b"OK\r")
    assert bytes((255, 250, 44, 101, 0, 1, 0xC2, 0)) in reply  # 115200 reported
    assert bytes((255, 250, 44, 102, 8, 255, 240)) in reply
    assert t.datasize == 8 and t.baudrate == 115200
    assert await notes.wait_for("unknown COM-PORT-OPTION command 99")
    writer.close()
