"""TFTP peers for the tests: tftpy's server in a thread (an independent implementation),
a scripted UDP peer for lost and repeated packets, and module-side helpers."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import tftpy

from atwifi.services.tftp import Timing

# Tests must not wait for the factory 2 s x 5. FAST is for transfers that succeed (generous
# enough for a loaded machine: retransmissions are harmless); GIVE_UP for those meant to
# time out (nobody answers), where every retry is waited for.
FAST = Timing(timeout=0.5, retries=5)
GIVE_UP = Timing(timeout=0.05, retries=3)

logging.getLogger("tftpy").setLevel(logging.CRITICAL)


@contextlib.contextmanager
def tftpy_server(root: Path, deny: tuple[str, ...] = ()) -> Iterator[int]:
    """tftpy's server on 127.0.0.1 serving ``root``; uploads of names in ``deny`` are
    refused (ERROR 2). Yields the port."""

    def upload_open(path: str, context: object):  # noqa: ANN202
        if Path(path).name in deny:
            return None
        return open(path, "wb")  # noqa: SIM115 (tftpy closes it)

    srv = tftpy.TftpServer(str(root), upload_open=upload_open)
    th = threading.Thread(
        target=srv.listen,
        kwargs={"listenip": "127.0.0.1", "listenport": 0, "timeout": 0.2, "retries": 10},
        daemon=True,
    )
    th.start()
    assert srv.is_running.wait(5)
    try:
        yield int(srv.listenport)
    finally:
        srv.stop(now=True)
        th.join(5)


def silent_port() -> tuple[socket.socket, int]:
    """A bound UDP port that never answers (the caller closes it)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def fast(module) -> None:  # noqa: ANN001
    module.device.tftp.timing = FAST
    if module.device.tftp.server is not None:
        module.device.tftp.server.timing = FAST


async def fsp(module, name: str) -> bytes:  # noqa: ANN001
    """The contents of a module file, through AT+S.FSP."""
    out = await module.cmd(f"AT+S.FSP={name}")
    m = re.match(rb"AT-S\.Reading:(\d+):(\d+)\r\n", out)
    assert m, out
    n = int(m.group(1))
    body = out[m.end() :]
    assert body.endswith(b"AT-S.OK\r\n"), out
    return body[:n]


async def fsc(module, name: str, data: bytes) -> None:  # noqa: ANN001
    assert await module.cmd(f"AT+S.FSC={name},{len(data)}", data) == b"AT-S.OK\r\n"


async def files(module) -> bytes:  # noqa: ANN001
    return await module.cmd("AT+S.FSL")
