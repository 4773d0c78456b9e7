"""The SPWF04 device on the runtime: a part is one registration, and the hooks parts use."""

from __future__ import annotations

from pathlib import Path

from atwifi.runtime import PowerState
from atwifi.spwf04 import parts
from atwifi.spwf04.device import LOW_POWER
from harness import InProcessModule

OK = b"AT-S.OK\r\n"


class EchoService:
    def __init__(self) -> None:
        self.started = 0


class EchoPart:
    """A new service: nothing else in the tree knows about it."""

    attr = ("echo", "echo_too")

    def __init__(self, device) -> None:
        self.device = device
        assert device.echo is None  # the device made the attributes before the parts

    async def start(self) -> None:
        self.device.echo = EchoService()
        self.device.echo.started += 1

    async def after_boot(self) -> None:
        pass

    async def stop(self) -> None:
        self.device.echo = None


async def test_a_part_is_one_registration(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(parts, "PARTS", (*parts.PARTS, f"{__name__}:EchoPart"))
    m = InProcessModule(tmp_path / "state")
    assert m.device.echo is None and m.device.echo_too is None
    await m.boot()
    try:
        assert isinstance(m.device.echo, EchoService)
        assert await m.cmd("AT") == OK
    finally:
        await m.device.shutdown()
    assert m.device.echo is None


async def test_input_gate_boot_hooks_and_reset_reasons(tmp_path: Path) -> None:
    m = InProcessModule(tmp_path / "state")
    reasons: list[int] = []
    m.device.boot_hooks.append(reasons.append)
    await m.boot()
    try:
        dropped: list[bytes] = []

        def asleep(data: bytes) -> bytes:
            dropped.append(data)
            return b""

        m.device.input_gate = asleep
        m.send(b"AT\r")
        assert dropped == [b"AT\r"] and m.take() == b""
        m.device.input_gate = None
        assert await m.cmd("AT") == OK
        await m.device.reboot(LOW_POWER)  # out of standby: reset_reason 3
        await m.settle()
        m.take()
        assert reasons == [0, 3]
        assert b"reset_reason=3" in await m.cmd("AT+S.STS=reset_reason")
        assert m.device.runtime.power_state is PowerState.ON
    finally:
        await m.device.shutdown()
    assert m.device.runtime.power_state is PowerState.OFF


async def test_settings_apply_from_the_next_line_of_one_burst(module) -> None:
    m = module  # echo on
    m.send(b"AT+S.SCFG=console_echo,0\rAT\r")
    assert await m.reply() == b"AT+S.SCFG=console_echo,0\r\n" + OK
    assert await m.reply() == OK  # no echo: the line was taken after the SCFG ran


async def test_a_script_executes_through_the_runtime(quiet_module) -> None:
    from atwifi.runtime.items import Info, ListSink, Ok, Request
    from atwifi.spwf04.table.commands import BY_NAME

    m = quiet_module
    sink = ListSink()
    await m.device.runtime.execute(Request(BY_NAME["GCFG"], ("console_errs",)), sink)
    assert sink.items == [Info("Var:console_errs=2"), Ok()]
    assert m.take() == b""  # nothing on the console


async def test_console_repeater_runs_the_previous_line_again(module) -> None:
    m = module
    assert await m.cmd("AT+S.GCFG=console_errs") == b"AT-S.Var:console_errs=2\r\n" + OK
    assert await m.cmd("!") == b"AT-S.Var:console_errs=2\r\n" + OK  # echo "!", then the reply
    assert await m.cmd("AT+S.SCFG=console_repeater,0x23") == OK
    assert await m.cmd("#") == OK  # the SCFG again
    assert await m.cmd("!") == b"AT-S.ERROR:1:Command not found\r\n"


async def test_requests_from_a_framing_that_splits_parameters_itself(quiet_module) -> None:
    """An SPI-like framing gives raw parameters and no parse: the dialect checks them as the
    UART's line parser does."""
    from atwifi.runtime.items import Error, ListSink, Ok, Request
    from atwifi.spwf04.table.commands import BY_NAME

    run = quiet_module.device.runtime.execute
    cases = [
        (Request(BY_NAME[""], ("x",)), [Error(6, "Too many argument(s)")]),  # AT takes none
        (Request(BY_NAME[""], ("",)), [Ok()]),
        (Request(BY_NAME["GCFG"], ("a", "b")), [Error(6, "Too many argument(s)")]),
        (Request(BY_NAME["SCFG"], ("console_errs", "9")), [Error(8, "Invalid value")]),
        (Request(None, error=1), [Error(1, "Command not found")]),
    ]
    for request, items in cases:
        sink = ListSink()
        await run(request, sink)
        assert sink.items == items, request
