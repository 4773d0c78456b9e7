"""HTTP download throughput: AT+S.HTTPGET printed on the module's console versus a direct client.

    python benchmarks/http_get.py [--mb 10] [--runs 3]

An aiohttp server on 127.0.0.1 (a process of its own) serves a ``--mb`` MB body
(Content-Length). The module path is a
host driving ``atwifi serve --tcp`` (its own process) over a loopback TCP console: one
``AT+S.HTTPGET`` whose reply is ``AT-S.Http Server Status Code:200``, the body, ``AT-S.OK``;
the host reads it all and checks the body. The floor is the same download by a direct Python
client (aiohttp's) in the same run. Prints both rates (best of ``--runs``) and the ratio
(target: at least 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, web
from serve import serve_argv, start, stop

STATUS = b"AT-S.Http Server Status Code:200\r\n"
OK = b"AT-S.OK\r\n"


async def web_server(body: bytes) -> tuple[web.AppRunner, int]:
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=body)

    app = web.Application()
    app.router.add_get("/big", big)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def make_body(size: int) -> bytes:
    return random.Random(size).randbytes(size)  # the same bytes in both processes


async def serve_forever(size: int) -> None:
    runner, port = await web_server(make_body(size))
    print(f"http body server on 127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


async def direct(port: int, digest: bytes) -> float:
    async with ClientSession() as s:
        t0 = time.perf_counter()
        h = hashlib.sha256()
        async with s.get(f"http://127.0.0.1:{port}/big") as r:
            async for chunk in r.content.iter_chunked(262144):
                h.update(chunk)
        dt = time.perf_counter() - t0
    assert h.digest() == digest, "direct download corrupted"
    return dt


class Console:
    def __init__(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.r, self.w = r, w
        self.buf = bytearray()

    async def until(self, marker: bytes) -> bytes:
        while (i := self.buf.find(marker)) < 0:
            data = await self.r.read(262144)
            if not data:
                raise EOFError("console closed")
            self.buf += data
        out = bytes(self.buf[: i + len(marker)])
        del self.buf[: i + len(marker)]
        return out


async def module_get(con: Console, line: bytes, size: int, digest: bytes) -> float:
    t0 = time.perf_counter()
    con.w.write(line + b"\r")
    await con.until(line + b"\r\n")  # the echo
    head = await con.until(b"\r\n")
    if head != STATUS:
        raise SystemExit(f"module answered {head!r}")
    # The body is read as a driver does: everything up to the OK that follows its last byte.
    h = hashlib.sha256()
    left = size
    while left:
        if not con.buf:
            data = await con.r.read(262144)
            if not data:
                raise EOFError("console closed")
            con.buf += data
        take = min(left, len(con.buf))
        h.update(memoryview(con.buf)[:take])
        del con.buf[:take]
        left -= take
    tail = await con.until(b"\r\n")
    dt = time.perf_counter() - t0
    assert tail == OK, tail
    assert h.digest() == digest, "module download corrupted"
    return dt


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=10)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--serve-body", type=int, help=argparse.SUPPRESS)  # the server process
    a = ap.parse_args()
    if a.serve_body:
        await serve_forever(a.serve_body)
        return
    size = int(a.mb * 1_000_000)
    digest = hashlib.sha256(make_body(size)).digest()
    server, port = start([sys.executable, __file__, "--serve-body", str(size)])
    with tempfile.TemporaryDirectory() as tmp:
        proc, console_port = start(serve_argv(Path(tmp) / "state"))
        try:
            r, w = await asyncio.open_connection("127.0.0.1", console_port)
            con = Console(r, w)
            await con.until(b"+WIND:24:WiFi Up:")  # joined: the module has an IP address
            line = f"AT+S.HTTPGET=127.0.0.1,/big,{port}".encode()
            t_mod, t_dir = [], []
            for _ in range(a.runs):
                t_dir.append(await direct(port, digest))
                t_mod.append(await module_get(con, line, size, digest))
            w.close()
        finally:
            stop(proc)
            stop(server)
    mod, dirr = size / min(t_mod), size / min(t_dir)
    print(f"body: {size / 1e6:.1f} MB, best of {a.runs}")
    print(f"direct client:     {dirr / 1e6:8.1f} MB/s")
    print(f"module (HTTPGET):  {mod / 1e6:8.1f} MB/s")
    print(f"ratio module/direct: {mod / dirr:.2f} (target >= 0.5)")


if __name__ == "__main__":
    asyncio.run(main())
