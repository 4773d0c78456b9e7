"""Send AT commands to a module from the shell and print what comes back.

    python -m atwifi.client socket://127.0.0.1:7000 AT+S.STS=build "AT+S.GCFG=console_echo"
    python -m atwifi.client /dev/pts/3 --winds 10      # print WINDs for 10 seconds

Each command's information lines go to stdout (raw blocks as they came); an error prints its
line to stderr and the exit status is 1. WINDs that arrive meanwhile go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from atwifi.client.aio import AsyncClient
from atwifi.client.errors import AtCommandError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m atwifi.client", description=__doc__.split("\n")[0])
    p.add_argument("url", help="/dev/ttyUSB0, /dev/pts/N, socket://host:port, rfc2217://host:port")
    p.add_argument("commands", nargs="*", help="AT command lines, sent one after the other")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per command (10)")
    p.add_argument("--baud", type=int, default=115200, help="serial ports only (115200)")
    p.add_argument("--winds", type=float, metavar="SECONDS", help="then print WINDs this long")
    return p


async def _run(args: argparse.Namespace) -> int:
    kw = {} if args.url.startswith("socket://") else {"baudrate": args.baud}
    status = 0
    async with await AsyncClient.open(args.url, timeout=args.timeout, **kw) as c:
        c.on_wind(lambda w: print(w.line, file=sys.stderr, flush=True))
        for line in args.commands:
            try:
                reply = await c.command(line)
            except AtCommandError as e:
                print(e.line or str(e), file=sys.stderr)
                status = 1
                continue
            except TimeoutError as e:
                print(e, file=sys.stderr)
                return 2
            sys.stdout.buffer.write(reply.body)
            sys.stdout.flush()
        if args.winds:
            with contextlib.suppress(TimeoutError):
                await c.wait_wind(lambda w: False, timeout=args.winds)
    return status


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130
    except (ConnectionError, OSError) as e:
        print(f"atwifi.client: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
