"""Real peers on loopback that several test folders use."""

from __future__ import annotations

import asyncio
import ssl as _ssl


async def echo_server(
    ssl: _ssl.SSLContext | None = None, host: str = "127.0.0.1"
) -> tuple[asyncio.Server, int]:
    """A TCP (or TLS) server that sends back what it receives; returns it and its port."""

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            w.close()

    srv = await asyncio.start_server(handle, host, 0, ssl=ssl)
    return srv, srv.sockets[0].getsockname()[1]
