"""`atwifi serve` runs a virtual SPWF04SA; `atwifi ctl` acts on a running one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _port_map(text: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for item in filter(None, text.split(",")):
        module, _, host = item.partition(":")
        try:
            out[int(module)] = int(host)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--port-map wants MODULE:HOST[,MODULE:HOST...], got {item!r}"
            ) from None
    return out


def _strap(text: str) -> tuple[int, int]:
    pin, sep, level = text.partition("=")
    if not sep:
        pin, level = text, "1"
    try:
        num, value = int(pin), int(level)
    except ValueError:
        num, value = -1, -1
    if num < 0 or value not in (0, 1):
        raise argparse.ArgumentTypeError(
            f"--strap wants GPIO[=LEVEL], e.g. 0=1 (factory reset) or 8 (run python_script),"
            f" got {text!r}"
        )
    return num, value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="atwifi", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run one virtual SPWF04SA until interrupted")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--tcp", metavar="HOST:PORT", help="raw console on a TCP port")
    where.add_argument("--stdio", action="store_true", help="console on this terminal")
    where.add_argument("--rfc2217", metavar="HOST:PORT", help="RFC 2217 serial-over-TCP server")
    where.add_argument("--serial", metavar="DEVICE", help="a real serial port")
    s.add_argument(
        "--spi",
        metavar="ADDRESS",
        help="also offer the SPI bus (console_enabled=0) on a Unix socket PATH or HOST:PORT"
        " (docs/spi.md)",
    )
    s.add_argument("--pty-link", metavar="PATH", help="also make a symlink to the pty")
    s.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="the event loop: asyncio's (default) or uvloop's (faster; pip install 'atwifi[fast]')",
    )
    s.add_argument(
        "--baud",
        type=int,
        default=115200,
        help="the line's rate until the module boots (then console_speed); default 115200",
    )
    s.add_argument(
        "--power-on",
        choices=("start", "open"),
        default=None,
        help="power the module on at start, or when a host first opens the pty"
        " (default: open for the pty, start for the others)",
    )
    s.add_argument(
        "--pace",
        action="store_true",
        help="carry console bytes at console_speed as a UART line does (8N1), both directions",
    )
    s.add_argument("--state", metavar="DIR", type=Path, help="the module's flash and files")
    s.add_argument(
        "--trace",
        metavar="FILE",
        type=Path,
        help="every byte as JSON lines (bulk chunks raw in FILE.bytes)",
    )
    s.add_argument("-v", "--verbose", action="store_true", help="coloured byte view on stderr")
    s.add_argument("--world", metavar="FILE", type=Path, help="the simulated Wi-Fi world (TOML)")
    s.add_argument(
        "--net",
        choices=("loopback", "any"),
        default="loopback",
        help="where the module may send packets (default: loopback only)",
    )
    s.add_argument(
        "--timing",
        choices=("fast", "real"),
        default=None,
        help="radio timing: fast (default, for CI) or real (a real module's durations)",
    )
    s.add_argument(
        "--bind", default="127.0.0.1", metavar="HOST", help="where module servers listen"
    )
    s.add_argument(
        "--port-map",
        type=_port_map,
        default={},
        metavar="M:H,...",
        help="module port M listens on host port H",
    )
    s.add_argument("--ext-folder", type=Path, metavar="DIR", help="host folder for volume 0")
    s.add_argument(
        "--web",
        metavar="HOST:PORT",
        help="serve a live view of the module on HOST:PORT (needs the 'web' extra: aiohttp)",
    )
    s.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help="faults over time: TOML [[step]] at=, verb=, args= (docs/control.md)",
    )
    s.add_argument(
        "--strap",
        type=_strap,
        action="append",
        default=[],
        metavar="GPIO[=LEVEL]",
        help="hold a pin during power-on: 0=1 factory reset, 8=1 run python_script",
    )
    s.add_argument(
        "--python-watchdog",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="stop a MicroPython script after SECONDS (default 0: never, as the module)",
    )
    s.add_argument(
        "--python-engine",
        choices=("auto", "native", "wasm"),
        default="auto",
        help="MicroPython engine: the unix port in bwrap (native) or the WASI build (wasm); "
        "auto: native when it works",
    )
    sub.add_parser("ctl", help="act on a running module: atwifi ctl --help", add_help=False)
    f = sub.add_parser("fleet", help="run many modules in one process, sharing one world")
    f.add_argument("file", type=Path, metavar="FILE.toml", help="the fleet file (docs/fleet.md)")
    f.add_argument("--check", action="store_true", help="only check the fleet file")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ctl"]:
        # Everything after `ctl` is the control channel's own command line.
        from atwifi.control.cli import main as ctl_main

        return ctl_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        import asyncio  # here, not at the top: `--help` and `ctl` need no event loop

        if args.cmd == "fleet":
            return fleet(args)
        if args.loop == "uvloop":
            try:
                import uvloop  # lazy: the extra atwifi[fast]
            except ImportError:
                print(
                    "atwifi: --loop uvloop needs uvloop: pip install 'atwifi[fast]'",
                    file=sys.stderr,
                )
                return 2
            return uvloop.run(serve(args))
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0


OPEN_GRACE = 0.2  # seconds after a host opens the pty: pyserial and picocom flush while opening


async def _host_opens(transport: object) -> None:
    import asyncio

    wait = getattr(transport, "wait_opened", None)
    if wait is not None and await wait():
        await asyncio.sleep(OPEN_GRACE)


async def serve(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal

    from atwifi.spwf04.device import Device, Options, default_state_dir
    from atwifi.transports import make_transport

    if args.tcp:
        kind, target = "tcp", args.tcp
    elif args.stdio:
        kind, target = "stdio", None
    elif args.rfc2217:
        kind, target = "rfc2217", args.rfc2217
    elif args.serial:
        kind, target = "serial", args.serial
    else:
        kind, target = "pty", None
    try:
        transport = make_transport(kind, target, pty_link=args.pty_link, baudrate=args.baud)
        host_side = transport  # the wrappers below (trace, faults) forward its bytes
    except ValueError as e:
        print(f"atwifi: {e}", file=sys.stderr)
        return 2
    from atwifi.transports.line import Line

    # The UART as a line: console_speed/console_hwfc at every boot, --pace emulates the wire.
    line = Line(transport, pace=args.pace, rate=args.baud)
    transport = line
    spi = bus = None
    if args.spi:
        from atwifi.transports.spi import SpiBusTransport

        try:
            spi = bus = SpiBusTransport(args.spi)
        except ValueError as e:
            print(f"atwifi: --spi: {e}", file=sys.stderr)
            return 2
    trace = None
    web_at: tuple[str, int] | None = None
    if args.web:
        from atwifi.transports import parse_hostport

        try:
            web_at = parse_hostport(args.web)
        except ValueError as e:
            print(f"atwifi: --web: {e}", file=sys.stderr)
            return 2
        try:
            import aiohttp  # noqa: F401  (lazy: only --web pays for it)
        except ImportError:
            print(
                "atwifi: --web needs aiohttp: pip install 'atwifi[web]'",
                file=sys.stderr,
            )
            return 2
        from atwifi.trace import TracingTransport
        from atwifi.web.live import LiveTrace

        trace = LiveTrace(args.trace, verbose=args.verbose)
        transport = TracingTransport(transport, trace)
    elif args.trace or args.verbose:
        from atwifi.trace import Trace, TracingTransport

        trace = Trace(args.trace, verbose=args.verbose)
        transport = TracingTransport(transport, trace)
        if spi is not None:
            spi = TracingTransport(spi, trace)  # type: ignore[assignment]
    if args.world is not None:
        from atwifi.services.radio.world import World, WorldError

        try:
            World.load(args.world, net=args.net if args.net == "any" else None)
        except (OSError, WorldError) as e:
            print(f"atwifi: --world {args.world}: {e}", file=sys.stderr)
            return 2
    options = Options(
        state_dir=args.state or default_state_dir(),
        world=args.world,
        net=args.net,
        port_map=args.port_map,
        bind_host=args.bind,
        ext_folder=args.ext_folder,
        timing=args.timing,
        straps=dict(args.strap),
        python_watchdog=args.python_watchdog,
        python_engine=args.python_engine,
    )
    steps = None
    if args.scenario is not None:
        from atwifi.services.faults import FaultError
        from atwifi.services.faults.load import load_scenario

        try:
            steps = load_scenario(args.scenario)
        except FaultError as e:
            print(f"atwifi: --scenario: {e}", file=sys.stderr)
            return 2
    device = Device(options, trace=trace)
    host_side.on_new_host = device.runtime.new_host
    host_side.on_output = device.runtime.output_blocked
    hold_input = getattr(host_side, "hold_input", None)
    if hold_input is not None:  # TCP, RFC 2217: a busy console stops reading its host
        device.runtime.input_control = hold_input
    device.line = line
    from atwifi.transports.faulty import FaultyTransport

    # Console faults on demand (fault.console) act on the line: around the trace, so the
    # trace records the output as the host gets it (fragments, damage) and the input as sent.
    transport = FaultyTransport(transport, device.faults.console)  # type: ignore[attr-defined]
    out = sys.stderr if kind == "stdio" else sys.stdout
    switch = _wire_consoles(device, transport, spi, bus)
    await transport.start(switch.feeder("uart", device.feed))
    if spi is not None:
        await spi.start(switch.feeder("spi", device.feed))
        options.own_endpoints.extend(spi.endpoints())
    options.own_endpoints.extend(transport.endpoints())
    print(f"atwifi: virtual SPWF04SA, state in {options.state_dir}", file=out)
    if args.state is None:
        print(
            "  (the default state folder: every run without --state shares this flash,"
            " files and certificates)",
            file=out,
        )
    print(transport.describe(), file=out, flush=True)
    if spi is not None:
        print(spi.describe(), file=out, flush=True)
    view = None
    if web_at is not None:
        from atwifi.web.server import start_web

        try:
            view = await start_web(device, trace, *web_at)
        except OSError as e:
            print(f"atwifi: --web {args.web}: {e}", file=sys.stderr)
            await transport.close()
            return 2
        print(f"atwifi: live view on {view.url()}", file=out, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    power_on = args.power_on or ("open" if kind == "pty" and spi is None else "start")
    if power_on == "open":
        if kind != "pty" or spi is not None:
            print("atwifi: --power-on open only applies to the pty console", file=sys.stderr)
            return 2
        print("  (the module powers on when a host opens the pty)", file=out, flush=True)
        waiting = asyncio.ensure_future(_host_opens(transport))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        stopping.cancel()
        if stop.is_set():
            await transport.close()
            if trace is not None:
                trace.close()
            return 0
    await device.power_on()
    if steps is not None:
        from atwifi.control.verbs.faults import start_scenario

        start_scenario(device, steps)
    for name, where in sorted(device.endpoints.items()):
        # The module's servers as the host reaches them (module port 69 -> a free UDP port).
        print(f"atwifi: {name} server on {where}", file=out, flush=True)
    await stop.wait()
    if view is not None:
        await view.close()
    await device.shutdown()
    await transport.close()
    if spi is not None:
        await spi.close()
    if trace is not None:
        trace.close()
    return 0


def _console_name(device: object) -> str | None:
    """The module's console since its last boot: its runtime's active framing."""
    runtime = getattr(device, "runtime", None)
    return getattr(runtime, "framing_name", None)


def _wire_consoles(device, uart, spi=None, bus=None):  # type: ignore[no-untyped-def]
    """The module's consoles: the switch follows console_enabled at every boot (a module
    served without --spi whose saved configuration says SPI is silent, and says so on
    stderr); the bus's reset line holds and boots the module. ``spi`` is the bus transport
    as the module writes to it (traced or not), ``bus`` the SpiBusTransport itself."""
    import asyncio

    from atwifi.transports.switch import ConsoleSwitch

    def note(text: str) -> None:
        device.trace_note(text)
        if spi is None and "no spi console" in text:
            print(
                "atwifi: console_enabled=0: this module's console is SPI and it was served"
                " without --spi: it is silent; serve it with --spi ADDRESS (docs/spi.md)",
                file=sys.stderr,
                flush=True,
            )

    consoles = {"uart": uart} if spi is None else {"uart": uart, "spi": spi}
    switch = ConsoleSwitch(consoles, lambda: _console_name(device), note=note)
    device.attach(switch.write, switch.drain)
    if bus is None:
        return switch
    status = getattr(device, "status", None)
    if status is not None:
        bus.set_wifi_state(lambda: status.get("wifi_state") or 0)
    edges: list[asyncio.Task[None]] = []

    async def edge(low: bool, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.gather(before, return_exceptions=True)
        if low:
            await device.shutdown()
        else:
            await device.power_on()

    def on_reset(low: bool) -> None:
        before = edges[-1] if edges else None
        task = asyncio.get_running_loop().create_task(edge(low, before))
        edges[:] = [task]

    bus.on_reset = on_reset
    bus.on_output = device.runtime.output_blocked  # a master that clocks no MISO out
    return switch


def fleet(args: argparse.Namespace) -> int:
    import asyncio

    from atwifi.fleet.spec import FleetError, load
    from atwifi.services.radio.world import WorldError

    try:
        spec = load(args.file)
    except FleetError as e:
        print(f"atwifi fleet: {e}", file=sys.stderr)
        return 2
    from atwifi.fleet.runtime import load_world

    try:
        world = load_world(spec)
    except (OSError, WorldError) as e:
        print(f"atwifi fleet: fleet.world {spec.world}: {e}", file=sys.stderr)
        return 2
    if args.check:
        print(f"atwifi fleet: {args.file}: {len(spec.modules)} modules, OK")
        return 0
    return asyncio.run(run_fleet(spec, world))


async def run_fleet(spec: object, world: object) -> int:
    import asyncio
    import contextlib
    import json
    import signal

    from atwifi.fleet.control import FleetControlServer
    from atwifi.fleet.runtime import Fleet
    from atwifi.statedir import private_folder

    fl = Fleet(spec, world)  # type: ignore[arg-type]
    private_folder(fl.spec.state)
    try:
        fl.build()
    except (OSError, ValueError) as e:
        print(f"atwifi fleet: {e}", file=sys.stderr)
        return 2
    ctl = FleetControlServer(fl, fl.spec.state / "ctl.sock")
    try:
        await fl.start()
    except OSError as e:
        print(f"atwifi fleet: {e}", file=sys.stderr)
        await fl.stop()
        return 2
    await ctl.start()
    consoles = fl.consoles()
    listing = fl.spec.state / "consoles.json"
    listing.write_text(json.dumps(dict(consoles), indent=1) + "\n", encoding="utf-8")
    print(f"atwifi fleet: {len(consoles)} modules, state in {fl.spec.state}", flush=True)
    for name, where in consoles:
        print(f"  {name}: {where}")
    print(f"atwifi fleet: consoles listed in {listing}; control: {ctl.path}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await ctl.close()
    await fl.stop()
    return 0
