"""The native engine only (the unix port in bwrap): a collector that works, a Ctrl-C that
interrupts a loop with no call, the sandbox's walls."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from conftest import put

OK = b"AT-S.OK\r\n"


# conftest's engine fixture, given the native engine alone (it skips where bwrap cannot run).
pytestmark = pytest.mark.parametrize("engine", ["native"], indirect=True)


async def test_a_long_loop_runs_in_the_factory_heap(quiet_module, engine):
    # 20,000 iterations, every one allocating, one in ten printing and running an AT command:
    # the WASI build (no collector) gets about 150 prints or calls in these 32 KiB.
    m = quiet_module
    await put(
        m,
        "/long.py",
        "import spwf04, gc\n"
        "n = 0\n"
        "for i in range(20000):\n"
        "    l = [i] * 8\n"
        "    s = 'n%d' % i\n"
        "    if i % 10 == 0:\n"
        "        spwf04.at('AT')\n"
        "        print(s)\n"
        "        n += 1\n"
        "gc.collect()\n"
        "print('done', n, gc.mem_free() > 16000)\n",
    )
    m.send(b"AT+S.PYTHON=/long.py\r")
    out = await m.read_until(b"done 2000 True\r\n" + OK, timeout=60)
    assert b"n19990\r\n" in out
    assert await m.cmd("AT") == OK


async def test_holding_more_than_python_memsize_is_memory_error(quiet_module, engine):
    m = quiet_module
    await put(
        m,
        "/hold.py",
        "keep = []\nfor i in range(40):\n    keep.append(bytearray(1024))\nprint('held', len(keep))\n",
    )
    assert await m.cmd("AT+S.SCFG=python_memsize,16") == OK
    out = await m.cmd("AT+S.PYTHON=/hold.py")
    assert b"MemoryError: memory allocation failed" in out and out.endswith(OK), out
    assert b"held" not in out
    assert await m.cmd("AT+S.SCFG=python_memsize,64") == OK
    assert await m.cmd("AT+S.PYTHON=/hold.py") == b"held 40\r\n" + OK
    assert await m.cmd("AT") == OK


async def test_gc_collect_is_real(quiet_module, engine):
    m = quiet_module
    await put(
        m,
        "/gc.py",
        "import gc\ngc.collect()\na = gc.mem_free()\nx = [bytearray(100) for i in range(50)]\n"
        "x = None\ngc.collect()\nprint(gc.mem_free() >= a - 512)\n",
    )
    assert await m.cmd("AT+S.PYTHON=/gc.py") == b"True\r\n" + OK


async def test_ctrl_c_interrupts_a_compute_loop_with_a_traceback(quiet_module, engine):
    m = quiet_module
    await put(m, "/calc.py", "print('go')\nx = 0\nwhile True:\n    x += 1\n")
    m.send(b"AT+S.PYTHON=/calc.py\r")
    await m.read_until(b"go\r\n")
    m.send(b"\x03")
    out = await m.reply()
    assert out.startswith(b"Traceback (most recent call last):\r\n"), out
    assert out.endswith(b"KeyboardInterrupt: \r\n" + OK), out
    assert await m.cmd("AT") == OK


async def test_more_escape_attempts_are_refused(quiet_module, engine):
    m = quiet_module
    await put(
        m,
        "/esc.py",
        "import os\n"
        "for f in (lambda: os.listdir('/'), lambda: os.system('id'), lambda: os.getenv('HOME')):\n"
        "    try:\n"
        "        f()\n"
        "        print('reached')\n"
        "    except OSError:\n"
        "        print('refused')\n"
        "for name in ('usocket', 'select', 'termios', 'uctypes', 'vfs'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "        print('imported', name)\n"
        "    except ImportError:\n"
        "        print('no', name)\n"
        "try:\n"
        "    open('/etc/passwd').read()\n"
        "except OSError:\n"
        "    print('no passwd')\n"
        "import builtins, io\n"
        "for f in (lambda: builtins.open('/etc/ld.so.cache'), lambda: io.open(3, 'wb'),\n"
        "          lambda: builtins.__import__('socket')):\n"
        "    try:\n"
        "        f()\n"
        "        print('reached')\n"
        "    except (OSError, ImportError):\n"
        "        print('refused')\n",
    )
    out = await m.cmd("AT+S.PYTHON=/esc.py")
    assert out == (
        b"refused\r\nrefused\r\nrefused\r\n"
        b"no usocket\r\nno select\r\nno termios\r\nno uctypes\r\nno vfs\r\n"
        b"no passwd\r\nrefused\r\nrefused\r\nrefused\r\n" + OK
    ), out


async def test_the_sandbox_itself_has_no_network_and_no_host_files(engine):
    # Below the driver's import guard: the unix port's own socket and os in the bare sandbox
    # (bwrap: only lo in a namespace of its own, an empty root) reach nothing of the host.
    from atwifi.services.micropython import native

    hits: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(b"x")
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    code = (
        "import socket, os\n"
        "try:\n"
        "    s = socket.socket()\n"
        f"    s.connect(socket.getaddrinfo('127.0.0.1', {port})[0][-1])\n"
        "    print('connected')\n"
        "except OSError as e:\n"
        "    print('refused')\n"
        "print(sorted(os.listdir('/')))\n"
        "for p in ('/etc/passwd', '/home', '/root/.ssh', '/proc/1/environ'):\n"
        "    try:\n"
        "        open(p).read()\n"
        "        print('read', p)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    try:
        p = await asyncio.to_thread(
            subprocess.run,
            [*native.sandbox_argv(), str(64 * 1024), code],
            capture_output=True,
            timeout=20,
        )
    finally:
        server.close()
        await server.wait_closed()
    lines = p.stdout.decode().splitlines()
    assert lines[0] == "refused", p
    assert not hits
    assert "home" not in lines[1] and "proc" not in lines[1], lines
    assert not [x for x in lines if x.startswith("read ")], lines


async def test_a_native_vm_that_cannot_start_falls_back_to_wasm(quiet_module, engine, monkeypatch):
    from atwifi.services.micropython import native

    monkeypatch.setattr(native, "_probe", (True, "as probed"))  # restored after the test
    monkeypatch.setattr(native, "sandbox_argv", lambda: ["/bin/false", "--"])
    m = quiet_module
    await put(m, "/hi.py", "print('hi')\n")
    assert await m.cmd("AT+S.PYTHON=/hi.py") == b"hi\r\n" + OK
    assert m.device.python.last_engine == "wasm"
    assert native.available()[0] is False


async def test_the_option_forces_the_wasm_engine(tmp_path, engine):
    from harness import InProcessModule

    m = InProcessModule(tmp_path / "state", python_engine="wasm")
    await m.boot()
    try:
        await put(m, "/hi.py", "print('hi')\n")
        assert (await m.cmd("AT+S.PYTHON=/hi.py")).endswith(b"hi\r\n" + OK)
        assert m.device.python.last_engine == "wasm"
    finally:
        await m.device.shutdown()
