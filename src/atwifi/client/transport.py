"""Byte pipes to a module: ``socket://host:port`` through asyncio streams, everything else
pyserial's ``serial_for_url`` accepts (device paths, ptys, ``rfc2217://``...) through a
reader thread.

A transport hands every chunk it reads to ``on_data`` and calls ``on_close(exc)`` once when the
far end goes away; both run on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

OnData = Callable[[bytes], None]
OnClose = Callable[[BaseException | None], None]


class Transport:
    """What the client needs from a byte pipe."""

    async def write(self, data: bytes) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


async def open_transport(url: str, on_data: OnData, on_close: OnClose, **serial_kw) -> Transport:
    if url.startswith("socket://"):
        parts = urlsplit(url)
        if not parts.hostname or not parts.port:
            raise ValueError(f"socket:// URL needs host and port: {url!r}")
        return await StreamTransport.connect(parts.hostname, parts.port, on_data, on_close)
    return await SerialTransport.open(url, on_data, on_close, **serial_kw)


class StreamTransport(Transport):
    """A TCP connection: the fastest path to a virtual module served with --tcp."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_data: OnData,
        on_close: OnClose,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_data = on_data
        self._on_close = on_close
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(
        cls, host: str, port: int, on_data: OnData, on_close: OnClose
    ) -> StreamTransport:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, on_data, on_close)

    async def _read_loop(self) -> None:
        exc: BaseException | None = None
        try:
            while data := await self._reader.read(65536):
                self._on_data(data)
        except (OSError, asyncio.IncompleteReadError) as e:
            exc = e
        except asyncio.CancelledError:
            pass
        self._on_close(exc)

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        self._task.cancel()
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
        await asyncio.gather(self._task, return_exceptions=True)


class SerialTransport(Transport):
    """A pyserial port read by a thread: works for every URL pyserial knows, including
    rfc2217:// whose objects have no usable file descriptor."""

    # How long a blocked read waits before looking at the stop flag again (ports without
    # cancel_read, such as rfc2217, need it to notice close()).
    POLL = 0.2

    def __init__(self, port, on_data: OnData, on_close: OnClose) -> None:
        self._port = port
        self._on_data = on_data
        self._on_close = on_close
        self._loop = asyncio.get_running_loop()
        self._stop = threading.Event()
        self._closed = False
        self._write_lock = asyncio.Lock()
        self._thread = threading.Thread(target=self._read_loop, name="atwifi-serial", daemon=True)
        self._thread.start()

    @classmethod
    async def open(
        cls, url: str, on_data: OnData, on_close: OnClose, baudrate: int = 115200, **kw
    ) -> SerialTransport:
        import serial  # pyserial is only needed for this path

        port = await asyncio.to_thread(
            serial.serial_for_url, url, baudrate=baudrate, timeout=cls.POLL, **kw
        )
        return cls(port, on_data, on_close)

    def _read_loop(self) -> None:
        exc: BaseException | None = None
        port = self._port
        try:
            while not self._stop.is_set():
                # Block for the first byte, then take whatever else is already there.
                data = port.read(1)
                if not data:
                    continue
                waiting = port.in_waiting
                if waiting:
                    data += port.read(waiting)
                self._loop.call_soon_threadsafe(self._on_data, data)
        except Exception as e:  # SerialException, OSError(EIO) when a pty's far end closes
            if not self._stop.is_set():
                exc = e
        if not self._stop.is_set():
            self._loop.call_soon_threadsafe(self._on_close, exc)

    async def write(self, data: bytes) -> None:
        async with self._write_lock:
            await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        cancel = getattr(self._port, "cancel_read", None)
        if cancel is not None:
            # Not every port type implements it; those notice the stop flag within POLL.
            with contextlib.suppress(Exception):
                cancel()
        await asyncio.to_thread(self._thread.join)
        await asyncio.to_thread(self._port.close)
