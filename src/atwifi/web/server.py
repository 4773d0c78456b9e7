"""The live view's HTTP server (aiohttp): the page, a JSON snapshot, Server-Sent Events for
the trace and the state, and the control channel's verbs behind POST /api/verb.

Verbs go through ``atwifi.control.verbs.call``, the registry the ctl socket uses, so a button
does exactly what ``atwifi ctl <verb>`` does (and is noted in the trace the same way).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from importlib import resources
from typing import Any

from aiohttp import web

from atwifi.control import verbs
from atwifi.control.protocol import ControlError
from atwifi.web.live import LiveTrace
from atwifi.web.state import snapshot

log = logging.getLogger("atwifi.web")

STATE_DELAY = 0.1  # a burst of trace records gives one state push, this long after the first
KEEPALIVE = 15.0  # an SSE comment this often keeps proxies and the browser's stream open
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}

# The verbs the page offers as buttons (fault and stimulus verbs), with their argument fields.
BUTTONS: list[dict[str, Any]] = [
    {"verb": "link.drop", "args": {"kind": "deauth"}, "label": "Deauth"},
    {"verb": "link.drop", "args": {"kind": "disassoc"}, "label": "Disassociate"},
    {"verb": "link.drop", "args": {"kind": "beacon"}, "label": "Beacon loss"},
    {"verb": "dhcp.fail", "args": {}, "label": "DHCP fails"},
    {"verb": "dhcp.fail", "args": {"on": "false"}, "label": "DHCP heals"},
    {"verb": "station.add", "args": {"mac": "02:00:00:00:00:01"}, "label": "Station joins"},
    {"verb": "station.remove", "args": {"mac": "02:00:00:00:00:01"}, "label": "Station leaves"},
    {"verb": "fault.add", "args": {"kind": "refuse"}, "label": "Refuse connections"},
    {"verb": "fault.add", "args": {"kind": "dns_fail"}, "label": "DNS fails"},
    {"verb": "fault.clear", "args": {}, "label": "Clear faults"},
]


def _asset(name: str) -> bytes:
    return resources.files("atwifi.web").joinpath("static", name).read_bytes()


class WebView:
    def __init__(self, device: Any, trace: LiveTrace) -> None:
        self.device = device
        self.trace = trace
        self.state_watchers: set[asyncio.Queue[None]] = set()
        self._state_pending = False
        trace.on_record.append(self._state_soon)
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.host = ""
        self.port = 0

    # -- state pushes ------------------------------------------------------------------
    def _state_soon(self) -> None:
        """A record happened: the state may have moved. One push per burst, none while no
        page watches (no timer runs while nothing happens)."""
        if self._state_pending or not self.state_watchers:
            return
        self._state_pending = True
        with contextlib.suppress(RuntimeError):  # no loop (closing): nothing to push to
            asyncio.get_running_loop().call_later(STATE_DELAY, self._state_now)

    def _state_now(self) -> None:
        self._state_pending = False
        for q in list(self.state_watchers):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(None)

    # -- the app -----------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get("/", self.index)
        app.router.add_get("/static/{name}", self.static)
        app.router.add_get("/api/state", self.state)
        app.router.add_get("/api/trace", self.recent)
        app.router.add_get("/api/verbs", self.verb_list)
        app.router.add_post("/api/verb", self.verb)
        app.router.add_get("/api/events", self.events)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sock = server.sockets[0].getsockname()  # type: ignore[union-attr]
        self.host, self.port = sock[0], sock[1]

    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def close(self) -> None:
        # Open event streams end now (not at aiohttp's shutdown timeout): flag, then wake them.
        self._closing = True
        for q in list(self.state_watchers):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(None)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- handlers ----------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.Response:
        return web.Response(body=_asset("index.html"), content_type="text/html", charset="utf-8")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(body=_asset(name), content_type=STATIC[name], charset="utf-8")

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response(await snapshot(self.device))

    async def recent(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.trace.recent))

    async def verb_list(self, request: web.Request) -> web.Response:
        listed = [
            {"verb": v.name, "usage": v.usage(), "help": v.help}
            for _, v in sorted(verbs.verbs().items())
        ]
        return web.json_response({"verbs": listed, "buttons": BUTTONS})

    async def verb(self, request: web.Request) -> web.Response:
        try:
            req = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"ok": False, "error": "a JSON body is expected"}, status=400)
        name = req.get("verb") if isinstance(req, dict) else None
        args = req.get("args") or {} if isinstance(req, dict) else None
        if not isinstance(name, str) or not isinstance(args, dict):
            return web.json_response(
                {"ok": False, "error": "a request has a verb (text) and args (object)"},
                status=400,
            )
        try:
            result = await verbs.call(self.device, name, args)
        except (ControlError, ValueError) as e:
            return web.json_response({"ok": False, "error": str(e)})
        except Exception as e:  # a bug in a verb: say so, keep serving
            log.exception("control verb %s failed", name)
            return web.json_response({"ok": False, "error": f"internal error in {name}: {e!r}"})
        self.device.trace_note(f"control (web): {name} {args}")
        return web.json_response({"ok": True, "result": result})

    async def events(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await resp.prepare(request)
        records = self.trace.watch()
        kick: asyncio.Queue[None] = asyncio.Queue(1)
        self.state_watchers.add(kick)

        async def send(event: str, data: Any) -> None:
            await resp.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

        try:
            await send("state", await snapshot(self.device))
            get_rec = asyncio.ensure_future(records.get())
            get_kick = asyncio.ensure_future(kick.get())
            try:
                while records in self.trace.watchers and not self._closing:
                    done, _ = await asyncio.wait(
                        {get_rec, get_kick}, timeout=KEEPALIVE, return_when=asyncio.FIRST_COMPLETED
                    )
                    if not done:
                        await resp.write(b": keepalive\n\n")
                    if get_rec in done:
                        batch = [get_rec.result()]
                        while not records.empty() and len(batch) < 200:
                            batch.append(records.get_nowait())
                        await send("trace", batch)
                        get_rec = asyncio.ensure_future(records.get())
                    if get_kick in done:
                        if self._closing:
                            break
                        await send("state", await snapshot(self.device))
                        get_kick = asyncio.ensure_future(kick.get())
            finally:
                get_rec.cancel()
                get_kick.cancel()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.trace.unwatch(records)
            self.state_watchers.discard(kick)
        return resp


async def start_web(device: Any, trace: LiveTrace, host: str, port: int) -> WebView:
    view = WebView(device, trace)
    await view.start(host, port)
    return view
