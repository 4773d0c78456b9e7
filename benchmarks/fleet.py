"""Fleet benchmark: many modules in one process (a script, not a test).

    PYTHONPATH=src python benchmarks/fleet.py [--n 1000] [--idle 10]

Boots ``--n`` modules with TCP consoles on 127.0.0.1 (free ports), all joined to one access
point of the shared world (a /16, so every module gets a lease), and prints:

* memory: RSS after the first module, after all of them, and per module beyond the first
  (target <= 64 KiB); next to it the floor measured in the same run: what one parked asyncio
  task plus one listening TCP socket cost (the least a module with a console can cost);
* boot: wall time from building the devices to every module's radio settled (joined), and
  per module (target: 10,000 modules < 30 s); and the process CPU time that took (on a
  shared machine the wall time also counts other processes' turns);
* idle CPU: process CPU time over ``--idle`` seconds of nothing happening, as % of one core
  (target < 2 %).

The modules are factory-new (no state folder: lazy state, nothing read or written at boot).
``--stored`` first boots the fleet once and saves every module's configuration (as
AT+S.WCFG), then measures the boot of that same fleet again: every module then reads its
flash and writes its boot counters (two fsyncs each) at boot.

Everything stays on 127.0.0.1. Mind the file descriptors (one listening socket per module):
10,000 modules need ``ulimit -n`` above 10,100.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

WORLD = """
[[ap]]
ssid = "STTest"  # the factory SSID: every module joins without a command
bssid = "02:00:00:00:00:01"
channel = 6
rssi = -50
network = "10.0.0.0/16"
"""


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def floor(n: int) -> float:
    """KiB per (parked task + listening socket), over n of them."""
    gc.collect()
    before = rss_kib()
    ev = asyncio.Event()
    tasks = [asyncio.create_task(ev.wait()) for _ in range(n)]
    servers = [await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0) for _ in range(n)]
    await asyncio.sleep(0)
    gc.collect()
    per = (rss_kib() - before) / n
    for s in servers:
        s.close()
    ev.set()
    await asyncio.gather(*tasks)
    return per


async def main(n: int, idle: float, stored: bool = False) -> int:
    from atwifi.fleet.runtime import Fleet, load_world
    from atwifi.fleet.spec import from_dict

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = n + 200
    if soft < need:
        if hard < need:
            print(f"fleet: {n} modules need {need} file descriptors, the limit is {hard}")
            return 2
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    floor_n = min(n, 1000)
    floor_kib = await floor(floor_n)
    with tempfile.TemporaryDirectory(prefix="atwifi-fleet-") as tmp:
        base = Path(tmp)
        (base / "world.toml").write_text(WORLD)

        def spec(count: int, state: str) -> object:
            return from_dict(
                {
                    "fleet": {"state": state, "world": "world.toml"},
                    "module": [{"name": "m", "count": count}],
                },
                base=base,
            )

        # The first module: imports, tables, caches; what every further module shares.
        first_spec = spec(1, "first")
        first = Fleet(first_spec, load_world(first_spec))  # type: ignore[arg-type]
        first.build()
        await first.start()
        await settle(first)
        gc.collect()
        rss_one = rss_kib()

        s = spec(n, "fleet")
        if stored:
            await store_all(s)
        fleet = Fleet(s, load_world(s))  # type: ignore[arg-type]
        t0, cpu0 = time.perf_counter(), time.process_time()
        fleet.build()
        await fleet.start()
        t_started = time.perf_counter()
        await settle(fleet)
        t_settled, cpu_boot = time.perf_counter(), time.process_time() - cpu0
        gc.collect()
        rss_all = rss_kib()
        joined = sum(1 for m in fleet.members.values() if m.device.radio.ip_ready)

        # Idle: nothing sent, nothing changes.
        await asyncio.sleep(1.0)
        c0, w0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(idle)
        cpu = (time.process_time() - c0) / (time.perf_counter() - w0) * 100

        # One console still answers (the fleet is alive, not just quiet).
        port = next(iter(fleet.members.values())).transport.port
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"AT\r")
        await asyncio.wait_for(r.readuntil(b"AT-S.OK\r\n"), 10)
        w.close()

        per = (rss_all - rss_one) / n
        boot = t_settled - t0
        kind = "each with a saved configuration" if stored else "factory-new, no state folder"
        print(f"fleet of {n} modules (+1 first, {kind}), python {sys.version.split()[0]}")
        print(f"  joined:            {joined}/{n}")
        print(f"  RSS first module:  {rss_one / 1024:.1f} MiB (the process with one module)")
        print(f"  RSS all modules:   {rss_all / 1024:.1f} MiB")
        print(
            f"  per module:        {per:.1f} KiB   (target <= 64; floor: task + listening "
            f"socket = {floor_kib:.1f} KiB, ratio {per / max(floor_kib, 0.1):.1f})"
        )
        print(
            f"  boot:              {boot:.2f} s to all settled ({t_started - t0:.2f} s to all "
            f"consoles up), {boot / n * 1000:.2f} ms per module; x{10000 / n:.0f} = "
            f"{boot / n * 10000:.1f} s for 10,000 (target < 30)"
        )
        print(
            f"  boot CPU:          {cpu_boot:.2f} s of process CPU time (all threads), "
            f"{cpu_boot / n * 1000:.2f} ms per module (the wall time above also counts waiting "
            f"for other processes on a shared machine: load average {os.getloadavg()[0]:.1f})"
        )
        print(f"  idle CPU:          {cpu:.2f} % of one core over {idle:.0f} s (target < 2)")
        await fleet.stop()
        await first.stop()
    return 0


async def store_all(s: object) -> None:
    """Give every module of the fleet a saved configuration (what AT+S.WCFG leaves), written
    here without booting them (a fleet booted and stopped in this process would leave its
    freed memory in the RSS measured next)."""
    from atwifi.fleet.runtime import fleet_mac
    from atwifi.services.flash import Flash
    from atwifi.spwf04.config import Config

    def save(items: list[tuple[int, str]]) -> None:
        for i, name in items:
            config = Config(Flash(s.state / name / "flash"))  # type: ignore[attr-defined]
            config.set_factory("nv_wifi_macaddr", fleet_mac(i))
            config.save()

    names = [(i, m.name) for i, m in enumerate(s.modules)]  # type: ignore[attr-defined]
    await asyncio.gather(
        *(asyncio.to_thread(save, names[i : i + 256]) for i in range(0, len(names), 256))
    )


async def settle(fleet: object) -> None:
    for m in fleet.members.values():  # type: ignore[attr-defined]
        radio = m.device.radio
        if radio is not None:
            await radio.wait_settled()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="modules (default 1000)")
    p.add_argument("--idle", type=float, default=10.0, help="seconds of idle to measure")
    p.add_argument(
        "--stored", action="store_true", help="modules with a saved configuration (a second run)"
    )
    a = p.parse_args()
    sys.exit(asyncio.run(main(a.n, a.idle, a.stored)))
