"""console_enabled=0 at boot, the reset line, and bad input on a live module's bus."""

from __future__ import annotations

import asyncio
from pathlib import Path

from atwifi.client import AsyncClient
from atwifi.client.spi import BusHost
from atwifi.framings.spi import SlaveDecoder, SlavePacket, encode_master
from spi_consoles import TIMEOUT, TwoConsoles


async def read_packets(host: BusHost, until: int | None = None) -> list[SlavePacket]:
    """Read packets as a driver does (IRQ low: clock) until a WIND ``until`` (or, with None,
    one final result packet) has come."""
    dec = SlaveDecoder()
    got: list[SlavePacket] = []
    async with asyncio.timeout(TIMEOUT):
        while True:
            await host.wait_irq(0)
            need = dec.need() if dec.in_packet else 64
            got += dec.feed(await host.transfer(b"\x00" * need))
            if until is None and any(p.is_final for p in got):
                return got
            if until is not None and any(p.kind == 1 and p.indication == until for p in got):
                return got


async def test_uart_commands_switch_the_module_to_spi_and_back(tmp_path: Path) -> None:
    m = TwoConsoles(tmp_path)
    await m.start()
    try:
        async with await AsyncClient.open(m.uart_url, timeout=TIMEOUT) as uart:
            await uart.set_config("console_enabled", 0)
            assert str(await uart.get_config("console_enabled")) == "0"  # from the next boot
            await uart.save_config()
            await uart.reset(wait=False)
        host = await BusHost.connect(m.spi_url)
        try:
            packets = await read_packets(host, until=24)
        finally:
            await host.close()
        winds = [p.indication for p in packets if p.kind == 1]
        assert winds[:4] == [1, 13, 0, 32] and winds[-1] == 24
        assert packets[0].payload == b"171117-0328fe3-SPWF04S"  # 22 bytes of build
        assert packets[1].payload == b"SPWF04SA"
        assert packets[2].payload == packets[3].payload == b""
        assert all(p.kind == 1 for p in packets)

        # The UART is deaf now: a command there does nothing.
        m.switch.feeder("uart", m.device.feed)(b"AT+S.SCFG=user_desc,uart\r")
        async with await AsyncClient.open(m.spi_url, timeout=TIMEOUT) as spi:
            assert await spi.get_config("user_desc") != "uart"
            assert await spi.status("wifi_state") == "10"
            await spi.set_config("console_enabled", 1)
            await spi.save_config()
            await spi.reset(wait=False)
        await m.settled()
        async with await AsyncClient.open(m.uart_url, timeout=TIMEOUT) as uart:
            await uart.wait_wind(32, timeout=TIMEOUT)
            assert (await uart.command("AT")).ok
            assert str(await uart.get_config("console_enabled")) == "1"
    finally:
        await m.stop()


async def test_reset_line(tmp_path: Path) -> None:
    m = TwoConsoles(tmp_path)
    m.save_console(0)
    await m.start()
    host = await BusHost.connect(m.spi_url)
    try:
        await read_packets(host, until=32)  # the boot WINDs of power-on
        host.reset_line(True)
        await host.wait_irq(0)  # low while held in reset
        assert await host.transfer(b"\x00" * 4) == b"\xff" * 4
        host.reset_line(False)
        packets = await read_packets(host, until=32)
        assert [p.indication for p in packets][:2] == [1, 13]
        await m.settled()
        assert m.device.status.get("reset_reason") == 0  # the pin cuts the module like power
    finally:
        await host.close()
        await m.stop()


async def drain(host: BusHost) -> None:
    """Read until the module has nothing left to say (a transfer brings back idle bytes
    only, and it is answered after everything the module queued before it)."""
    dec = SlaveDecoder()
    while True:
        miso = await host.transfer(b"\x00" * 64)
        dec.feed(miso)
        if miso == b"\xff" * 64 and not dec.in_packet:
            return


async def ask(host: BusHost, *chunks: bytes) -> list[SlavePacket]:
    """Clock each chunk in its own chip-select period, then read the reply. The module is
    quiet (booted, joined, everything read): no packet of its own can collide."""
    await host.wait_irq(1)
    for chunk in chunks:
        assert (await host.transfer(chunk))[:1] != b"\x02"
    return await read_packets(host)


async def test_bad_input_on_the_bus(tmp_path: Path) -> None:
    m = TwoConsoles(tmp_path)
    m.save_console(0)
    await m.start()
    host = await BusHost.connect(m.spi_url)
    at = encode_master(0x01)
    ok = [SlavePacket(3, 10, 0, b"")]
    try:
        await m.settled()
        await read_packets(host, until=24)
        await drain(host)
        # a wrong start byte: the period is noise, the next one is heard
        assert await ask(host, b"AT\r" + at, at) == ok
        # too many parameters: error 6
        assert await ask(host, encode_master(0x01, ["x", "y"])) == [SlavePacket(3, 10, 6, b"")]
        # a head over 512 bytes: error 32
        big = encode_master(0x0A, ["a" * 255, "b" * 255])
        assert await ask(host, big) == [SlavePacket(3, 10, 32, b"")]
        # a SOCKW whose data is shorter than its length parameter: error 2
        short = bytes([0x02, 0x00, 0x0B, 0x44, 0x02, 0x01]) + b"0\x017hello"
        assert await ask(host, short) == [SlavePacket(3, 10, 2, b"")]
        # chip select released inside the head: a kind-2 packet, nothing else lost
        await host.transfer(encode_master(0x0A, ["console_echo", "0"])[:6])
        dec = SlaveDecoder()
        await host.wait_irq(0)
        (note,) = dec.feed(await host.transfer(b"\x00" * 32))
        assert note == SlavePacket(2, 10, 2, b"Missing argument(s)")
        # a length too long takes the next packet's bytes as its own, then answers; in step
        lying = bytes([0x02, 0x00, 0x07, 0x01, 0x00])  # AT announcing 7 bytes, sending 2
        assert await ask(host, lying, at) == [SlavePacket(3, 10, 6, b"")]
        assert await ask(host, at) == ok
        # a packet of 600 bytes, of which 590 are data: fine
        data = bytes(range(256)) * 2 + b"x" * 78
        sockw = encode_master(0x44, ["9", str(len(data))], data)
        assert len(sockw) > 512
        head = 3 + 2 + 2 + len(str(len(data))) + 1
        assert await ask(host, sockw[:head], sockw[head:]) == [SlavePacket(3, 10, 76, b"")]
        assert await ask(host, at) == ok
    finally:
        await host.close()
        await m.stop()


async def test_a_driver_that_makes_one_bus_call_per_step(tmp_path: Path) -> None:
    """As the public C# driver does: the sync byte, the head, the data and the reply's
    header and payload each in their own chip-select period; after the data it waits for
    IRQ to go high."""
    m = TwoConsoles(tmp_path)
    m.save_console(0)
    await m.start()
    host = await BusHost.connect(m.spi_url)
    try:
        await drain(host)
        data = b"line one\r\nAT-S.OK\r\n\x02\x00"
        packet = encode_master(0x23, ["/drv.txt", str(len(data))], data)  # FSC
        head = 3 + 2 + 1 + 8 + 1 + len(str(len(data)))
        await host.wait_irq(1)
        assert await host.transfer(b"\x02") != b"\x02"
        await host.transfer(packet[1:head])
        await host.wait_irq(0)  # the module asks for the data
        rises = host.rises
        await host.transfer(packet[head:])
        async with asyncio.timeout(TIMEOUT):
            while host.rises == rises:  # "data received"
                await host.changed.wait()
                host.changed.clear()
        await host.wait_irq(0)  # the reply
        assert await host.transfer(b"\x00") == b"\x02"
        header = await host.transfer(b"\x00" * 4)
        assert header[0] >> 4 == 3 and header[1] == 0 and header[2:] == b"\x00\x00"  # OK
        # FSP, its payload read in two periods
        await host.wait_irq(1)
        assert await host.transfer(b"\x02") != b"\x02"
        await host.transfer(encode_master(0x28, ["/drv.txt"])[1:])
        await host.wait_irq(0)
        assert await host.transfer(b"\x00") == b"\x02"
        header = await host.transfer(b"\x00" * 4)
        n = header[2] | header[3] << 8
        assert header[1] == 0xFF  # AT-S.Reading:<n>:<size>, without its AT-S.
        assert await host.transfer(b"\x00" * n) == b"Reading:%d:%d" % (len(data), len(data))
        assert await host.transfer(b"\x00") == b"\x02"
        header = await host.transfer(b"\x00" * 4)
        n = header[2] | header[3] << 8
        assert header[1] == 0x03 and n == len(data)
        body = await host.transfer(b"\x00" * 5) + await host.transfer(b"\x00" * (n - 5))
        assert body == data
        assert await read_packets(host) == [SlavePacket(3, 10, 0, b"")]
    finally:
        await host.close()
        await m.stop()
