"""Handlers: HTTPGET, HTTPPOST (manual 6.53, 6.54), FSUPDATE, FWUPDATE (6.13, 6.14).

The HTTP work is services/http; this is the wire. On the console a reply is
``AT-S.Http Server Status Code:<n>`` (its own information line, the first payload an SPI
host gets), then the body's bytes as they arrive, then ``AT-S.OK`` right after the last
byte. Failures are Table 12's ``AT-S.Http Client Error:<n>`` or Table 13's
``AT-S.Certificate Error:<n>`` result lines (no OK). Choices: docs/behaviour.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from atwifi.errors import AtError, AtResultLine
from atwifi.services.errors import ServiceError
from atwifi.services.fs import APP, EXT, USER, FsFault
from atwifi.services.fs import image as fs_image
from atwifi.services.http import BodySource, HttpClient, HttpFault, HttpRequest
from atwifi.services.mime import content_type
from atwifi.spwf04 import firmware, wording
from atwifi.spwf04.commands import handler
from atwifi.spwf04.commands.tls import certificate_line
from atwifi.spwf04.context import Context
from atwifi.spwf04.parts.http import spool_dir
from atwifi.statedir import private_folder

PIECE = 64 * 1024  # files are read and spooled in pieces of this size
SPOOL_BUFFER = 256 * 1024  # bytes gathered before one write to the spool file (one thread hop)
UPDATE_REDIRECTS = 5
FOLDER_IMAGE_LIMIT = 64 * 1024 * 1024  # an FSUPDATE image for an --ext-folder volume

# Table 12 numbers of each kind.
_HTTP_NUMBERS = {
    HttpFault.RESOLVE: 0,
    HttpFault.CONNECT_TIMEOUT: 1,
    HttpFault.CONNECT: 2,
    HttpFault.REFUSED: 3,
    HttpFault.RECV_TIMEOUT: 4,
    HttpFault.SEND_DISCONNECT: 5,
    HttpFault.SEND: 6,
    HttpFault.TLS: 7,
    HttpFault.NOT_TLS: 7,
    HttpFault.GENERATE: 8,
    HttpFault.PARSE: 9,
    HttpFault.STATUS: 9,  # an update got something else than its file (404...)
    HttpFault.RESPONSE_TIMEOUT: 10,
    HttpFault.FILE_OPEN: 12,
    HttpFault.FILE_CLOSE: 13,
    HttpFault.FILE_READ: 14,
    HttpFault.FILE_WRITE: 15,
    HttpFault.TOO_BIG: 15,
}


def _http_line(n: int):
    return lambda e: AtResultLine(f"AT-S.Http Client Error:{n}", e.detail)


wording.register({kind: _http_line(n) for kind, n in _HTTP_NUMBERS.items()})
wording.register({HttpFault.CERTIFICATE: certificate_line})  # Table 13, from the reason


def _client(ctx: Context) -> HttpClient:
    client = getattr(ctx.device, "http", None)
    if client is None:
        raise AtError(111, "HTTP client not started")
    radio = ctx.device.radio
    if radio is not None and not radio.ip_ready:
        raise AtError(60, "not joined: no IP address")
    return client


def _fs(ctx: Context, kind: HttpFault = HttpFault.FILE_OPEN) -> Any:
    fs = ctx.device.fs
    if fs is None:
        raise ServiceError(kind, "no file system")
    return fs


# -- sinks ----------------------------------------------------------------------------------
class ConsoleSink:
    """The reply on the console: the status line, then the body streamed."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.status = 0

    async def head(self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.ctx.info(f"Http Server Status Code:{status}")
        await self.ctx.flush()

    async def data(self, chunk: bytes) -> None:
        self.ctx.raw(chunk)
        await self.ctx.flush()


class Spool:
    """A download on its way to a host file: written in pieces, never held whole; at most
    ``limit`` bytes (None: no limit)."""

    def __init__(self, folder: Path, limit: int | None, too_big: HttpFault) -> None:
        self.folder = folder
        self.limit = limit
        self.too_big = too_big
        self.size = 0
        self._buf = bytearray()
        self._file: Any = None
        self.path: Path | None = None

    async def open(self) -> None:
        def make() -> tuple[Any, Path]:
            private_folder(self.folder)  # the state folder may not exist yet (lazy flash)
            import tempfile  # at first use, not at boot

            fd, name = tempfile.mkstemp(prefix=".dl-", dir=self.folder)
            return os.fdopen(fd, "wb"), Path(name)

        try:
            self._file, self.path = await asyncio.to_thread(make)
        except OSError as e:
            raise ServiceError(HttpFault.FILE_OPEN, f"spool: {e}") from None

    async def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            raise ServiceError(self.too_big, f"more than {self.limit} bytes", limit=self.limit)
        self._buf += chunk
        if len(self._buf) >= SPOOL_BUFFER:
            await self._write()

    async def _write(self) -> None:
        data, self._buf = bytes(self._buf), bytearray()
        try:
            await asyncio.to_thread(self._file.write, data)
        except OSError as e:
            raise ServiceError(HttpFault.FILE_WRITE, f"spool: {e}") from None

    async def finish(self) -> Path:
        await self._write()

        def close() -> None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

        try:
            await asyncio.to_thread(close)
        except OSError as e:
            raise ServiceError(HttpFault.FILE_CLOSE, f"spool: {e}") from None
        assert self.path is not None
        return self.path

    async def discard(self) -> None:
        def drop() -> None:
            if self._file is not None and not self._file.closed:
                self._file.close()
            if self.path is not None:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()

        await asyncio.to_thread(drop)


class SpoolSink:
    """The status line on the console, the body into a spool."""

    def __init__(self, ctx: Context, spool: Spool) -> None:
        self.ctx = ctx
        self.spool = spool
        self.status = 0

    async def head(self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.ctx.info(f"Http Server Status Code:{status}")
        await self.ctx.flush()

    async def data(self, chunk: bytes) -> None:
        await self.spool.add(chunk)


# -- files to send --------------------------------------------------------------------------
async def _file_source(ctx: Context, name: str) -> BodySource:
    fs = _fs(ctx)
    try:
        snap = await fs.open(name)
    except ServiceError as e:  # the file system's FsFault
        raise ServiceError(HttpFault.FILE_OPEN, f"{name}: {e}") from None

    async def chunks() -> AsyncIterator[bytes]:
        pos = 0
        try:
            while pos < snap.size:
                try:
                    piece = await snap.read(pos, min(PIECE, snap.size - pos))
                except (OSError, ServiceError) as e:
                    raise ServiceError(HttpFault.FILE_READ, f"{name}: {e}") from None
                if not piece:
                    raise ServiceError(HttpFault.FILE_READ, f"{name}: shorter than {snap.size}")
                pos += len(piece)
                yield piece
        finally:
            snap.close()

    return BodySource(size=snap.size, chunks=chunks)


def _request(ctx: Context, method: str, hostname: str, path: str | None, port, tls, user, pw):
    path = path or "/index.html"
    if not path.startswith("/") and "://" not in path:
        path = "/" + path  # origin-form: "index.html" means "/index.html"
    return HttpRequest(
        host=hostname,
        path=path,
        port=port or None,
        tls=tls or 0,
        username=user or None,
        password=pw or None,
        method=method,
        user_agent=str(ctx.device.config.get("nv_model")),
    )


async def _exchange(ctx: Context, req: HttpRequest, save_to: str | None) -> None:
    client = _client(ctx)
    if save_to is None:
        await client.fetch(req, ConsoleSink(ctx))
        return
    fs = _fs(ctx)
    try:
        room = await fs.room(save_to)
    except ServiceError as e:  # the file system's FsFault
        raise ServiceError(HttpFault.FILE_OPEN, f"{save_to}: {e}") from None
    spool = Spool(spool_dir(ctx.device), room, HttpFault.FILE_WRITE)
    await spool.open()
    try:
        await client.fetch(req, SpoolSink(ctx, spool))
        path = await spool.finish()
        try:
            await fs.write_from(save_to, path)
        except ServiceError as e:  # the file system's FsFault
            kind = HttpFault.FILE_WRITE if e.kind is FsFault.OPEN else HttpFault.FILE_CLOSE
            raise ServiceError(kind, f"{save_to}: {e}") from None
    finally:
        await spool.discard()


@handler("HTTPGET")
async def httpget(
    ctx: Context,
    hostname: str,
    path: str = "/index.html",
    port: int | None = None,
    tls: int = 0,
    username: str | None = None,
    passwd: str | None = None,
    in_filename: str | None = None,
    out_filename: str | None = None,
) -> None:
    req = _request(ctx, "GET", hostname, path, port, tls, username, passwd)
    if in_filename:
        req.raw = await _file_source(ctx, in_filename)  # a complete request, sent as it is
    await _exchange(ctx, req, out_filename or None)


@handler("HTTPPOST")
async def httppost(
    ctx: Context,
    hostname: str,
    path: str = "/index.html",
    port: int | None = None,
    tls: int = 0,
    username: str | None = None,
    passwd: str | None = None,
    in_filename: str | None = None,
    out_filename: str | None = None,
) -> None:
    # Manual 6.54: in_filename receives the reply, out_filename is the file posted.
    req = _request(ctx, "POST", hostname, path, port, tls, username, passwd)
    if out_filename:
        req.body = await _file_source(ctx, out_filename)
        req.content_type = content_type(out_filename)
    await _exchange(ctx, req, in_filename or None)


# -- updates ----------------------------------------------------------------------------------
async def _download(ctx: Context, req: HttpRequest, spool: Spool) -> Path:
    """The body of a 200 reply into ``spool`` (redirects followed); its path."""
    req.max_redirects = UPDATE_REDIRECTS
    sink = SpoolSink(ctx, spool)
    await spool.open()
    result = await _client(ctx).fetch(req, sink)
    if result.status != 200:
        raise ServiceError(HttpFault.STATUS, f"status {result.status}", status=result.status)
    return await spool.finish()


_MEM = {"e": USER, "i": APP, "x": EXT}


@handler("FSUPDATE")
async def fsupdate(
    ctx: Context,
    mem: str,
    hostname: str,
    path: str = "/fs.img",
    port: int | None = None,
    tls: int = 0,
    username: str | None = None,
    passwd: str | None = None,
) -> None:
    fs = ctx.device.fs
    vid = _MEM[mem.lower()]
    vol = fs.volumes.get(vid) if fs is not None else None
    if vol is None:
        raise AtError(50, f"no volume {vid}")
    _client(ctx)
    # The image is checked whole before anything changes, so it is bounded: twice the
    # volume (names and headers never take that much), or a fixed limit for a host folder.
    limit = FOLDER_IMAGE_LIMIT if vol.capacity is None else 2 * vol.capacity + 64 * 1024
    req = _request(ctx, "GET", hostname, path or "/fs.img", port, tls, username, passwd)
    spool = Spool(spool_dir(ctx.device), limit, HttpFault.TOO_BIG)
    try:
        blob_path = await _download(ctx, req, spool)

        def unpack() -> dict[str, bytes]:
            return fs_image.unpack(blob_path.read_bytes())

        try:
            files = await asyncio.to_thread(unpack)
        except fs_image.ImageError as e:
            raise AtError(50, f"downloaded image: {e}") from None
        await fs.replace_volume(vid, files)  # atomic; 50 when it does not fit
    finally:
        await spool.discard()


@handler("FWUPDATE")
async def fwupdate(
    ctx: Context,
    mem: str,
    hostname: str,
    path: str = "/fw.fota",
    port: int | None = None,
    tls: int = 0,
    username: str | None = None,
    passwd: str | None = None,
) -> None:
    from atwifi.services.firmware import MAX_IMAGE

    _client(ctx)
    path = path or "/fw.fota"
    secure = path.split("?", 1)[0].lower().endswith(".sfota")
    req = _request(ctx, "GET", hostname, path, port, tls, username, passwd)
    folder = firmware.folder(ctx.device.state_dir)
    spool = Spool(folder, MAX_IMAGE, HttpFault.TOO_BIG)
    try:
        done = await _download(ctx, req, spool)
        # Checked by the boot loader at the next reset (WIND:17), as on the module.
        await asyncio.to_thread(firmware.store_pending, ctx.device.state_dir, done, secure)
        ctx.device.trace_note(f"FWUPDATE: {spool.size} bytes stored; applied at the next reset")
    finally:
        await spool.discard()
