"""The synchronous Client's WebSocket objects against a real `atwifi serve` process and a
WebSocket server of the websockets library's threaded flavour (no event loop in the test)."""

from __future__ import annotations

import threading
from pathlib import Path

from atwifi.client import Client
from harness import spawn_serve, stop_serve


def test_sync_client_echo(tmp_path: Path) -> None:
    from websockets.sync.server import serve

    def echo(ws) -> None:  # noqa: ANN001
        for m in ws:
            ws.send(m)

    with serve(echo, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        proc, cport = spawn_serve(tmp_path / "state")
        try:
            with Client(f"socket://127.0.0.1:{cport}", timeout=10) as c:
                c.wait_ready()
                c.wait_link_up(timeout=30)
                ws = c.ws_open("127.0.0.1", port, "/", protocols=None)
                c.run(ws.send("sync hello"))
                assert c.run(ws.recv_message(timeout=10)) == b"sync hello"
                assert c.ws_list()[0].startswith(f"{ws.id}:1:0:")
                c.run(ws.close())
                assert c.ws_list() == []
        finally:
            stop_serve(proc)
            server.shutdown()
