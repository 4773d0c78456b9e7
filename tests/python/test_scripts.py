"""AT+S.PYTHON=<file>: scripts from the volumes, the spwf04 module, the sandbox, limits."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import put
from harness import InProcessModule

OK = b"AT-S.OK\r\n"


async def test_the_shipped_default_script_runs(quiet_module):
    out = await quiet_module.cmd("AT+S.PYTHON=3:/uPython_test.py")
    assert out == b"uPython test\r\ncount 0\r\ncount 1\r\ncount 2\r\n" + OK
    assert await quiet_module.cmd("AT") == OK


async def test_a_missing_script_is_error_51(quiet_module):
    assert (
        await quiet_module.cmd("AT+S.PYTHON=/none.py") == b"AT-S.ERROR:51:Unable to open file\r\n"
    )


async def test_an_exception_prints_micropythons_traceback(quiet_module):
    m = quiet_module
    await put(m, "/bad.py", "def f():\n    return 1 // 0\nprint('before')\nf()\n")
    out = await m.cmd("AT+S.PYTHON=/bad.py")
    assert out == (
        b"before\r\nTraceback (most recent call last):\r\n"
        b'  File "/bad.py", line 4, in <module>\r\n'
        b'  File "/bad.py", line 2, in f\r\n'
        b"ZeroDivisionError: divide by zero\r\n" + OK
    )
    await put(m, "/syn.py", "if x\n")
    out = await m.cmd("AT+S.PYTHON=/syn.py")
    assert b"SyntaxError: invalid syntax\r\n" in out and out.endswith(OK)


async def test_it_is_micropython_not_cpython(quiet_module):
    m = quiet_module
    await put(m, "/v.py", "import sys\nprint(sys.implementation.name)\n")
    assert await m.cmd("AT+S.PYTHON=/v.py") == b"micropython\r\n" + OK


async def test_a_script_runs_at_commands_and_reads_files(quiet_module):
    m = quiet_module
    await put(m, "/data.txt", "line one\nline two\n")
    await put(
        m,
        "/fs.py",
        "import spwf04\n"
        "print(spwf04.open('/data.txt').read().split('\\n')[1])\n"
        "f = spwf04.open('/out.txt', 'w')\n"
        "f.write('written by a script')\n"
        "f.close()\n"
        "print([s for n, s in spwf04.listdir() if n.endswith('out.txt')])\n"
        "print(spwf04.at('AT+S.STS=wifi_state'))\n"
        "print(spwf04.gcfg('console_errs'))\n"
        "try:\n"
        "    spwf04.at('AT+S.FSD=/nothing')\n"
        "except spwf04.ATError as e:\n"
        "    print('error', e.args[0])\n",
    )
    out = await m.cmd("AT+S.PYTHON=/fs.py")
    assert out.startswith(b"line two\r\n[19]\r\n['AT-S.Var:wifi_state="), out
    assert out.endswith(b"2\r\nerror 56\r\n" + OK), out
    assert await m.cmd("AT+S.FSP=/out.txt") == (b"AT-S.Reading:19:19\r\nwritten by a script" + OK)


async def test_a_script_talks_to_a_local_server_through_the_module_sockets(quiet_module):
    got: list[bytes] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.readexactly(5)
        got.append(data)
        writer.write(data.upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await put(
            quiet_module,
            "/net.py",
            "import spwf04\n"
            f"s = spwf04.socket('127.0.0.1', {port})\n"
            "s.send(b'hello')\n"
            "print(s.recv(5))\n"
            "s.close()\n",
        )
        out = await quiet_module.cmd("AT+S.PYTHON=/net.py")
        assert out == b"b'HELLO'\r\n" + OK
        assert got == [b"hello"]
    finally:
        server.close()
        await server.wait_closed()


async def test_escape_attempts_are_refused(quiet_module):
    m = quiet_module
    await put(
        m,
        "/escape.py",
        "try:\n"
        "    open('/etc/passwd')\n"
        "    print('host file read')\n"
        "except OSError as e:\n"
        "    print('open refused')\n"
        "import os\n"
        "try:\n"
        "    print(os.listdir('/'))\n"
        "except OSError:\n"
        "    print('no host folder')\n"
        "for name in ('socket', 'ffi', 'subprocess', '_thread'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "        print('imported', name)\n"
        "    except ImportError:\n"
        "        print('no', name)\n"
        "import spwf04\n"
        "try:\n"
        "    spwf04.socket('203.0.113.9', 80)\n"
        "    print('connected outside')\n"
        "except spwf04.ATError as e:\n"
        "    print('policy', e.args[0])\n",
    )
    out = await m.cmd("AT+S.PYTHON=/escape.py")
    lines = out.split(b"\r\n")
    assert lines[:6] == [
        b"open refused",
        b"no host folder",
        b"no socket",
        b"no ffi",
        b"no subprocess",
        b"no _thread",
    ], out
    assert lines[6].startswith(b"policy "), out
    assert out.endswith(OK)
    assert await m.cmd("AT") == OK


async def test_the_heap_limit_gives_memory_error_and_the_module_goes_on(quiet_module):
    m = quiet_module
    await put(m, "/big.py", "b = bytearray(48 * 1024)\nprint('allocated')\n")
    assert await m.cmd("AT+S.SCFG=python_memsize,32") == OK
    out = await m.cmd("AT+S.PYTHON=/big.py")
    assert b"MemoryError: memory allocation failed" in out and out.endswith(OK), out
    assert b"allocated" not in out
    assert await m.cmd("AT+S.SCFG=python_memsize,128") == OK
    assert await m.cmd("AT+S.PYTHON=/big.py") == b"allocated\r\n" + OK
    assert await m.cmd("AT") == OK


async def test_ctrl_c_interrupts_a_sleeping_script(quiet_module):
    m = quiet_module
    await put(m, "/loop.py", "import time\nprint('started')\nwhile True:\n    time.sleep_ms(5)\n")
    m.send(b"AT+S.PYTHON=/loop.py\r")
    await m.read_until(b"started\r\n")
    m.send(b"\x03")
    out = await m.reply()
    # Where the Ctrl-C lands: the sleep (line 4), or the print if it came that early.
    assert re.fullmatch(
        rb'Traceback \(most recent call last\):\r\n  File "/loop.py", line [24], in <module>\r\n'
        rb"KeyboardInterrupt: \r\nAT-S.OK\r\n",
        out,
    ), out
    assert await m.cmd("AT") == OK


async def test_ctrl_c_stops_a_busy_loop_that_makes_no_call(quiet_module, engine):
    m = quiet_module
    await put(m, "/spin.py", "print('spinning')\nwhile True:\n    pass\n")
    m.send(b"AT+S.PYTHON=/spin.py\r")
    await m.read_until(b"spinning\r\n")
    m.send(b"\x03")
    if engine == "native":  # SIGINT: a real KeyboardInterrupt, MicroPython's traceback
        out = await m.reply()
        assert re.fullmatch(
            rb'Traceback \(most recent call last\):\r\n  File "/spin.py", line [23], in '
            rb"<module>\r\nKeyboardInterrupt: \r\nAT-S.OK\r\n",
            out,
        ), out
    else:
        assert await m.reply() == b"\r\nKeyboardInterrupt: \r\n" + OK
    assert await m.cmd("AT") == OK


async def test_the_repl_needs_console_enabled_2(quiet_module):
    assert await quiet_module.cmd("AT+S.PYTHON") == (
        b"AT-S.ERROR:16:Cannot switch to Python shell\r\n"
    )


async def test_a_script_cannot_start_another(quiet_module):
    m = quiet_module
    await put(
        m,
        "/nest.py",
        "import spwf04\ntry:\n    spwf04.at('AT+S.PYTHON=/nest.py')\n"
        "except spwf04.ATError as e:\n    print(e.args[0])\n",
    )
    assert await m.cmd("AT+S.PYTHON=/nest.py") == b"16\r\n" + OK


async def test_the_watchdog_stops_a_runaway_script(tmp_path):
    m = InProcessModule(tmp_path / "state", python_watchdog=0.2)
    await m.boot()
    try:
        await put(m, "/spin.py", "while True:\n    pass\n")
        assert (await m.cmd("AT+S.PYTHON=/spin.py")).endswith(OK)
        assert (await m.cmd("AT")).endswith(OK)
    finally:
        await m.device.shutdown()


def test_booting_the_module_does_not_import_the_interpreter(tmp_path):
    code = (
        "import asyncio, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from pathlib import Path\n"
        "from harness import InProcessModule\n"
        "async def main():\n"
        f"    m = InProcessModule(Path({str(tmp_path)!r}) / 's')\n"
        "    await m.boot()\n"
        "    await m.device.shutdown()\n"
        "asyncio.run(main())\n"
        "print('wasmtime' in sys.modules, 'atwifi.services.micropython' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
    )
    assert out.stdout.strip() == "False False", (out.stdout, out.stderr)


async def test_bad_input_from_a_script_gets_the_modules_errors(quiet_module):
    m = quiet_module
    await put(
        m,
        "/bad_at.py",
        "import spwf04\n"
        "for cmd in ('AT+S.NOPE', 'AT+S.SOCKQ=99', 'AT+S.SCFG=console_echo,7x'):\n"
        "    try:\n"
        "        spwf04.at(cmd)\n"
        "    except spwf04.ATError as e:\n"
        "        print(e.args[0])\n"
        "try:\n"
        "    spwf04.at('AT+S.FSC=1:/x,10', b'short')\n"
        "except ValueError as e:\n"
        "    print('lying length refused')\n"
        "try:\n"
        "    spwf04.at('HELLO')\n"
        "except ValueError:\n"
        "    print('not an AT command')\n",
    )
    out = await m.cmd("AT+S.PYTHON=/bad_at.py")
    assert out == b"1\r\n76\r\n8\r\nlying length refused\r\nnot an AT command\r\n" + OK, out
    assert await m.cmd("AT") == OK


async def test_a_script_that_is_not_text_or_not_python(quiet_module):
    m = quiet_module
    data = b"\xff\xfe\x00print(1)\n"
    assert (await m.cmd(f"AT+S.FSC=/bin.py,{len(data)}", data)).endswith(OK)
    out = await m.cmd("AT+S.PYTHON=/bin.py")
    assert b"SyntaxError" in out and out.endswith(OK), out
    assert await m.cmd("AT+S.PYTHON=" + "n" * 80) != OK  # over the name's limit
    assert await m.cmd("AT") == OK


async def test_long_output_streams_to_the_console(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=python_memsize,128") == OK  # a print costs its text 3 times
    await put(m, "/flood.py", "s = 'x' * 1000\nfor i in range(30):\n    print(s)\n")
    out = await m.cmd("AT+S.PYTHON=/flood.py")
    assert out == (b"x" * 1000 + b"\r\n") * 30 + OK


async def test_input_reads_a_line_from_the_console(quiet_module):
    m = quiet_module
    await put(m, "/ask.py", "name = input('name? ')\nprint('hi', name)\n")
    m.send(b"AT+S.PYTHON=/ask.py\r")
    assert await m.read_until(b"name? ") == b"name? "
    m.send(b"bob\r")
    assert await m.reply() == b"bob\r\nhi bob\r\n" + OK
    m.send(b"AT+S.PYTHON=/ask.py\r")
    await m.read_until(b"name? ")
    m.send(b"\x03")
    out = await m.reply()
    assert out.endswith(b"KeyboardInterrupt: \r\n" + OK), out


async def test_long_answers_and_a_long_script(quiet_module):
    m = quiet_module
    assert await m.cmd("AT+S.SCFG=python_memsize,128") == OK
    body = "".join(f"v{i} = 'é{i}\\x04'\n" for i in range(400))  # 7 KB, escapes in JSON
    await put(
        m,
        "/long.py",
        body + "import spwf04\nlines = spwf04.at('AT+S.GCFG')\n"
        "print(len(lines) > 50, v399, lines[0][:9])\n",
    )
    out = await m.cmd("AT+S.PYTHON=/long.py")
    assert out == "True é399\x04 AT-S.Var:\r\n".encode() + OK, out


async def test_the_client_runs_a_script(tmp_path):
    from atwifi.client import AsyncClient
    from spi_consoles import TIMEOUT, TwoConsoles

    m = TwoConsoles(tmp_path)
    await m.start()
    try:
        async with await AsyncClient.open(m.uart_url, timeout=TIMEOUT) as c:
            assert await c.run_script("3:/uPython_test.py") == (
                b"uPython test\r\ncount 0\r\ncount 1\r\ncount 2\r\n"
            )
    finally:
        await m.stop()
