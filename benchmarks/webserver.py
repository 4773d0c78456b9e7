"""Static page throughput: the virtual module's web server versus a minimal asyncio HTTP server.

    python benchmarks/webserver.py [--clients 8] [--requests 300] [--page index.html]

Both servers run as their own processes on 127.0.0.1 and serve the same bytes: the module's
application-flash page ``--page`` (a real `atwifi serve`, through its h11 server, the file
system and the module clock's cache headers), and the floor, a hand-written asyncio server in
the same Python that answers every request with those bytes from memory (keep-alive, no
parsing beyond finding the end of the head). ``--clients`` keep-alive connections (the
module's limit is 8) each send ``--requests`` GETs one after the other.

Prints requests per second of each and the ratio (module / floor).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

from serve import env, serve_argv

HEAD_END = b"\r\n\r\n"
PAGES = Path(__file__).resolve().parents[1] / "src/atwifi/services/fs/appflash"


# -- the floor: a minimal asyncio HTTP server -----------------------------------------------
async def floor_server(page: bytes) -> None:
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(page)
        + page
    )

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buf = b""
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                buf += data
                while (i := buf.find(HEAD_END)) >= 0:
                    buf = buf[i + 4 :]
                    writer.write(response)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    print(f"floor at http://127.0.0.1:{server.sockets[0].getsockname()[1]}/", flush=True)
    await server.serve_forever()


# -- the client ------------------------------------------------------------------------------
async def one_client(port: int, path: str, n: int, expect: bytes | None) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    done = 0
    try:
        for _ in range(n):
            writer.write(request)
            head = await reader.readuntil(HEAD_END)
            m = re.search(rb"(?i)content-length: *(\d+)", head)
            assert head.startswith(b"HTTP/1.1 200 ") and m, head
            body = await reader.readexactly(int(m.group(1)))
            assert expect is None or body == expect
            done += 1
    finally:
        writer.close()
    return done


async def measure(port: int, path: str, clients: int, n: int, expect: bytes | None) -> float:
    await one_client(port, path, 5, expect)  # warm up
    t0 = time.perf_counter()
    counts = await asyncio.gather(*(one_client(port, path, n, expect) for _ in range(clients)))
    return sum(counts) / (time.perf_counter() - t0)


async def wait_line(proc: asyncio.subprocess.Process, pattern: bytes) -> int:
    assert proc.stdout is not None
    for _ in range(30):
        line = await proc.stdout.readline()
        m = re.search(pattern, line)
        if m:
            return int(m.group(1))
    raise SystemExit(f"no line matching {pattern!r}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=300, help="per client")
    ap.add_argument("--page", default="index.html")
    args = ap.parse_args()
    page = (PAGES / args.page).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        module = await asyncio.create_subprocess_exec(
            *serve_argv(Path(tmp) / "state"), stdout=asyncio.subprocess.PIPE, env=env()
        )
        floor = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--floor-server",
            args.page,
            stdout=asyncio.subprocess.PIPE,
            env=env(),
        )
        try:
            mport = await wait_line(module, rb"web server on http://127\.0\.0\.1:(\d+)/")
            fport = await wait_line(floor, rb"floor at http://127\.0\.0\.1:(\d+)/")
            f = await measure(fport, args.page, args.clients, args.requests, page)
            # A page with SSI markers comes back filled in: its bytes differ from the file's.
            dynamic = b"<!--[" in page
            m = await measure(
                mport, args.page, args.clients, args.requests, None if dynamic else page
            )
        finally:
            for proc in (module, floor):
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 5)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
    print(
        f"page        /{args.page} ({len(page)} bytes), {args.clients} clients x "
        f"{args.requests} requests, keep-alive"
    )
    print(f"floor       {f:9.0f} requests/s  (minimal asyncio server, same bytes)")
    what = "SSI markers resolved each time" if dynamic else "static"
    print(f"module      {m:9.0f} requests/s  (atwifi serve's web server, {what})")
    print(f"ratio       {m / f:.2f}  (module / floor)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--floor-server"]:
        asyncio.run(floor_server((PAGES / sys.argv[2]).read_bytes()))
    else:
        asyncio.run(main())
