"""The pytest plugin, tested with pytester: a fresh project whose tests use the fixtures."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

BASIC = '''
import pytest

WORLD = """
[[ap]]
ssid = "STTest"
[[ap]]
ssid = "PlugNet"
channel = 3
"""

@pytest.mark.atwifi(world=WORLD, config={"ip_hostname": "plugged"})
def test_uses_everything(atwifi_module, atwifi_url, atwifi_client, atwifi_control):
    assert atwifi_url == atwifi_module.url
    assert atwifi_url.startswith(("socket://127.0.0.1:", "rfc2217://127.0.0.1:"))
    assert atwifi_client.command("AT").ok
    assert atwifi_client.get_config("ip_hostname") == "plugged"
    assert atwifi_control.call("ping") == "pong"
    assert "PlugNet" in [ap["ssid"] for ap in atwifi_module.call("ap.list")]

@pytest.mark.atwifi(console="pty", timing="fast")
def test_pty_console(atwifi_url, atwifi_client):
    assert atwifi_url.startswith("/dev/")
    assert atwifi_client.command("AT").ok

@pytest.mark.atwifi(console="rfc2217")
def test_with_pyserial(atwifi_url):  # docs/pytest.md, the pyserial recipe
    import serial
    with serial.serial_for_url(atwifi_url, baudrate=115200, timeout=2) as port:
        port.write(b"AT\\r")
        assert b"AT-S.OK" in port.read_until(b"AT-S.OK\\r\\n")

def test_fails_and_shows_the_trace(atwifi_client, atwifi_module):
    atwifi_module.call("fault.add", kind="refuse", match="127.0.0.1:9")
    atwifi_client.command("AT+S.GCFG=ip_hostname")
    assert False, "on purpose"

def test_without_a_module():
    assert False, "no module here"
'''


def test_fixtures_and_trace_on_failure(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_plug_basic=BASIC)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2)
    out = result.stdout.str()
    # The failing test's report carries the module's trace, readable.
    result.stdout.fnmatch_lines(
        [
            "*atwifi trace (*trace.jsonl)*",
            "* -> AT+S.GCFG=ip_hostname\\r",
            "* <- *AT-S.Var:ip_hostname=*",
        ]
    )
    assert " . fault #1 refuse added for 127.0.0.1:9" in out  # notes name the faults
    # Only the tests that had a module: one trace section.
    assert out.count("atwifi trace (") == 1


SERVED = """
def test_served_rfc2217(atwifi_module, atwifi_client):
    assert atwifi_module.url.startswith("rfc2217://127.0.0.1:")
    assert atwifi_client.command("AT").ok
    atwifi_module.call("fault.console", fragment_size=5)
    assert atwifi_client.get_config("console_echo") in ("0", "1")
"""


def test_serve_mode_over_rfc2217(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_plug_served=SERVED)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--atwifi-mode=serve", "--atwifi-console=rfc2217"
    )
    result.assert_outcomes(passed=1)


XDIST = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_each_worker_its_own_module(atwifi_module, atwifi_client, n):
    atwifi_client.set_config("ip_hostname", f"w{n}")
    assert atwifi_client.get_config("ip_hostname") == f"w{n}"
"""


def test_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_plug_xdist=XDIST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)


def test_the_worked_example_of_the_docs(pytester: pytest.Pytester) -> None:
    """docs/pytest.md's worked example, as written, passes."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "pytest.md").read_text()
    example = doc.split("## A worked example", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_plug_driver=example)
    # In a process of its own, as a user runs it: an inline run after another one imports
    # atwifi's lazily imported modules again, beside the first run's copies (two CertError
    # classes, and the web server's except missed the TLS service's).
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
