"""TFTP and SMTP through the virtual module versus the same work done directly.

    python benchmarks/transfer.py [--kb 1024] [--mails 40] [--mail-kb 8]

* TFTPGET: the served module downloads a file from a TFTP server in this process into
  volume 0; the floor is atwifi's TFTP client downloading the same file from the same
  server directly (same lock-step protocol, 512-byte blocks).
* TFTP server: the same client downloads the file from the module's TFTP server
  (`--port-map 69:<port>`) versus from the server in this process.
* SMTP: the module sends --mails mails of --mail-kb KiB to aiosmtpd in this process; the floor
  is aiosmtplib sending the same mails directly.

Prints each path's rate (best of --rounds) and the ratio module/direct (1.0 = as fast as
going direct). The direct TFTP floor runs client and server on this process's one event loop,
while the module path has two processes: on an idle multi-core machine the module path can
come out faster than its floor, which says the module adds little, not that it is free.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import tempfile
import time
from pathlib import Path

from serve import serve_argv, start, stop

from atwifi.services import tftp
from atwifi.services.errors import ServiceError
from atwifi.services.tftp import TftpFault, TftpServer, Timing

FINAL = re.compile(rb"AT-S\.OK\r\n|AT-S\.ERROR[^\r]*\r\n")
TIMING = Timing(timeout=1.0, retries=5)


class Files:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    async def read(self, name: str) -> bytes:
        if name not in self.files:
            raise ServiceError(TftpFault.NOT_FOUND, name)
        return self.files[name]

    async def room(self, name: str, size: int) -> None:
        return None

    async def write(self, name: str, data: bytes) -> None:
        self.files[name] = data


class Quiet:
    def received(self, ip: str, name: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass


class Console:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.r, self.w = reader, writer
        self.buf = b""

    async def until(self, pattern: re.Pattern[bytes] | bytes) -> bytes:
        pat = re.compile(re.escape(pattern)) if isinstance(pattern, bytes) else pattern
        while (m := pat.search(self.buf)) is None:
            data = await self.r.read(65536)
            if not data:
                raise SystemExit("console closed")
            self.buf += data
        out, self.buf = self.buf[: m.end()], self.buf[m.end() :]
        return out

    async def cmd(self, line: str, data: bytes = b"") -> bytes:
        self.w.write(line.encode() + b"\r" + data)
        out = await self.until(FINAL)
        if b"AT-S.OK" not in out:
            raise SystemExit(f"{line[:60]}: {out[-200:]!r}")
        return out


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def smtp_floor_and_server(n: int, body: bytes) -> tuple[float, object, int, list[int]]:
    from aiosmtpd.smtp import SMTP

    got: list[int] = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
            got.append(len(envelope.original_content))
            return "250 OK"

    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: SMTP(Sink()), "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    import aiosmtplib

    msg = b"From: a@x.test\r\nTo: b@x.test\r\nSubject: s\r\n\r\n" + body
    t0 = time.perf_counter()
    for _ in range(n):
        await aiosmtplib.send(msg, sender="a@x.test", recipients=["b@x.test"],
                              hostname="127.0.0.1", port=port)  # fmt: skip
    return time.perf_counter() - t0, srv, port, got


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb", type=int, default=1024)
    ap.add_argument("--mails", type=int, default=40)
    ap.add_argument("--mail-kb", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    content = os.urandom(a.kb * 1024)
    server = TftpServer(Files({"bench.bin": content}), Quiet(), timing=TIMING)
    await server.start("127.0.0.1", 0)
    tport = free_udp_port()
    state = Path(tempfile.mkdtemp(prefix="atwifi-bench-"))
    proc, cport = start([*serve_argv(state), "--port-map", f"69:{tport}"])
    try:
        r, w = await asyncio.open_connection("127.0.0.1", cport)
        con = Console(r, w)
        await con.until(b"+WIND:24:WiFi Up")
        await con.cmd("AT+S.SCFG=console_echo,0")

        direct_get = module_get = module_srv = float("inf")
        for _ in range(a.rounds):  # best of N: the machine is shared
            t0 = time.perf_counter()
            got = await tftp.get("127.0.0.1", server.port, "bench.bin", timing=TIMING)
            direct_get = min(direct_get, time.perf_counter() - t0)
            assert got == content
            t0 = time.perf_counter()
            await con.cmd(f"AT+S.TFTPGET=127.0.0.1,{server.port},bench.bin,0:/bench.bin")
            module_get = min(module_get, time.perf_counter() - t0)
            t0 = time.perf_counter()
            got = await tftp.get("127.0.0.1", tport, "0:/bench.bin", timing=TIMING)
            module_srv = min(module_srv, time.perf_counter() - t0)
            assert got == content
        mb = len(content) / 1e6
        print(f"TFTPGET {a.kb} KiB: module {mb / module_get:.2f} MB/s, "
              f"direct {mb / direct_get:.2f} MB/s, ratio {direct_get / module_get:.2f}")  # fmt: skip
        print(f"TFTP server {a.kb} KiB: module {mb / module_srv:.2f} MB/s, "
              f"direct {mb / direct_get:.2f} MB/s, ratio {direct_get / module_srv:.2f}")  # fmt: skip

        body = os.urandom(a.mail_kb * 512).hex().encode()  # ASCII, lines < 998 after wrap
        body = b"\r\n".join(body[i : i + 76] for i in range(0, len(body), 76))
        direct_mail, srv, sport, got_mails = await smtp_floor_and_server(a.mails, body)
        t0 = time.perf_counter()
        for _ in range(a.mails):
            await con.cmd(
                f"AT+S.SMTP=127.0.0.1,{sport},0,,,,a@x.test,b@x.test,,,s,,{len(body)}", body
            )
        module_mail = time.perf_counter() - t0
        assert len(got_mails) == 2 * a.mails
        srv.close()  # type: ignore[attr-defined]
        print(f"SMTP {a.mails} mails of {len(body)} B: module {a.mails / module_mail:.1f}/s, "
              f"direct {a.mails / direct_mail:.1f}/s, ratio {direct_mail / module_mail:.2f}")  # fmt: skip
        w.close()
    finally:
        stop(proc)
        await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
