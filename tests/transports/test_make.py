"""make_transport: choosing a plug from the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from atwifi.transports import make_transport, parse_hostport
from atwifi.transports.pty import PtyTransport
from atwifi.transports.rfc2217 import Rfc2217Transport
from atwifi.transports.serial import SerialTransport
from atwifi.transports.stdio import StdioTransport
from atwifi.transports.tcp import TcpTransport


def test_kinds() -> None:
    assert isinstance(make_transport("pty", None, pty_link="/tmp/x"), PtyTransport)
    assert isinstance(make_transport("stdio", None), StdioTransport)
    t = make_transport("tcp", "127.0.0.1:0")
    assert isinstance(t, TcpTransport) and (t.host, t.port) == ("127.0.0.1", 0)
    r = make_transport("rfc2217", "[::1]:2217")
    assert isinstance(r, Rfc2217Transport) and (r.host, r.port) == ("::1", 2217)
    s = make_transport("serial", "/dev/ttyUSB0", baudrate=9600)
    assert isinstance(s, SerialTransport) and (s.device, s.baudrate) == ("/dev/ttyUSB0", 9600)
    assert make_transport("rfc2217", ":0", baudrate=921600).baudrate == 921600


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:2217", ("127.0.0.1", 2217)), (":5000", ("127.0.0.1", 5000)),
     ("5000", ("127.0.0.1", 5000)), ("localhost:0", ("localhost", 0)),
     ("[::1]:80", ("::1", 80))],
)  # fmt: skip
def test_hostport(text: str, expected: tuple[str, int]) -> None:
    assert parse_hostport(text) == expected


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "127.0.0.1:", "host:port", "h:70000", "::1:80", "[::1]80", "h:-1", ""]
)
def test_bad_hostport(text: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT|IPV6|IPv6"):
        make_transport("tcp", text) if text else parse_hostport(text)


def test_bad_kind_and_missing_args() -> None:
    with pytest.raises(ValueError, match="unknown console kind"):
        make_transport("usb", None)
    with pytest.raises(ValueError, match="HOST:PORT"):
        make_transport("rfc2217", None)
    with pytest.raises(ValueError, match="device"):
        make_transport("serial", None)
    with pytest.raises(ValueError, match="pty-link"):
        make_transport("tcp", "1", pty_link="/tmp/x")


def test_only_the_chosen_plug_is_imported() -> None:
    code = (
        "import sys; from atwifi.transports import make_transport; make_transport('tcp', ':0');"
        "bad = [m for m in ('serial', 'rich', 'atwifi.transports.rfc2217',"
        " 'atwifi.transports.pty', 'atwifi.transports.serial') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env_path = [p for p in sys.path if p]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={"PYTHONPATH": ":".join(env_path)}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
