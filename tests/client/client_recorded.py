"""A stand-in module that answers commands with recorded bytes: only for testing the client's
I/O plumbing (TCP streams, the serial thread, ptys) before and besides the virtual module."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import tty
from collections.abc import Callable

Answer = bytes | list[bytes] | Callable[[bytes, bytes], bytes | list[bytes]] | None


class Recorded:
    """Console logic: command lines in, recorded answers out.

    ``script[line]`` is the answer (bytes, a list of chunks written one by one, a function of
    (line, data), or None for no answer at all). ``data[line]`` is how many raw bytes follow
    that command's CR.
    """

    def __init__(
        self,
        script: dict[str, Answer],
        *,
        echo: bool = False,
        data: dict[str, int] | None = None,
    ) -> None:
        self.script = script
        self.echo = echo
        self.data_len = data or {}
        self.received: list[tuple[bytes, bytes]] = []  # (line, data)
        self._buf = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while True:
            cr = self._buf.find(b"\r")
            if cr < 0:
                return out
            line = self._buf[:cr]
            n = self.data_len.get(line.decode(), 0)
            if len(self._buf) < cr + 1 + n:
                return out
            payload = self._buf[cr + 1 : cr + 1 + n]
            self._buf = self._buf[cr + 1 + n :]
            self.received.append((line, payload))
            if self.echo:
                out.append(line + b"\r\n")
            answer = self.script.get(line.decode(), b"AT-S.ERROR:1:Command not found\r\n")
            if callable(answer):
                answer = answer(line, payload)
            if answer is None:
                continue
            out += answer if isinstance(answer, list) else [answer]


class TcpModule:
    """Serves a Recorded console on 127.0.0.1; ``push`` writes unsolicited bytes (WINDs)."""

    def __init__(self, rec: Recorded) -> None:
        self.rec = rec
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.connected = asyncio.Event()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"socket://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        self.connected.set()
        try:
            while data := await reader.read(4096):
                for chunk in self.rec.feed(data):
                    writer.write(chunk)
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def push(self, data: bytes) -> None:
        await self.connected.wait()
        for w in self.writers:
            w.write(data)
            await w.drain()

    async def drop(self) -> None:
        """Close every connection, as a module that goes away."""
        for w in self.writers:
            w.close()
            with contextlib.suppress(ConnectionError):
                await w.wait_closed()

    async def stop(self) -> None:
        await self.drop()
        if self.server:
            self.server.close()
            await self.server.wait_closed()


class PtyModule:
    """Serves a Recorded console on the master side of a pty; the client opens ``path``."""

    def __init__(self, rec: Recorded) -> None:
        self.rec = rec
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no line discipline echo before the client configures it
        self.path = os.ttyname(self.slave)
        os.set_blocking(self.master, False)
        self._out = bytearray()
        self._writing = False
        asyncio.get_running_loop().add_reader(self.master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except OSError:
            return
        for chunk in self.rec.feed(data):
            self._write(chunk)

    def _write(self, data: bytes) -> None:
        # Never block the loop: the client may be reading on this very loop.
        self._out += data
        self._flush()

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            n = os.write(self.master, self._out) if self._out else 0
        except BlockingIOError:
            n = 0
        except OSError:
            self._out.clear()
            n = 0
        del self._out[:n]
        if self._out and not self._writing:
            loop.add_writer(self.master, self._flush)
            self._writing = True
        elif not self._out and self._writing:
            loop.remove_writer(self.master)
            self._writing = False

    async def push(self, data: bytes) -> None:
        self._write(data)

    def stop(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        asyncio.get_running_loop().remove_writer(self.master)
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class Rfc2217Front:
    """pyserial's own RFC 2217 server (PortManager) in front of a serial device: a real
    rfc2217:// peer for the client's pyserial path. Serves one connection, in threads."""

    def __init__(self, device: str) -> None:
        import socket

        self.device = device
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"rfc2217://127.0.0.1:{self.listener.getsockname()[1]}"
        self.alive = True
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self) -> None:
        import socket

        import serial
        import serial.rfc2217

        try:
            self.conn, _ = self.listener.accept()
        except OSError:
            return
        # Small telnet packets both ways: without this, delayed ACKs stall every answer.
        self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.serial = _NoModemLines(serial.serial_for_url(self.device, timeout=0.2))
        self.manager = serial.rfc2217.PortManager(self.serial, self)
        t = threading.Thread(target=self._serial_to_net, daemon=True)
        t.start()
        self.threads.append(t)
        while self.alive:
            try:
                data = self.conn.recv(4096)
            except OSError:
                break
            if not data:
                break
            self.serial.write(b"".join(self.manager.filter(data)))

    def _serial_to_net(self) -> None:
        while self.alive:
            try:
                data = self.serial.read(self.serial.in_waiting or 1)
            except Exception:
                break
            if data:
                self.write(b"".join(self.manager.escape(data)))

    def write(self, data: bytes) -> None:
        """PortManager's way out, too (option negotiation)."""
        with self._lock, contextlib.suppress(OSError):
            self.conn.sendall(data)

    def stop(self) -> None:
        import socket

        self.alive = False
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes a pending accept()
        self.listener.close()
        conn = getattr(self, "conn", None)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for t in self.threads:
            t.join(5)
        ser = getattr(self, "serial", None)
        if ser is not None:
            ser.close()


class _NoModemLines:
    """A pty has no modem lines (their ioctls fail): report them low, ignore setting them."""

    cts = dsr = ri = cd = False

    def __init__(self, port) -> None:
        object.__setattr__(self, "_port", port)

    def __getattr__(self, name: str):
        return getattr(self._port, name)

    def __setattr__(self, name: str, value) -> None:
        if name not in ("rts", "dtr", "break_condition"):
            setattr(self._port, name, value)
