"""Host-side client for a real SPWF04Sx module or the virtual one.

``AsyncClient`` is the asyncio API; ``Client`` is the same API, synchronous: it runs an
AsyncClient on a private event loop in a background thread and proxies every coroutine
method (area mixins included) as a blocking call::

    with Client("socket://127.0.0.1:7777") as c:
        c.set_config("console_echo", 0)
        print(c.get_config("console_echo"))
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Self

from atwifi.client.aio import AsyncClient
from atwifi.client.errors import (
    AtCommandError,
    CertificateError,
    HttpClientError,
    ModuleRebootedError,
    WebSocketClientError,
)
from atwifi.client.protocol import Reply, Wind
from atwifi.client.radio import JoinError, LinkTimeoutError

__all__ = [
    "AsyncClient",
    "AtCommandError",
    "CertificateError",
    "Client",
    "HttpClientError",
    "JoinError",
    "LinkTimeoutError",
    "ModuleRebootedError",
    "Reply",
    "WebSocketClientError",
    "Wind",
]


class Client:
    """The synchronous client. ``Client(url, **kw)`` connects like ``AsyncClient.open``.

    Every coroutine method of AsyncClient is available as a blocking method, async
    generators (``winds()``) as plain generators. ``on_wind`` callbacks run on the client's
    private loop thread.
    """

    def __init__(self, url: str, **kw: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="atwifi-client", daemon=True
        )
        self._thread.start()
        try:
            self._async: AsyncClient = self._run(AsyncClient.open(url, **kw))
        except BaseException:
            self._stop_loop()
            raise

    @classmethod
    def open(cls, url: str, **kw: Any) -> Self:
        return cls(url, **kw)

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result()
        except BaseException:
            fut.cancel()  # e.g. KeyboardInterrupt: do not leave the command running
            raise

    @property
    def aio(self) -> AsyncClient:
        """The AsyncClient underneath (its loop runs in the client's thread)."""
        return self._async

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run any coroutine on the client's loop and return its result, e.g. the methods of
        objects an area returns: ``c.run(sock.write(b"hi"))``."""
        return self._run(coro)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_async", "_loop", "_thread"):
            raise AttributeError(name)
        attr = getattr(self._async, name)
        if inspect.iscoroutinefunction(attr):
            return self._wrap(attr)
        if inspect.isasyncgenfunction(attr):
            return self._wrap_gen(attr)
        return attr

    def __setattr__(self, name: str, value: Any) -> None:
        # Settings such as ``timeout`` live on the AsyncClient.
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._async, name, value)

    def _wrap(self, fn: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kw: Any) -> Any:
            return self._run(fn(*args, **kw))

        return call

    def _wrap_gen(self, fn: Callable[..., Any]) -> Callable[..., Iterator[Any]]:
        @functools.wraps(fn)
        def gen(*args: Any, **kw: Any) -> Iterator[Any]:
            agen = fn(*args, **kw)
            try:
                while True:
                    try:
                        yield self._run(agen.__anext__())
                    except StopAsyncIteration:
                        return
            finally:
                self._run(agen.aclose())

        return gen

    def __dir__(self) -> list[str]:
        return sorted(
            set(super().__dir__()) | {n for n in dir(AsyncClient) if not n.startswith("_")}
        )

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._async.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
