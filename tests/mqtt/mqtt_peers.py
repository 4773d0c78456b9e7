"""Real MQTT peers for the tests: a mosquitto broker (subprocess, own config in tmp_path, free
ports on 127.0.0.1) and a paho-mqtt client on it. Certificates come from trustme."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """n different free ports (all held open while picked, so none comes twice)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Certs:
    """PEM files of a CA, a broker certificate (localhost, 127.0.0.1) and a device one."""

    folder: Path
    ca: bytes
    device_cert: bytes
    device_key: bytes
    ca_file: Path = field(init=False)
    server_cert_file: Path = field(init=False)
    server_key_file: Path = field(init=False)

    @classmethod
    def make(cls, folder: Path, **device_kw: Any) -> Certs:
        import trustme

        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        server = ca.issue_cert("localhost", "127.0.0.1")
        device = ca.issue_cert("device-1", **device_kw)
        self = cls(
            folder,
            ca.cert_pem.bytes(),
            device.cert_chain_pems[0].bytes(),
            device.private_key_pem.bytes(),
        )
        self.ca_file = folder / "ca.pem"
        self.server_cert_file = folder / "server.pem"
        self.server_key_file = folder / "server.key"
        ca.cert_pem.write_to_path(str(self.ca_file))
        server.cert_chain_pems[0].write_to_path(str(self.server_cert_file))
        server.private_key_pem.write_to_path(str(self.server_key_file))
        self._ca = ca
        return self

    def issue(self, name: str, **kw: Any) -> tuple[bytes, bytes]:
        c = self._ca.issue_cert(name, **kw)
        return c.cert_chain_pems[0].bytes(), c.private_key_pem.bytes()


class Broker:
    """mosquitto with the listeners asked for. ``ports`` maps a listener name to its port."""

    def __init__(
        self,
        folder: Path,
        certs: Certs | None = None,
        users: dict[str, str] | None = None,
        websockets: bool = True,
    ) -> None:
        self.folder = folder
        self.certs = certs
        self.users = users
        self.websockets = websockets
        self.ports: dict[str, int] = {}
        self.proc: asyncio.subprocess.Process | None = None
        self.log: list[str] = []
        self._logged = asyncio.Event()
        self._drain: asyncio.Task[None] | None = None

    def config(self) -> str:
        lines = ["per_listener_settings true", "persistence false", "log_dest stderr"]
        lines += ["log_type error", "log_type warning", "log_type notice", "log_type information"]
        if os.geteuid() == 0:
            lines.append("user root")  # keep reading the test's private tmp files

        spare = free_ports(8)

        def listener(name: str, *extra: str) -> None:
            self.ports[name] = port = spare.pop()
            lines.extend([f"listener {port} 127.0.0.1", *extra])

        listener("plain", "allow_anonymous true")
        if self.websockets:
            # Debian's 2.0.11 needs a plain listener beside a websockets one (it has one).
            listener("ws", "protocol websockets", "allow_anonymous true")
        if self.certs is not None:
            c = self.certs
            files = [f"certfile {c.server_cert_file}", f"keyfile {c.server_key_file}"]
            listener("tls", *files, "allow_anonymous true")
            listener(
                "mtls",
                *files,
                f"cafile {c.ca_file}",
                "require_certificate true",
                "allow_anonymous true",
            )
            if self.websockets:
                listener("wss", "protocol websockets", *files, "allow_anonymous true")
        if self.users is not None:
            pw = self.folder / "passwd"
            pw.write_text("")
            for user, password in self.users.items():
                subprocess.run([MOSQUITTO_PASSWD, "-b", str(pw), user, password], check=True)
            listener("auth", f"password_file {pw}", "allow_anonymous false")
        return "\n".join(lines) + "\n"

    async def start(self) -> Broker:
        # The ports are free when picked, but a parallel test may take one before mosquitto
        # binds it: then start again on new ones.
        for _ in range(4):
            try:
                return await self._start_once()
            except RuntimeError:
                # mosquitto says "Address already in use" for a plain listener, only
                # "Unable to create websockets listener" for a websockets one.
                taken = ("Address already in use", "Unable to create websockets listener")
                if not any(t in line for line in self.log for t in taken):
                    raise
                self.log.clear()
        return await self._start_once()

    async def _start_once(self) -> Broker:
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        self.ports = {}
        conf.write_text(self.config())
        self.proc = await asyncio.create_subprocess_exec(
            MOSQUITTO,
            "-c",
            str(conf),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.proc.stderr is not None
        async with asyncio.timeout(15):
            while True:
                line = await self.proc.stderr.readline()
                if not line:
                    raise RuntimeError("mosquitto did not start:\n" + "".join(self.log))
                text = line.decode(errors="replace")
                self.log.append(text)
                if " running" in text:
                    break
        self._drain = asyncio.create_task(self._read_log())
        return self

    async def _read_log(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.log.append(line.decode(errors="replace"))
            self._logged.set()

    async def wait_log(self, needle: str, timeout: float = 20.0) -> str:
        """The first log line holding ``needle``, waiting for mosquitto to write it."""
        async with asyncio.timeout(timeout):
            while True:
                for line in self.log:
                    if needle in line:
                        return line
                self._logged.clear()
                await self._logged.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain


class Peer:
    """A paho-mqtt client on the broker (its own thread); messages land in ``inbox``."""

    def __init__(self, port: int, client_id: str = "peer", **connect_kw: Any) -> None:
        import paho.mqtt.client as mqtt

        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.inbox: queue.Queue[Any] = queue.Queue()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: self._connected.set()
        self.client.on_subscribe = lambda c, u, mid, rc, p: self._subscribed.set()
        self.client.on_message = lambda c, u, msg: self.inbox.put(msg)
        self.client.connect("127.0.0.1", port, **connect_kw)
        self.client.loop_start()
        if not self._connected.wait(10):
            raise RuntimeError("paho could not connect")

    def subscribe(self, topic: str, qos: int = 0) -> None:
        self._subscribed.clear()
        self.client.subscribe(topic, qos)
        if not self._subscribed.wait(10):
            raise RuntimeError("no SUBACK")

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos, retain)
        info.wait_for_publish(10)

    async def next(self, timeout: float = 10.0) -> Any:
        return await asyncio.to_thread(self.inbox.get, True, timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
