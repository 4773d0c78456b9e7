"""pytest plugin: a virtual SPWF04SA per test, its console URL, a client and its control channel.

Loaded through the ``pytest11`` entry point ``atwifi``. Nothing runs unless a test asks for
one of the fixtures (all named ``atwifi_*``, none autouse); atwifi itself is imported only
then. Usage and recipes: docs/pytest.md.

Fixtures: ``atwifi_module`` (the running module: ``.url``, ``.port``, ``.state_dir``,
``.trace_path``, ``.control``, ``.call(verb, **args)``, ``.client()``,
``.async_client()``), ``atwifi_url``, ``atwifi_control``, ``atwifi_client`` (a connected
sync ``atwifi.client.Client``), and the settings ``atwifi_world`` / ``atwifi_config`` /
``atwifi_options`` a test module may override. The marker
``@pytest.mark.atwifi(world=..., config={...}, timing=..., console=..., mode=...)`` sets
them per test. On a failing test the module's trace is attached to the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

MODES = ("inprocess", "serve")
CONSOLES = ("tcp", "rfc2217", "pty")
TRACE_KEY = "atwifi_trace_path"
_START_TIMEOUT = 30.0


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("atwifi", "virtual SPWF04SA modules (atwifi)")
    g.addoption(
        "--atwifi-mode",
        choices=MODES,
        default=None,
        help="run each module in this process (a thread, default) or as `atwifi serve`",
    )
    g.addoption("--atwifi-console", choices=CONSOLES, default=None, help="default: tcp")
    g.addoption("--atwifi-timing", choices=("fast", "real"), default=None)
    g.addoption(
        "--atwifi-trace-lines",
        type=int,
        default=300,
        help="lines of the module's trace shown for a failing test (0: all)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "atwifi(world=None, config=None, timing=None, console=None, mode=None, faults=None): "
        "settings of the virtual module the atwifi_* fixtures start",
    )


@dataclass
class Settings:
    world: str | Path | None = None  # TOML text or a path
    config: dict[str, Any] = field(default_factory=dict)  # saved configuration values
    timing: str | None = None
    console: str = "tcp"
    mode: str = "inprocess"
    extra_args: list[str] = field(default_factory=list)  # more `atwifi serve` options


def _readable(rec: dict[str, Any]) -> str:
    arrows = {"in": "->", "out": "<-", "note": " ."}
    from atwifi.trace import record_text  # "data", or made from "hex" for a long chunk

    text = record_text(rec)
    if rec.get("partial"):  # read while the module was still writing its bytes
        text += f" ... ({rec['len'] - len(rec['hex']) // 2} bytes not written yet)"
    return f"{rec.get('t', 0):10.3f} {arrows.get(rec.get('dir', ''), '??')} {text}"


def format_trace(path: Path, limit: int = 0) -> str:
    """The --trace JSON lines in readable form: time, direction (-> host to module,
    <- module to host, . a note), the bytes escaped as in the trace."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        return f"(no trace: {e})"
    from atwifi.trace import bulk_path, resolve  # bulk chunks' bytes are beside the trace

    out = []
    side = bulk_path(path)
    with open(side, "rb") if side.exists() else contextlib.nullcontext() as bulk:
        for ln in lines:
            try:
                out.append(_readable(resolve(json.loads(ln), bulk)))
            except ValueError:
                out.append(f"(unreadable trace line) {ln}")
    if limit and len(out) > limit:
        out = [f"... {len(out) - limit} earlier lines in {path}", *out[-limit:]]
    return "\n".join(out) if out else "(empty trace)"


def _seed_config(state_dir: Path, values: dict[str, Any]) -> None:
    """Write configuration values into the module's flash, as AT+S.SCFG + AT&W would."""
    if not values:
        return
    from atwifi.services.flash import Flash
    from atwifi.spwf04.config import Config
    from atwifi.statedir import private_folder

    private_folder(state_dir)
    cfg = Config(Flash(state_dir / "flash"))
    cfg.load()
    for name, value in values.items():
        cfg.set(name, str(int(value)) if isinstance(value, bool) else str(value))
    cfg.save()


class VirtualModule:
    """One running virtual module, in this process (own thread and loop) or as a process."""

    def __init__(self, folder: Path, settings: Settings) -> None:
        self.folder = folder
        self.settings = settings
        self.state_dir = folder / "state"
        self.trace_path = folder / "trace.jsonl"
        self.url = ""
        self.port = 0
        self.device: Any = None  # in-process: the Device (runs on the module's own thread)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._error: BaseException | None = None
        self._clients: list[Any] = []

    # -- start -----------------------------------------------------------------------------
    def _world_file(self) -> Path | None:
        w = self.settings.world
        if w is None:
            return None
        if isinstance(w, Path) or (isinstance(w, str) and "\n" not in w and w.endswith(".toml")):
            return Path(w)
        p = self.folder / "world.toml"
        p.write_text(str(w), encoding="utf-8")
        return p

    def start(self) -> VirtualModule:
        s = self.settings
        if s.console not in CONSOLES:
            raise ValueError(f"console must be one of {CONSOLES}, not {s.console!r}")
        self.folder.mkdir(parents=True, exist_ok=True)
        _seed_config(self.state_dir, s.config)
        world = self._world_file()
        if s.mode == "serve":
            self._spawn(world)
        elif s.mode == "inprocess":
            self._run_thread(world)
        else:
            raise ValueError(f"mode must be one of {MODES}, not {s.mode!r}")
        return self

    def _spawn(self, world: Path | None) -> None:
        s = self.settings
        args = [sys.executable, "-m", "atwifi", "serve", "--state", str(self.state_dir)]
        args += ["--trace", str(self.trace_path)]
        if s.console in ("tcp", "rfc2217"):
            args += [f"--{s.console}", "127.0.0.1:0"]
        if world is not None:
            args += ["--world", str(world)]
        if s.timing:
            args += ["--timing", s.timing]
        args += s.extra_args
        self._proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self._proc.stdout is not None
        pattern = re.compile(rb"127\.0\.0\.1:(\d+)" if s.console != "pty" else rb"(/dev/pts/\d+)")
        for _ in range(50):
            line = self._proc.stdout.readline()
            if not line:
                break
            m = pattern.search(line)
            if m:
                self._set_where(m.group(1).decode())
                # Keep reading stdout in the background so the process never blocks on it.
                threading.Thread(target=self._proc.stdout.read, daemon=True).start()
                return
        err = self._proc.stderr.read().decode() if self._proc.stderr else ""
        self.stop()
        raise RuntimeError(f"atwifi serve did not start: {err}")

    def _set_where(self, where: str) -> None:
        kind = self.settings.console
        if kind == "pty":
            self.url = where
            return
        self.port = int(where)
        self.url = f"{'socket' if kind == 'tcp' else 'rfc2217'}://127.0.0.1:{self.port}"

    def _run_thread(self, world: Path | None) -> None:
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(world, ready))
            except BaseException as e:  # reported to the test thread
                self._error = e
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=main, name="atwifi-module", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT) or self._error is not None:
            raise RuntimeError(f"the virtual module did not start: {self._error!r}")

    async def _serve(self, world: Path | None, ready: threading.Event) -> None:
        from atwifi.spwf04.device import Device, Options
        from atwifi.trace import Trace, TracingTransport
        from atwifi.transports import make_transport
        from atwifi.transports.faulty import FaultyTransport

        s = self.settings
        target = "127.0.0.1:0" if s.console != "pty" else None
        transport = make_transport(s.console, target)
        trace = Trace(self.trace_path, verbose=False)
        transport = TracingTransport(transport, trace)
        options = Options(state_dir=self.state_dir, world=world, timing=s.timing)
        device = Device(options, trace=trace)
        transport = FaultyTransport(transport, device.faults.console)  # type: ignore[attr-defined]
        device.attach(transport.write, transport.drain)
        self._stop = asyncio.Event()
        try:
            await transport.start(device.feed)
            options.own_endpoints.extend(transport.endpoints())
            await device.power_on()
            self.device = device
            self._set_where(transport.path if s.console == "pty" else str(transport.port))
            ready.set()
            await self._stop.wait()
        finally:
            await device.shutdown()
            await transport.close()
            trace.close()

    # -- use -------------------------------------------------------------------------------
    @property
    def control(self) -> Any:
        from atwifi.control import ControlClient

        return ControlClient(self.state_dir)

    def call(self, verb: str, **args: Any) -> Any:
        """A control verb (fault.add, ap.remove, link.drop...): atwifi.control.verbs."""
        return self.control.call(verb, **args)

    def client(self, **kw: Any) -> Any:
        """A connected ``atwifi.client.Client`` (closed with the module)."""
        from atwifi.client import Client

        c = Client(self.url, **kw)
        self._clients.append(c)
        return c

    async def async_client(self, **kw: Any) -> Any:
        """An ``atwifi.client.AsyncClient`` on the caller's loop (close it yourself, or use
        ``async with await atwifi_module.async_client() as c``)."""
        from atwifi.client import AsyncClient

        return await AsyncClient.open(self.url, **kw)

    def trace(self, limit: int = 0) -> str:
        return format_trace(self.trace_path, limit)

    # -- stop ------------------------------------------------------------------------------
    def stop(self) -> None:
        for c in self._clients:
            with contextlib.suppress(Exception):
                c.close()
        self._clients.clear()
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._thread is not None:
            loop, stop = self._loop, self._stop
            if loop is not None and stop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(stop.set)
            self._thread.join(15)
            self._thread = None


# -- settings fixtures (override them in a conftest or test module) ----------------------------
@pytest.fixture
def atwifi_world() -> str | Path | None:
    """The world for the module: TOML text or a path (None: the default world)."""
    return None


@pytest.fixture
def atwifi_config() -> dict[str, Any]:
    """Configuration values saved in the module's flash before it boots."""
    return {}


@pytest.fixture
def atwifi_options() -> dict[str, Any]:
    """More settings: timing, console (tcp|rfc2217|pty), mode (inprocess|serve), extra_args."""
    return {}


def _settings(
    request: pytest.FixtureRequest, world: Any, config: dict[str, Any], opts: dict[str, Any]
) -> Settings:
    po = request.config.option
    s = Settings(
        world=world,
        config=dict(config),
        timing=getattr(po, "atwifi_timing", None),
        console=getattr(po, "atwifi_console", None) or "tcp",
        mode=getattr(po, "atwifi_mode", None) or "inprocess",
    )
    for key, value in opts.items():
        if not hasattr(s, key):
            raise pytest.UsageError(f"atwifi_options: unknown setting {key!r}")
        setattr(s, key, value)
    marker = request.node.get_closest_marker("atwifi")
    if marker is not None:
        for key, value in marker.kwargs.items():
            if key == "config":
                s.config.update(value)
            elif hasattr(s, key):
                setattr(s, key, value)
            else:
                raise pytest.UsageError(f"@pytest.mark.atwifi: unknown setting {key!r}")
    return s


@pytest.fixture
def atwifi_module(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    atwifi_world: Any,
    atwifi_config: dict[str, Any],
    atwifi_options: dict[str, Any],
) -> Iterator[VirtualModule]:
    """A running virtual module for this test (its own state folder and free port, so it
    works under pytest-xdist)."""
    folder = tmp_path_factory.mktemp("atwifi")
    module = VirtualModule(folder, _settings(request, atwifi_world, atwifi_config, atwifi_options))
    request.node.stash[_TRACE] = module.trace_path
    module.start()
    try:
        yield module
    finally:
        module.stop()


@pytest.fixture
def atwifi_url(atwifi_module: VirtualModule) -> str:
    """The module's console: socket://127.0.0.1:N, rfc2217://127.0.0.1:N or /dev/pts/N."""
    return atwifi_module.url


@pytest.fixture
def atwifi_control(atwifi_module: VirtualModule) -> Any:
    """The module's control channel (atwifi.control.ControlClient)."""
    return atwifi_module.control


@pytest.fixture
def atwifi_client(atwifi_module: VirtualModule) -> Iterator[Any]:
    """A sync atwifi.client.Client connected to the module's console."""
    c = atwifi_module.client()
    yield c


_TRACE = pytest.StashKey[Path]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    path = item.stash.get(_TRACE, None)
    if path is None:
        return
    limit = item.config.getoption("atwifi_trace_lines", 300)
    report.sections.append((f"atwifi trace ({path})", format_trace(path, limit or 0)))
