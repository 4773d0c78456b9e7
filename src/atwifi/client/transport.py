"""Byte pipes to a module: ``socket://host:port`` through asyncio streams; ``spi://host:port``
and ``spi+unix:///path`` through the SPI bus stand-in (atwifi.client.spi); everything else
through pyserial's ``serial_for_url`` (device paths, ptys, ``rfc2217://``...): ports with a
file descriptor (serial devices and ptys on POSIX) are watched by the event loop itself,
the others (rfc2217, loop://) are read by a thread.

A transport hands every chunk it reads to ``on_data`` and calls ``on_close(exc)`` once when the
far end goes away; both run on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
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
    if url.startswith(("spi://", "spi+unix://")):
        from atwifi.client.spi import SpiTransport  # the SPI console (docs/spi.md)

        return await SpiTransport.connect(url, on_data, on_close)
    if url.startswith("socket://"):
        parts = urlsplit(url)
        if not parts.hostname or not parts.port:
            raise ValueError(f"socket:// URL needs host and port: {url!r}")
        return await StreamTransport.connect(parts.hostname, parts.port, on_data, on_close)
    port = await SerialTransport.open_port(url, **serial_kw)
    fd = _fileno(port)
    if fd is not None:
        return FdTransport(port, fd, on_data, on_close)
    return SerialTransport(port, on_data, on_close)


def _fileno(port) -> int | None:
    """The port's file descriptor when the event loop can watch it."""
    if sys.platform == "win32":
        return None  # the proactor loop cannot watch serial handles
    try:
        fd = port.fileno()
    except Exception:  # rfc2217, loop:// and friends have none
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


def _set_once(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class FdTransport(Transport):
    """A POSIX serial device or pty, configured by pyserial (raw mode, baud rate), read and
    written by the event loop without a thread: a round trip costs no thread hand-over."""

    def __init__(self, port, fd: int, on_data: OnData, on_close: OnClose) -> None:
        self._port = port
        self._fd = fd
        self._on_data = on_data
        self._on_close = on_close
        self._loop = asyncio.get_running_loop()
        self._closed = False
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:  # EIO: the pty's far end closed; a USB adapter unplugged
            self._lost(e)
            return
        if not data:
            self._lost(None)
            return
        self._on_data(data)

    def _lost(self, exc: BaseException | None) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._fd)
            self._on_close(exc)

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._closed:
                raise ConnectionError("the serial port is closed")
            try:
                view = view[os.write(self._fd, view) :]
                continue
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                self._lost(e)
                raise ConnectionError(f"cannot write to the serial port: {e}") from e
            # The kernel buffer is full (a slow baud rate): wait until it takes more.
            ready = self._loop.create_future()
            self._loop.add_writer(self._fd, _set_once, ready)
            try:
                await ready
            finally:
                self._loop.remove_writer(self._fd)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._fd)
        await asyncio.to_thread(self._port.close)


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
    async def open_port(cls, url: str, baudrate: int = 115200, **kw):
        import serial  # pyserial is only needed for these paths

        return await asyncio.to_thread(
            serial.serial_for_url, url, baudrate=baudrate, timeout=cls.POLL, **kw
        )

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
