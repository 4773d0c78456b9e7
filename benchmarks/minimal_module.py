"""The reference for benchmarks/socket_echo.py: a minimal module with the same buffers.

    python benchmarks/minimal_module.py      (prints "minimal module on 127.0.0.1:PORT")

It speaks just enough of the console for socket_echo (SCFG, SOCKON, SOCKW, SOCKR, SOCKC:
every other line gets AT-S.OK), with the module's rules that bound the benchmark: one
socket buffer as large as the module's (ip_sock_memsize 64 x 1500 bytes, bounded by the
heap: 54688 bytes with one socket open), reading from the peer paused while it is full,
SOCKWs of one burst sent to the peer in one write. No framing layers, no argument parsing,
no trace: what a module written for this benchmark alone reaches in this Python on this
loop. (atwifi can pass it: its SOCKR also takes what has reached the socket while the
console's burst ran, which this one leaves to the next turn of its loop.)
"""

from __future__ import annotations

import asyncio

CAPACITY = 54688  # 64 x 1500, bounded by the heap's 55200 less one socket's 512
OK = b"AT-S.OK\r\n"


class Peer(asyncio.BufferedProtocol):
    def __init__(self) -> None:
        self.buf = bytearray()
        self.rbuf = memoryview(bytearray(65536))
        self.paused = False
        self.t: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.rbuf[: max(1, min(len(self.rbuf), CAPACITY - len(self.buf)))]

    def buffer_updated(self, nbytes: int) -> None:
        self.buf += self.rbuf[:nbytes]
        if len(self.buf) >= CAPACITY:
            self.t.pause_reading()
            self.paused = True

    def read(self) -> bytes:
        data = bytes(self.buf)
        self.buf.clear()
        if self.paused:
            self.paused = False
            self.t.resume_reading()
        return data


class Console(asyncio.BufferedProtocol):
    def __init__(self) -> None:
        self.buf = bytearray()
        self.rbuf = memoryview(bytearray(262144))
        self.peer: Peer | None = None
        self.t: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport  # type: ignore[assignment]
        self.t.write(b"+WIND:0:Console active\r\n+WIND:24:WiFi Up::127.0.0.1\r\n")

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.rbuf

    def buffer_updated(self, nbytes: int) -> None:
        buf = self.buf
        buf += self.rbuf[:nbytes]
        out = bytearray()
        to_peer = bytearray()
        pos = 0
        while (end := buf.find(b"\r", pos)) >= 0:
            line = bytes(buf[pos:end])
            if line.startswith(b"AT+S.SOCKW="):
                n = int(line.rsplit(b",", 1)[1])
                if len(buf) < end + 1 + n:
                    break  # its data is on its way
                to_peer += buf[end + 1 : end + 1 + n]
                pos = end + 1 + n
                out += OK
                continue
            pos = end + 1
            if line.startswith(b"AT+S.SOCKR=") and self.peer is not None:
                if to_peer:
                    self.peer.t.write(bytes(to_peer))
                    to_peer.clear()
                data = self.peer.read()
                out += b"AT-S.Reading:%d:%d\r\n%s" % (len(data), len(data), data) + OK
            elif line.startswith(b"AT+S.SOCKON="):
                host, port = line[12:].split(b",")[:2]
                asyncio.ensure_future(self.open(host.decode(), int(port)))
            elif line.startswith(b"AT+S.SOCKC") and self.peer is not None:
                self.peer.t.close()
                self.peer = None
                out += OK
            else:
                out += OK
        del buf[:pos]
        if to_peer and self.peer is not None:
            self.peer.t.write(bytes(to_peer))
        if out:
            self.t.write(out)

    async def open(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        _, self.peer = await loop.create_connection(Peer, host, port)
        self.t.write(b"AT-S.On:127.0.0.1:0\r\n" + OK)


async def main() -> None:
    server = await asyncio.get_running_loop().create_server(Console, "127.0.0.1", 0)
    print(f"minimal module on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["uvloop"]:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
