"""AT+S.PYTHON alone: MicroPython's friendly REPL, raw REPL and raw-paste mode on the UART,
typed through the console's bytes (console_enabled=2)."""

from __future__ import annotations

import re

OK = b"AT-S.OK\r\n"
BANNER = re.compile(
    rb"MicroPython v1\.[^\r\n]+; SPWF04Sx with (?:WASI|unix) \(atwifi\)\r\n"
    rb'Type "help\(\)" for more information\.\r\n>>> '
)
RAW = b"raw REPL; CTRL-B to exit\r\n>"


async def enter(m) -> None:
    m.send(b"AT+S.PYTHON\r")
    out = await m.read_until(b">>> ")
    assert BANNER.fullmatch(out), out


async def leave(m) -> None:
    """Ctrl-D at the prompt: the REPL ends and the AT console answers its AT+S.PYTHON."""
    m.send(b"\x04")
    assert await m.reply() == b"\r\n" + OK


async def test_the_friendly_repl_evaluates_and_echoes(repl_module):
    m = repl_module
    await enter(m)
    m.send(b"1+1\r")
    assert await m.read_until(b">>> ") == b"1+1\r\n2\r\n>>> "
    # auto-indent: 4 spaces after a colon, kept on the next line; an empty line ends the block
    m.send(b"for i in range(2):\r")
    assert await m.read_until(b"...     ") == b"for i in range(2):\r\n...     "
    m.send(b"print(i)\r")
    assert await m.read_until(b"...     ") == b"print(i)\r\n...     "
    m.send(b"\r")
    assert await m.read_until(b">>> ") == b"\r\n0\r\n1\r\n>>> "
    m.send(b"if 1:\rif 2:\rprint('deep')\r\x08\x08\x08\x08\x08\x08\x08\x08\r")
    out = await m.read_until(b"deep\r\n>>> ")
    assert out.startswith(b"if 1:\r\n...     if 2:\r\n...         print('deep')\r\n"), out
    m.send(b"x = 7\rx * 6\r")
    assert await m.read_until(b"42\r\n>>> ") == b"x = 7\r\n>>> x * 6\r\n42\r\n>>> "
    m.send(b"nope\r")
    assert await m.read_until(b">>> ") == (
        b"nope\r\nTraceback (most recent call last):\r\n"
        b'  File "<stdin>", line 1, in <module>\r\n'
        b"NameError: name 'nope' isn't defined\r\n>>> "
    )
    m.send(b"ab\x7fc\r")  # backspace
    assert await m.read_until(b">>> ") == (
        b"ab\x08 \x08c\r\nTraceback (most recent call last):\r\n"
        b'  File "<stdin>", line 1, in <module>\r\n'
        b"NameError: name 'ac' isn't defined\r\n>>> "
    )
    m.send(b"\x1b[A\x1b[A\x1b[3~\r")  # up twice (history), Delete ignored, Enter
    assert await m.read_until(b">>> ") == (
        b"\x1b[Kac\x08\x08\x1b[Knope\r\nTraceback (most recent call last):\r\n"
        b'  File "<stdin>", line 1, in <module>\r\n'
        b"NameError: name 'nope' isn't defined\r\n>>> "
    )
    m.send(b"\x03")  # Ctrl-C at the prompt: a new line
    assert await m.read_until(b">>> ") == b"\r\n>>> "
    await leave(m)  # back to the AT console
    assert await m.cmd("AT") == OK


async def test_the_repl_uses_the_module_api_and_ctrl_c_interrupts(repl_module):
    m = repl_module
    await enter(m)
    m.send(b"import spwf04, time\r")
    await m.read_until(b">>> ")
    m.send(b"spwf04.gcfg('console_enabled')\r")
    assert await m.read_until(b">>> ") == b"spwf04.gcfg('console_enabled')\r\n'2'\r\n>>> "
    m.send(b"while True: time.sleep_ms(5)\r\r")
    await m.read_until(b"... ")
    await m.read_until(b"\r\n")  # the empty line's echo: the loop runs
    m.send(b"\x03")
    assert await m.read_until(b">>> ") == (
        b"Traceback (most recent call last):\r\n"
        b'  File "<stdin>", line 1, in <module>\r\n'
        b"KeyboardInterrupt: \r\n>>> "
    )
    await leave(m)


async def test_paste_mode(repl_module):
    m = repl_module
    await enter(m)
    m.send(b"\x05")
    assert await m.read_until(b"=== ") == (
        b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "
    )
    m.send(b"def f():\r    return 5\rprint(f())\r\x04")
    out = await m.read_until(b">>> ")
    assert out.endswith(b"print(f())\r\n=== \r\n5\r\n>>> "), out
    await leave(m)


async def test_the_raw_repl_as_pyboard_drives_it(repl_module):
    m = repl_module
    await enter(m)
    # mpremote's enter_raw_repl: interrupt, Ctrl-A, then a soft reset.
    m.send(b"\r\x03")
    await m.read_until(b"\r\n>>> \r\n>>> ")
    m.send(b"\r\x01")
    assert await m.read_until(RAW) == b"\r\n>>> \r\n" + RAW
    m.send(b"\x04")
    assert await m.read_until(RAW) == b"OK\r\nMPY: soft reboot\r\n" + RAW
    m.send(b"print(1)\x04")
    assert await m.read_until(b"\x04>") == b"OK1\r\n\x04\x04>"
    m.send(b"1/0\x04")
    assert await m.read_until(b"\x04>") == (
        b"OK\x04Traceback (most recent call last):\r\n"
        b'  File "<stdin>", line 1, in <module>\r\n'
        b"ZeroDivisionError: divide by zero\r\n\x04>"
    )
    # raw-paste mode: a 256-byte window, \x01 when another may be sent
    m.send(b"\x05A\x01")
    assert await m.read_exactly(4) == b"R\x01\x00\x01"
    code = b"x = '" + b"a" * 300 + b"'\rprint(len(x))"
    m.send(code[:256])
    assert await m.read_exactly(1) == b"\x01"
    m.send(code[256:] + b"\x04")
    assert await m.read_until(b"\x04>") == b"\x04300\r\n\x04\x04>"
    m.send(b"\r\x02")  # Ctrl-B: the friendly REPL
    out = await m.read_until(b">>> ")
    assert out.startswith(b"\r\nMicroPython v1."), out
    await leave(m)


async def test_the_raw_repl_soft_reset_gives_a_fresh_heap(repl_module, engine):
    m = repl_module
    await enter(m)
    m.send(b"\x01")
    await m.read_until(RAW)
    # wasm: 3 x 200 KB, more than the REPL's heap holds, but each soft reset starts a new one.
    # native: python_memsize is the heap (it collects): 3 x 20 KB.
    size = b"20000" if engine == "native" else b"200000"
    for _ in range(3):
        m.send(b"big = bytearray(" + size + b")\x04")
        assert await m.read_until(b"\x04>") == b"OK\x04\x04>"
        m.send(b"\x04")
        await m.read_until(RAW)
    m.send(b"print('big' in globals())\x04")
    assert await m.read_until(b"\x04>") == b"OKFalse\r\n\x04\x04>"
    m.send(b"\x02")
    await m.read_until(b">>> ")
    await leave(m)


async def test_ctrl_c_on_a_busy_loop_in_the_repl_starts_it_again(repl_module, engine):
    m = repl_module
    await enter(m)
    m.send(b"x = 5\r")
    await m.read_until(b">>> ")
    m.send(b"while True: pass\r\r")
    await m.read_until(b"... ")
    await m.read_until(b"\r\n")
    m.send(b"\x03")
    if engine == "native":
        # SIGINT: MicroPython's KeyboardInterrupt, its traceback; the session goes on.
        assert await m.read_until(b">>> ") == (
            b'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n'
            b"KeyboardInterrupt: \r\n>>> "
        )
        m.send(b"x\r")
        assert await m.read_until(b">>> ") == b"x\r\n5\r\n>>> "
    else:
        # No call into the module: the instance is ended and the REPL starts again (a new heap).
        assert await m.read_until(b">>> ") == b"\r\nKeyboardInterrupt: \r\n>>> "
    m.send(b"1+2\r")
    assert await m.read_until(b">>> ") == b"1+2\r\n3\r\n>>> "
    await leave(m)
