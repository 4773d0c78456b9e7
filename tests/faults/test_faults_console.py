"""Console faults: fragmented replies, dropped and corrupted bytes (seeded)."""

from __future__ import annotations

import asyncio

from fault_helpers import boot, ctl

from atwifi.client import AsyncClient
from atwifi.trace import read_trace
from harness import ServedModule, spawn_serve, stop_serve


async def faulty_console(tmp_path, name: str = "m"):
    """A booted in-process module whose output goes through the console faults, as a
    transport's would (FaultyTransport uses the same wrap_write); chunks are recorded."""
    m, notes = await boot(tmp_path / name)
    chunks: list[bytes] = []

    def received(data: bytes) -> None:
        chunks.append(data)
        m.received(data)

    m.device.attach(m.device.faults.console.wrap_write(received))
    m.send = m.device.faults.console.wrap_feed(m.device.feed)  # type: ignore[method-assign]
    return m, notes, chunks


async def test_fragments_arrive_in_pieces(tmp_path):
    m, notes, chunks = await faulty_console(tmp_path)
    await ctl(m, "fault.console", fragment_size=4, fragment_delay_ms=1)
    chunks.clear()
    assert await m.cmd("AT+S.GCFG=console_echo") == b"AT-S.Var:console_echo=0\r\nAT-S.OK\r\n"
    assert len(chunks) > 1 and all(len(c) <= 4 for c in chunks)
    assert notes.having("fault console: fragment_size=4")
    await ctl(m, "fault.console", fragment_size=0)
    chunks.clear()
    assert await m.cmd("AT") == b"AT-S.OK\r\n"
    assert chunks == [b"AT-S.OK\r\n"]
    await m.device.shutdown()


async def corrupted_run(tmp_path, name: str, seed: int, n: int) -> bytes:
    m, notes, _ = await faulty_console(tmp_path, name)
    await ctl(m, "fault.console", corrupt_rate=0.05, seed=seed)
    for _ in range(10):
        m.send(b"AT+S.GCFG=ip_hostname\r")
    async with asyncio.timeout(20):
        while len(m.rx) < n:  # corruption keeps the length: wait for all of it
            m._more.clear()
            await m._more.wait()
    out = m.take()
    assert notes.having("corrupted of")
    # Healed: the module answers as ever.
    await ctl(m, "fault.console", corrupt_rate=0)
    assert await m.cmd("AT") == b"AT-S.OK\r\n"
    await m.device.shutdown()
    return out


async def test_corruption_is_reproducible_with_a_seed(tmp_path):
    m, _ = await boot(tmp_path / "clean")
    clean = b"".join([await m.cmd("AT+S.GCFG=ip_hostname") for _ in range(10)])
    await m.device.shutdown()
    a = await corrupted_run(tmp_path, "a", 42, len(clean))
    b = await corrupted_run(tmp_path, "b", 42, len(clean))
    c = await corrupted_run(tmp_path, "c", 43, len(clean))
    assert a == b != clean
    assert c != a
    assert len(a) == len(clean)


async def test_drop_rate_loses_bytes_and_input_faults(tmp_path):
    m, notes, _ = await faulty_console(tmp_path)
    await ctl(m, "fault.console", drop_rate=1.0, direction="in")
    m.send(b"AT\r")  # every input byte dropped: the module never sees a command
    await notes.wait("fault console in: 3 bytes dropped")
    await ctl(m, "fault.console", drop_rate=0)
    assert await m.cmd("AT") == b"AT-S.OK\r\n"
    await m.device.shutdown()


async def test_served_world_fragments_and_the_client_parses(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(
        '[[ap]]\nssid = "STTest"\n[faults]\nconsole = { fragment_size = 3, fragment_delay_ms = 1 }\n'
    )
    trace = tmp_path / "trace.jsonl"
    proc, port = spawn_serve(tmp_path / "state", "--world", str(world), "--trace", str(trace))
    try:
        m = ServedModule(proc, port)
        await m.connect()
        await m.joined()
        await m.disconnect()
        async with await AsyncClient.open(f"socket://127.0.0.1:{port}", timeout=10) as c:
            await c.set_config("ip_hostname", "fragmented")
            assert await c.get_config("ip_hostname") == "fragmented"
            reply = await c.command("AT+S.GCFG=console_echo")
            assert reply.ok
    finally:
        stop_serve(proc)
    records = read_trace(trace)
    first = next(
        i for i, r in enumerate(records) if "fault console: fragment_size=3" in r.get("text", "")
    )  # the world's faults apply from the first boot's start of parts on
    outs = [r for r in records[first:] if r["dir"] == "out"]
    assert outs and all(len(bytes.fromhex(r["hex"])) <= 3 for r in outs)


async def test_fragment_queue_is_drained_before_more_output():
    """The device waits on drain(): with fragments queued past the limit it waits until they
    are out, so a long output never piles up in memory."""
    from atwifi.services.faults.console import ConsoleFaults

    cf = ConsoleFaults()
    cf.set(fragment_size=10, fragment_delay_ms=0)
    out: list[bytes] = []
    cf.output(b"x" * 100, out.append)
    assert cf.queued == 90 and out == [b"x" * 10]
    await cf.drained(0)
    assert cf.queued == 0 and b"".join(out) == b"x" * 100 and len(out) == 10
