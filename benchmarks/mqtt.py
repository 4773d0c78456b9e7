"""MQTT publish-and-receive round trips through the module, against a direct client (a script,
not a test).

    PYTHONPATH=src python benchmarks/mqtt.py [-n 500] [--size 64]

A mosquitto broker (a subprocess on a free 127.0.0.1 port) and a real `atwifi serve --tcp`
process. The module subscribes to a topic and, one message at a time, publishes to it with
AT+S.MQTTPUB and waits for both its AT-S.OK and the +WIND:86 that brings the message back.
The floor: a paho-mqtt client in this process doing the same round trip on the same broker
(publish, wait for its own message). QoS 0 and 1, best of ``--rounds`` rounds each (the machine
is shared: the best round is the least disturbed one); prints messages per second of both and
the ratio module/direct. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from serve import Console, serve_argv, start, stop

TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("mosquitto did not start")


def module_rounds(console: Console, n: int, qos: int, payload: bytes) -> float:
    line = f"AT+S.MQTTPUB=0,bench/m{qos},{qos},0,{len(payload)}"
    back = f"+WIND:86:MQTT Published:0:bench/m{qos}:{qos}:0:0:".encode()
    t0 = time.perf_counter()
    for _ in range(n):
        console.sock.sendall(line.encode() + b"\r" + payload)
        # the OK and the WIND, in whatever order they come
        got = console.read_until(b"AT-S.OK\r\n")
        if back not in got:  # (the module holds WINDs until the reply is out: the usual case)
            console.read_until(back)
            console.read_until(payload + b"\r\n")
    return n / (time.perf_counter() - t0)


def direct_rounds(port: int, n: int, qos: int, payload: bytes) -> float:
    import paho.mqtt.client as mqtt

    got = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"direct-{qos}")
    c.on_message = lambda cl, u, msg: got.set()
    subscribed = threading.Event()
    c.on_subscribe = lambda *a: subscribed.set()
    c.connect("127.0.0.1", port)
    c.loop_start()
    c.subscribe(f"bench/d{qos}", qos)
    subscribed.wait(TIMEOUT)
    t0 = time.perf_counter()
    for _ in range(n):
        got.clear()
        c.publish(f"bench/d{qos}", payload, qos)
        if not got.wait(TIMEOUT):
            raise SystemExit("direct client: message did not come back")
    rate = n / (time.perf_counter() - t0)
    c.disconnect()
    c.loop_stop()
    return rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=500, help="round trips per QoS (500)")
    ap.add_argument("--size", type=int, default=64, help="payload bytes (64)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, the best counts (3)")
    args = ap.parse_args()
    payload = b"p" * args.size
    with tempfile.TemporaryDirectory() as tmp:
        broker, bport = start_broker(Path(tmp))
        module, mport = start(serve_argv(Path(tmp) / "state"))
        try:
            console = Console(mport, TIMEOUT)
            console.read_until(b"+WIND:0:Console active\r\n")  # before it, input is dropped
            console.reply(b"AT+S.SCFG=console_echo,0")
            while b"=10\r\n" not in console.reply(b"AT+S.STS=wifi_state"):  # joined (LINK_UP)
                time.sleep(0.05)
            console.reply(f"AT+S.MQTTCONN=127.0.0.1,{bport},,,,,bench,,,,,".encode())
            for qos in (0, 1):
                console.reply(f"AT+S.MQTTSUB=0,bench/m{qos},{qos}".encode())
            print(
                f"{args.n} round trips per QoS, {args.size}-byte payloads, best of"
                f" {args.rounds} rounds, mosquitto on loopback"
            )
            for qos in (0, 1):
                mod = direct = 0.0
                for _ in range(args.rounds):  # interleaved, so both see the same machine
                    mod = max(mod, module_rounds(console, args.n, qos, payload))
                    direct = max(direct, direct_rounds(bport, args.n, qos, payload))
                print(
                    f"QoS {qos}: module {mod:8.0f} msg/s   direct paho {direct:8.0f} msg/s"
                    f"   ratio {mod / direct:.2f}"
                )
            console.reply(b"AT+S.MQTTDISC=0")
        finally:
            stop(module)
            broker.terminate()
            broker.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
