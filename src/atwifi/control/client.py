"""Acting on a running module from outside: ``ControlClient(state_dir)``.

ctl = ControlClient(tmp / "state")
ctl.call("ap.remove", ap="STTest")            # from plain code or another process
await ctl.acall("station.add", mac="02:00:00:00:00:01")   # from asyncio code
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from pathlib import Path
from typing import Any

from atwifi.control.protocol import MAX_LINE, ControlError, bindable, decode, encode, socket_path

CONNECT_RETRY = 3.0  # seconds: the socket is briefly absent while the module resets


class ControlClient:
    def __init__(self, state_dir: Path | str, timeout: float = 10.0) -> None:
        self.path = socket_path(Path(state_dir))
        self.timeout = timeout
        self._ids = itertools.count(1)

    def _request(self, verb: str, args: dict[str, Any]) -> tuple[int, bytes]:
        rid = next(self._ids)
        return rid, encode({"id": rid, "verb": verb, "args": args})

    @staticmethod
    def _result(rid: int, line: bytes) -> Any:
        if not line:
            raise ControlError("the module closed the control channel")
        reply = decode(line)
        if not reply.get("ok"):
            raise ControlError(str(reply.get("error")))
        return reply.get("result")

    # -- sync --------------------------------------------------------------------------
    def call(self, verb: str, **args: Any) -> Any:
        rid, req = self._request(verb, args)
        deadline = time.monotonic() + CONNECT_RETRY
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                with bindable(self.path) as name:
                    sock.connect(name)
                break
            except (FileNotFoundError, ConnectionRefusedError) as e:
                sock.close()
                if time.monotonic() >= deadline:
                    raise ControlError(f"no module listening at {self.path}: {e}") from None
                time.sleep(0.05)
        with sock:
            sock.sendall(req)
            buf = bytearray()
            while not buf.endswith(b"\n") and len(buf) < MAX_LINE:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return self._result(rid, bytes(buf))

    # -- async -------------------------------------------------------------------------
    async def acall(self, verb: str, **args: Any) -> Any:
        rid, req = self._request(verb, args)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_RETRY
        while True:
            try:
                with bindable(self.path) as name:
                    reader, writer = await asyncio.open_unix_connection(name, limit=MAX_LINE)
                break
            except (FileNotFoundError, ConnectionRefusedError) as e:
                if loop.time() >= deadline:
                    raise ControlError(f"no module listening at {self.path}: {e}") from None
                await asyncio.sleep(0.05)
        try:
            writer.write(req)
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), self.timeout)
        finally:
            writer.close()
        return self._result(rid, line)
