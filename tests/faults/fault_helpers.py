"""Helpers for the fault tests: a module whose trace notes can be awaited, loopback peers."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from atwifi.control import verbs
from harness import InProcessModule

_READING = re.compile(rb"AT-S\.Reading:(\d+):(\d+)\r\n")


class Notes:
    """Stands in for the device's Trace: keeps the notes, lets a test await one."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._more = asyncio.Event()

    def note(self, text: str) -> None:
        self.texts.append(text)
        self._more.set()

    def record(self, direction: str, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass

    def having(self, word: str) -> list[str]:
        return [t for t in self.texts if word in t]

    async def wait(self, word: str, timeout: float = 20.0, count: int = 1) -> str:
        async with asyncio.timeout(timeout):
            while len(self.having(word)) < count:
                self._more.clear()
                await self._more.wait()
        return self.having(word)[0]


async def boot(tmp: Path, **options: Any) -> tuple[InProcessModule, Notes]:
    m = InProcessModule(tmp / "state", **options)
    notes = Notes()
    m.device.trace = notes
    await m.boot()
    assert await m.cmd("AT+S.SCFG=console_echo,0", echo=True) == b"AT-S.OK\r\n"
    return m, notes


async def ctl(m: InProcessModule, name: str, **args: Any) -> Any:
    """A control verb, as the control channel runs it."""
    return await verbs.call(m.device, name, args)


async def sockr(m: InProcessModule, cid: int = 0) -> bytes:
    m.send(f"AT+S.SOCKR={cid}\r".encode())
    ln = await m.read_until(_READING)
    n = int(_READING.search(ln).group(1))  # type: ignore[union-attr]
    data = await m.read_exactly(n)
    assert await m.read_exactly(9) == b"AT-S.OK\r\n"
    return data


class Ends(list):
    """How a peer's connections ended; ``await ends.wait()`` for the first."""

    def __init__(self) -> None:
        super().__init__()
        self._ev = asyncio.Event()

    def append(self, item: str) -> None:
        super().append(item)
        self._ev.set()

    async def wait(self) -> None:
        await asyncio.wait_for(self._ev.wait(), 20)


async def talker(
    greeting: bytes, host: str = "127.0.0.1", port: int = 0
) -> tuple[asyncio.Server, int, Ends]:
    """A TCP server that sends ``greeting`` on connect, then reads until the peer goes;
    ``ends`` records how each connection ended ("eof" or "reset")."""
    ends = Ends()

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(greeting)
        try:
            await w.drain()
            while await r.read(65536):
                pass
            ends.append("eof")
        except ConnectionResetError:
            ends.append("reset")
        except OSError:
            ends.append("error")
        except asyncio.CancelledError:  # the server closes under it (end of a test)
            pass
        finally:
            w.close()

    srv = await asyncio.start_server(handle, host, port)
    return srv, srv.sockets[0].getsockname()[1], ends


class UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(data, addr)


async def udp_echo() -> tuple[Any, int]:
    loop = asyncio.get_running_loop()
    t, _ = await loop.create_datagram_endpoint(UdpEcho, local_addr=("127.0.0.1", 0))
    return t, t.get_extra_info("sockname")[1]
