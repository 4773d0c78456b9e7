"""The MicroPython side: the driver the WASI interpreter runs (as ``micropython -c``).

It asks the host what to run (``host.call("boot")``): a script's source, or the REPL. The
REPL is MicroPython's, rebuilt in MicroPython because the WASI build has only ``_start``:
pyexec's friendly REPL (banner, ``>>> `` / ``... `` prompts, echo, paste mode), its raw REPL
(Ctrl-A; ``OK<stdout>\\x04<stderr>\\x04>``; Ctrl-B leaves; Ctrl-D on an empty line soft-resets)
and raw-paste mode (Ctrl-A Ctrl-E: ``R\\x01``, a 256-byte window, ``\\x01`` per window),
byte for byte as shared/runtime/pyexec.c sends them, so mpremote and pyboard.py work.

Every traceback is MicroPython's own (``sys.print_exception``), less the driver's frames.
(The driver runs as ``-c``, not compiled from a string under a name of its own: exec of
compiled code nested in ``-c`` hits "FATAL: uncaught NLR" in this build.)
A dialect adds its module(s) with ``boot["prelude"]``: MicroPython source run first.
"""

DRIVER_BODY = r"""
import sys, host, json, gc, io, builtins
_NATIVE = getattr(host, "native", False)  # the unix port in a sandbox (its GC works)

class _Gc:
    pass

if not _NATIVE:
    gc.disable()  # see session.py: a collection in the WASI build frees live objects
    _gc = _Gc()
    for _n in dir(gc):
        if not _n.startswith("__"):
            setattr(_gc, _n, getattr(gc, _n))
    _gc.collect = lambda: 0
    _gc.enable = lambda: None
    _gc.__name__ = "gc"
    sys.modules["gc"] = _gc

_loads = json.loads
_dumps = json.dumps
_hcall = host.call
_EXC = {"OSError": OSError, "ValueError": ValueError, "TypeError": TypeError,
        "MemoryError": MemoryError, "RuntimeError": RuntimeError}

def _call(name, *args):
    r = _loads(_hcall(name, _dumps(args)))
    if "c" in r:  # a long answer: its JSON text in pieces
        parts = []
        for i in range(r["c"]):
            parts.append(_hcall("_chunk", "[%d]" % i))
        r = _loads("".join(parts))
        parts = None
    if "k" in r:
        raise KeyboardInterrupt
    x = r.get("x")
    if x:
        n = r.get("n")
        cls = _EXC.get(x)
        if cls is None:
            cls = _ERRORS.get(x, OSError)
        if n is not None:
            raise cls(n, r.get("m"))
        raise cls(r.get("m"))
    return r.get("v")

_ERRORS = {}
_BOOT = _call("boot")

def _w(s):
    # All output goes through the bridge: the host gives the guest no stdout (session.py).
    _hcall("w", _dumps((s,)))

def _repl_print(obj):
    if obj is not None:
        _w(repr(obj) + "\n")

builtins.__repl_print__ = _repl_print

def _help(obj=None):
    if obj is None:
        _w("Welcome to MicroPython on the SPWF04Sx (atwifi)!\n\n"
           "The module's own calls: import spwf04; help(spwf04)\n"
           "Control commands:\n  CTRL-A on a blank line, enter raw REPL mode\n"
           "  CTRL-B on a blank line, enter normal REPL mode\n"
           "  CTRL-C interrupt a running program\n"
           "  CTRL-D on a blank line, leave the REPL (back to the AT console)\n"
           "  CTRL-E on a blank line, enter paste mode\n")
        return
    _w("object %r is of type %s\n" % (obj, type(obj).__name__))
    for n in dir(obj):
        if not n.startswith("_"):
            _w("  %s -- %r\n" % (n, getattr(obj, n)))

builtins.help = _help

def _print(*args, sep=" ", end="\n", file=None):
    parts = []  # no comprehension: its frame would be "<listcomp>" in a traceback
    for a in args:
        parts.append(a if type(a) is str else str(a))
    s = sep.join(parts) + end
    if file is not None:
        file.write(s)
    else:
        _call("out", s)

_OURS = ("_run_source", "_exec_eof", "_print", "_call", "_w", "_main", "_fetch", "call",
         "_wall", "_rall", "_user", "_input", "_readline", "_getc", "_fill", "_refuse", "_open")

def _tb(e, out=None):
    try:
        s = io.StringIO()
        sys.print_exception(e, s)
        text = s.getvalue()
    except MemoryError:
        _w("MemoryError: no memory left for the traceback\n")
        return
    if "<stdin>" in text or '  File "spwf04"' in text:
        # The driver's frames go (it runs as -c, "<stdin>" too: known by function name);
        # the spwf04 module's too for a Ctrl-C (the script's line is where it was).
        kbd = isinstance(e, KeyboardInterrupt)
        keep = []
        for l in text.split("\n"):
            if l.startswith('  File "<stdin>"') and l[l.rfind(" ") + 1 :] in _OURS:
                continue
            if kbd and l.startswith('  File "spwf04"'):
                continue
            keep.append(l)
        text = "\n".join(keep)
    if out is None:
        _w(text)
    else:
        out.append(text)

def _fresh():
    return {"__name__": "__main__"}

def _fetch(what):
    # the text in raw pieces: no JSON copy of it on the heap
    parts = []
    n = 0
    while True:
        piece = _hcall("_text", '["%s",%d]' % (what, n))
        if not piece:
            break
        parts.append(piece)
        n += len(piece)
    return "".join(parts)

def _exec_pieces(text, name, g):
    # The native heap is small and collects: a long text is compiled a few top-level
    # statements at a time (cut before a "def"/"class" line; blank lines keep the numbers).
    i = 0
    line = 0
    n = len(text)
    while i < n:
        j = n
        for key in ("\ndef ", "\nclass "):
            k = text.find(key, i + 2048)
            if 0 <= k < j:
                j = k + 1
        piece = text[i:j]
        code = compile("\n" * line + piece, name, "exec")
        line += piece.count("\n")
        piece = None
        exec(code, g)
        code = None
        gc.collect()
        i = j

if _BOOT.get("prelude"):
    _pg = {"_call": _call, "_ERRORS": _ERRORS, "__name__": "spwf04_prelude"}
    if _NATIVE:
        _exec_pieces(_fetch("prelude"), "spwf04", _pg)
    else:
        exec(compile(_fetch("prelude"), "spwf04", "exec"), _pg)
    _pg = None
builtins.print = _print

if _NATIVE:
    # Defence in depth (the sandbox is the wall): the unix port's ways to the host are not
    # importable, ``os`` is a stub whose calls fail, and ``open`` is the module's volumes.
    _imp0 = builtins.__import__
    _NO = ("socket", "usocket", "ffi", "select", "uselect", "termios", "_thread", "vfs",
           "uctypes", "subprocess", "machine", "mip", "network")

    def _refuse(*a, **k):
        raise OSError(1, "no host system here")

    _os = _Gc()
    for _n in ("listdir", "ilistdir", "stat", "statvfs", "remove", "unlink", "rename",
               "mkdir", "rmdir", "getcwd", "chdir", "system", "getenv", "putenv", "unsetenv",
               "mount", "umount", "dupterm", "uname", "urandom", "errno"):
        setattr(_os, _n, _refuse)
    _os.sep = "/"
    _os.__name__ = "os"

    _io = _Gc()  # io without its open of the sandbox's files and pipes (fds): the volumes'
    for _n in ("BytesIO", "StringIO", "IOBase"):
        setattr(_io, _n, getattr(io, _n))
    _io.__name__ = "io"

    def _import(name, *a):
        top = name.split(".")[0]
        if top in ("os", "uos"):
            return _os
        if top in ("io", "uio"):
            return _io
        if top == "builtins":
            return _bi
        if top in _NO:
            raise ImportError("no module named '%s'" % name)
        return _imp0(name, *a)

    builtins.__import__ = _import
    # (reading builtins.open back gives the port's own: the override is a dict of its own)
    _vol_open = sys.modules["spwf04"].open if "spwf04" in sys.modules else _refuse

    def _open(name, mode="r", *a, **k):
        if not isinstance(name, str):  # a file descriptor: the bridge's pipes are not theirs
            raise OSError(9, "no such file descriptor here")
        return _vol_open(name, mode)

    builtins.open = _open
    _io.open = _open
    _open = None

# Room for the traceback and the answer after a MemoryError. No collector runs, but a list
# that shrinks gives its tail back to the heap (list.clear: m_renew, gc_realloc frees it).
_RESERVE = 256 if _NATIVE else 2048  # native: the collector gives the rest back
_reserve = [None] * _RESERVE

def _spare():
    _reserve.clear()

def _rearm():
    try:
        _reserve.extend([None] * _RESERVE) if not _reserve else None
    except MemoryError:
        pass

def _user(on):
    # The native engine: the host is told when a script's code runs (a Ctrl-C is then a
    # SIGINT to the VM; otherwise a character or the next host call's KeyboardInterrupt).
    if _NATIVE:
        try:
            _hcall("_run", "[1]" if on else "[0]")
        except KeyboardInterrupt:
            pass

def _run_source(src, name, g, mode="exec"):
    try:
        code = compile(src, name, mode)
        _user(1)
        exec(code, g)
        _user(0)
        return 0
    except SystemExit:
        _user(0)
        return 0
    except BaseException as e:
        _user(0)
        if isinstance(e, MemoryError):
            _spare()
        _tb(e)
        _rearm()
        return 1

# -- console input ----------------------------------------------------------------------
# No collector runs (session.py), so input is not sliced per character: a chunk and an index.
_inbuf = ["", 0]

def _fill():
    while _inbuf[1] >= len(_inbuf[0]):
        _inbuf[0] = _call("read", 256)
        _inbuf[1] = 0

def _getc():
    _fill()
    i = _inbuf[1]
    _inbuf[1] = i + 1
    return _inbuf[0][i]

def _take_text(limit):
    # The plain text (no control character but CR/LF/TAB) waiting in the chunk, at most limit.
    _fill()
    b = _inbuf[0]
    i = j = _inbuf[1]
    n = min(len(b), i + limit)
    while j < n:
        o = ord(b[j])
        if o < 32 and o not in (9, 10, 13):
            break
        j += 1
    _inbuf[1] = j
    return b[i:j]

# -- the friendly REPL --------------------------------------------------------------------
_KW = ("if ", "while ", "for ", "def ", "class ", "try", "with ", "@", "async ", "elif ",
       "else", "except", "finally", "match ")

def _continues(src):
    depth = 0
    q = None
    i = 0
    n = len(src)
    while i < n:
        c = src[i]
        if q:
            if c == "\\":
                i += 2
                continue
            if src[i:i + len(q)] == q:
                i += len(q)
                q = None
                continue
            if len(q) == 1 and c == "\n":
                q = None
            i += 1
            continue
        if c == "#":
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "'" or c == '"':
            if src[i:i + 3] == c * 3:
                q = c * 3
                i += 3
            else:
                q = c
                i += 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    if q is not None and len(q) == 3:
        return True
    if depth > 0 or src.endswith("\\"):
        return True
    lines = src.split("\n")
    first = lines[0].lstrip()
    compound = first.rstrip().endswith(":")
    for k in _KW:
        if first.startswith(k):
            compound = True
    # as mp_repl_continue_with_input: a compound statement goes on until an empty line
    return compound and lines[-1].strip() != ""

def _banner():
    v = sys.version.split("; ", 1)[-1]
    if not v.startswith("MicroPython v"):  # a preview build: "MicroPython <hash> on <date>"
        w = v.split(" ")
        ver = sys.implementation.version
        v = "MicroPython v%d.%d.%d-preview.g%s %s" % (ver[0], ver[1], ver[2], w[1],
                                                      " ".join(w[2:]))
    port = "unix" if _NATIVE else "WASI"
    _w("%s; SPWF04Sx with %s (atwifi)\r\nType \"help()\" for more information.\r\n" % (v, port))

_hist = []  # the last 8 lines entered (up / down arrows), as MicroPython's readline

def _readline(prompt, indent=0):
    # pyexec's readline: echo, backspace, history, Ctrl-A/B/C/D/E on their own; ``indent``
    # spaces already typed (MicroPython's auto-indent).
    _w(prompt + " " * indent)
    buf = [" "] * indent
    esc = 0
    h = len(_hist)
    while True:
        c = _getc()
        o = ord(c)
        if esc == 1:  # after ESC
            esc = 2 if c == "[" else 0
            continue
        if esc == 2:  # after ESC [
            esc = 3 if "0" <= c <= "9" else 0
            if c in "AB" and _hist:
                h = max(0, h - 1) if c == "A" else min(len(_hist), h + 1)
                new = _hist[h] if h < len(_hist) else ""
                _w("\x08" * len(buf) + "\x1b[K" + new)
                buf = list(new)
            continue  # other keys (left, right, home...) are ignored
        if esc == 3:  # ESC [ <digits> ~
            if not ("0" <= c <= "9"):
                esc = 0
            continue
        if c == "\r":
            _w("\r\n")
            line = "".join(buf)
            if line.strip() and (not _hist or _hist[-1] != line):
                _hist.append(line)
                if len(_hist) > 8:
                    _hist.pop(0)
            return line
        if c == "\n":
            continue
        if o == 27:
            esc = 1
            continue
        if o == 3:
            return 3
        if o in (1, 2, 4, 5):
            if not "".join(buf).strip():
                return o
            continue  # only at the start of a line, as pyexec's readline
        if o in (8, 127):
            if buf:
                buf.pop()
                _w("\x08 \x08")
            continue
        if o >= 32 or c == "\t":
            buf.append(c)
            _w(c)

def _input(prompt=""):
    # input(): a line typed on the console, echoed; Ctrl-C raises KeyboardInterrupt, Ctrl-D
    # on an empty line EOFError.
    line = _readline(prompt)
    if line == 3:
        raise KeyboardInterrupt
    if line == 4:
        raise EOFError
    return line if isinstance(line, str) else ""

builtins.input = _input

def _friendly(g):
    # returns "exit" (Ctrl-D: back to the AT console) or "raw"
    while True:
        line = _readline(">>> ")
        if line is None:
            continue
        if line == 1:
            _w("\r\n")
            return "raw"
        if line == 2:
            _w("\r\n")
            _banner()
            continue
        if line == 3:
            _w("\r\n")
            continue
        if line == 4:
            _w("\r\n")
            return "exit"
        if line == 5:
            _paste(g)
            continue
        if not line.strip():
            continue
        src = line
        cancelled = False
        last = line
        while _continues(src):
            # auto-indent: the last line's indentation, 4 more after a colon
            indent = len(last) - len(last.lstrip(" "))
            if last.rstrip().endswith(":"):
                indent += 4
            more = _readline("... ", indent)
            if more == 3:
                _w("\r\n")
                cancelled = True
                break
            if more == 4:
                _w("\r\n")
                break
            if not isinstance(more, str):
                continue
            src += "\n" + more
            last = more
            if more.strip() == "" and not _continues(src):
                break
        if cancelled:
            continue
        _run_source(src, "<stdin>", g, "single")

def _paste(g):
    _w("\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
    buf = []
    while True:
        c = _getc()
        if c == "\x03":
            _w("\r\n")
            return
        if c == "\x04":
            _w("\r\n")
            break
        buf.append(c)
        if c == "\r":
            _w("\r\n=== ")
        elif c != "\n":
            _w(c)
    src = "".join(buf).replace("\r\n", "\n").replace("\r", "\n")
    _run_source(src, "<stdin>", g)

# -- the raw REPL -------------------------------------------------------------------------
def _exec_eof(src, g):
    try:
        code = compile(src, "<stdin>", "exec")
        _user(1)
        exec(code, g)
        _user(0)
        _w("\x04")
    except SystemExit:
        _user(0)
        _w("\x04")
    except BaseException as e:
        _user(0)
        if isinstance(e, MemoryError):
            _spare()
        _w("\x04")
        _tb(e)
        _rearm()
    _w("\x04")

def _raw_paste(g):
    _w("R\x01\x00\x01")  # supported; window 256 bytes (little endian)
    window = 256
    left = window
    buf = []
    while True:
        t = _take_text(left)
        if t:
            buf.append(t)
            left -= len(t)
            if left == 0:
                _w("\x01")
                left = window
            continue
        c = _getc()
        if c == "\x04" or c == "\x03":
            _w("\x04")
            if c == "\x03":
                _w("\x04")
                try:
                    raise KeyboardInterrupt
                except KeyboardInterrupt as e:
                    _tb(e)
                _w("\x04")
                return
            break
        buf.append(c)
        left -= 1
        if left == 0:
            _w("\x01")
            left = window
    _exec_eof("".join(buf), g)

def _raw(g):
    # returns ("friendly", g) on Ctrl-B
    _w("raw REPL; CTRL-B to exit\r\n")
    while True:
        _w(">")
        buf = []
        while True:
            t = _take_text(4096)
            if t:
                buf.append(t)
                continue
            c = _getc()
            if c == "\x01":
                line = "".join(buf)
                if len(line) == 2 and line[0] == "\x05":
                    if line[1] == "A":
                        _raw_paste(g)
                    else:
                        _w("R\x00")
                    buf = None
                    break
                _w("\r\nraw REPL; CTRL-B to exit\r\n")
                buf = None
                break
            if c == "\x02":
                _w("\r\n")
                return g
            if c == "\x03":
                buf = []
                continue
            if c == "\x04":
                break
            buf.append(c)
        if buf is None:
            continue
        _w("OK")
        if not buf:
            # A soft reset: the host starts a fresh instance (a new heap) in the raw REPL.
            _w("\r\nMPY: soft reboot\r\n")
            return None
        _exec_eof("".join(buf), g)

SOFT_REBOOT = 100

def _repl():
    g = _fresh()
    if not _BOOT.get("quiet"):
        _banner()
    mode = "raw" if _BOOT.get("raw") else "friendly"
    while True:
        if mode == "friendly":
            mode = _friendly(g)
            if mode == "exit":
                return 0
        else:
            g = _raw(g)
            if g is None:
                return SOFT_REBOOT
            _banner()
            mode = "friendly"

def _main():
    if _BOOT.get("mode") == "repl":
        return _repl()
    code = _run_source(_fetch("source"), _BOOT["name"], _fresh())
    return code

if _NATIVE:
    # ``import builtins`` reads back the port's own open and __import__: a copy with ours.
    _bi = _Gc()
    for _n in dir(builtins):
        if not _n.startswith("__") or _n in ("__build_class__", "__repl_print__"):
            setattr(_bi, _n, getattr(builtins, _n))
    for _n, _v in (("open", _io.open), ("__import__", _import), ("print", _print),
                   ("input", _input), ("help", _help)):
        setattr(_bi, _n, _v)
    _bi.__name__ = "builtins"
    _hold = None
    gc.collect()
if _BOOT.get("memory"):
    _w("driver heap %d\n" % gc.mem_alloc())
try:
    _code = _main()
except BaseException as e:  # the source could not even be fetched (MemoryError...)
    _spare()
    _code = 1
    try:
        _tb(e)
    except BaseException:
        pass
try:
    _call("done", _code)
except BaseException:
    pass  # nothing may reach WASI's stderr (session.py): the host sees the end anyway
"""

DRIVER = DRIVER_BODY  # run as micropython -c

# The native engine's ``host`` module (session.py, _NativeEngine): framed requests on the
# pipe _FDS[0], answers on _FDS[1] (the host puts ``_FDS = (w, r)`` and ``_HOLD`` first). A SIGINT landing
# in the middle of a frame does not cut it: the frame is finished, then KeyboardInterrupt.
NATIVE_HOST = r"""
import sys, struct
_rq = open(_FDS[0], "wb")
_an = open(_FDS[1], "rb")

# A KeyboardInterrupt is raised inside a syscall only when it moved no byte (EINTR), or at a
# jump: each step below has no jump between the syscall and the count's update, and the
# loops are inside the try: the frame is never cut.
def _wall(b):
    mv = memoryview(b)
    n = len(b)
    st = [0, False]
    while True:
        try:
            while st[0] < n:
                st[0] += _rq.write(mv[st[0]:])
            return st[1]
        except KeyboardInterrupt:
            st[1] = True

def _rall(n):
    buf = bytearray(n)
    mv = memoryview(buf)
    st = [0, False, 0]
    while True:
        try:
            while st[0] < n:
                st[2] = st[0]
                st[0] += _an.readinto(mv[st[0]:])
                if st[0] == st[2]:
                    raise SystemExit(1)  # the host is gone
            return buf, st[1]
        except KeyboardInterrupt:
            st[1] = True

class host:
    native = True

    @staticmethod
    def call(name, payload):
        nb = name.encode()
        pb = payload.encode()
        k = _wall(struct.pack("<II", len(nb), len(pb)) + nb + pb)
        h, k2 = _rall(4)
        b, k3 = _rall(struct.unpack("<I", h)[0])
        if k or k2 or k3:
            raise KeyboardInterrupt
        return b.decode()

sys.modules["host"] = host
del _FDS
"""

# The unix port compiles its -c text at once, and the driver's parse would not fit a small
# heap: the native -c is the bridge and this loader; the driver comes in pieces (whole
# top-level statements, "_drv" calls), each compiled, run and collected before the next.
NATIVE_LOADER = r"""
import gc
# The script's room first, in one block at the heap's start: the driver's many small objects
# go after it, and the block is given back whole (``_hold = None``) before the script runs.
_hold = bytearray(_HOLD) if _HOLD else None
_i = 0
while True:
    _src = host.call("_drv", "%d" % _i)
    if not _src:
        break
    _code = compile(_src, "<stdin>", "exec")
    _src = None
    exec(_code, globals())
    _code = None
    gc.collect()
    _i += 1
"""

NATIVE_DRIVER = NATIVE_HOST + NATIVE_LOADER


def native_pieces(limit: int = 2048) -> list[str]:
    """DRIVER_BODY cut before top-level ``def``/``class`` lines, pieces of about ``limit``."""
    pieces: list[str] = []
    cur: list[str] = []
    size = 0
    for line in DRIVER_BODY.splitlines(keepends=True):
        if line.startswith(("def ", "class ")) and size >= limit:
            pieces.append("".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line)
    if cur:
        pieces.append("".join(cur))
    return pieces


NATIVE_PIECES = native_pieces()
