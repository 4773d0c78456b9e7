"""HTTP helpers of the client: GET, POST, file system and firmware updates.

Built only on ``self.command(line, data=None, ...)`` (client/aio.py). On the console the
module answers ``AT-S.Http Server Status Code:<n>``, then the body's bytes, then ``AT-S.OK``
right after the last one; the parser reads that body as a raw stream (protocol.STREAM).
Failures raise ``HttpClientError`` (Table 12) or ``CertificateError`` (Table 13).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atwifi.client.protocol import STREAM

STATUS = "AT-S.Http Server Status Code:"
# Downloads can take long: the module answers when the whole body has passed.
HTTP_TIMEOUT = 120.0


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes  # b"" when the reply went into a file on the module


def _field(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    if any(c in text for c in ",\r\n"):
        raise ValueError(f"a value the console cannot carry: {text!r}")
    return text


def _args(host: str, path: str | None, port: int | None, tls: int, user, password) -> list[str]:
    return [_field(host), _field(path), _field(port), _field(tls), _field(user), _field(password)]


class HttpMixin:
    if TYPE_CHECKING:  # provided by the client core (client/aio.py); never defined here

        async def command(self, line: str, data: bytes | None = None, **kw: Any) -> Any: ...

    async def _http(self, line: str, timeout: float | None) -> HttpResponse:
        reply = await self.command(
            line,
            raw_prefixes={STATUS: STREAM},
            timeout=HTTP_TIMEOUT if timeout is None else timeout,
        )
        codes = reply.values(STATUS)
        return HttpResponse(int(codes[0]) if codes else 0, reply.raw)

    async def http_get(
        self,
        host: str,
        path: str | None = None,
        *,
        port: int | None = None,
        tls: int = 0,
        username: str | None = None,
        password: str | None = None,
        request_file: str | None = None,
        save_to: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> HttpResponse:
        """AT+S.HTTPGET. ``request_file``: a module file holding a whole custom request;
        ``save_to``: the body goes into that module file instead (``body`` is then b"")."""
        fields = _args(host, path, port, tls, username, password)
        fields += [_field(request_file), _field(save_to)]
        return await self._http("AT+S.HTTPGET=" + ",".join(fields), timeout)

    async def http_post(
        self,
        host: str,
        path: str | None = None,
        *,
        file: str | None = None,
        port: int | None = None,
        tls: int = 0,
        username: str | None = None,
        password: str | None = None,
        save_to: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> HttpResponse:
        """AT+S.HTTPPOST of module file ``file`` (Content-Type from its extension, manual
        Table 5). As 6.54 names them, ``in_filename`` is ``save_to`` and ``out_filename`` is
        ``file``."""
        fields = _args(host, path, port, tls, username, password)
        fields += [_field(save_to), _field(file)]
        return await self._http("AT+S.HTTPPOST=" + ",".join(fields), timeout)

    async def update_fs(
        self,
        volume: str,
        host: str,
        path: str | None = None,
        *,
        port: int | None = None,
        tls: int = 0,
        username: str | None = None,
        password: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> int:
        """AT+S.FSUPDATE: ``volume`` "e" (user flash), "i" (application flash) or "x"
        (external); the volume is replaced only by a whole, valid image. Returns the status."""
        if volume not in ("e", "i", "x"):
            raise ValueError(f"volume is e, i or x, not {volume!r}")
        fields = [volume, *_args(host, path, port, tls, username, password)]
        return (await self._http("AT+S.FSUPDATE=" + ",".join(fields), timeout)).status

    async def update_fw(
        self,
        host: str,
        path: str | None = None,
        *,
        port: int | None = None,
        tls: int = 0,
        username: str | None = None,
        password: str | None = None,
        reset: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> int:
        """AT+S.FWUPDATE: download a firmware image (``.sfota`` path: a secure one); it is
        applied at the next reset (``reset=True`` resets now and waits for the boot)."""
        fields = ["e", *_args(host, path, port, tls, username, password)]
        status = (await self._http("AT+S.FWUPDATE=" + ",".join(fields), timeout)).status
        if reset:
            await self.reset()  # type: ignore[attr-defined]
        return status
