"""Handler: AT+S.PYTHON (manual 5, 6.7). The work is in spwf04/parts/python.py."""

from __future__ import annotations

from atwifi.errors import AtError
from atwifi.spwf04.commands import handler
from atwifi.spwf04.context import Context
from atwifi.spwf04.parts.python import REPL_CONSOLE, PythonPart

CANNOT_SWITCH = 16  # "Cannot switch to Python shell"
NOT_ON_SPI = 24  # "Cannot use when SPI"


class _CtxSink:
    """The command's reply as a Sink for the run (raw output, streamed)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def send(self, item: object) -> None:
        self.ctx._send(item)  # type: ignore[arg-type]

    async def flush(self) -> None:
        await self.ctx.flush()


@handler("PYTHON")
async def python(ctx: Context, filename: str | None = None) -> None:
    dev = ctx.device
    part = getattr(dev, "python", None)
    if not isinstance(part, PythonPart):
        raise AtError(CANNOT_SWITCH, "no MicroPython part")
    if part.session is not None:
        raise AtError(CANNOT_SWITCH, "a script is running already")
    if filename is None:
        if dev.runtime.framing_name == "spi":
            raise AtError(NOT_ON_SPI, "the REPL needs the UART console")
        if part.console != REPL_CONSOLE:
            raise AtError(CANNOT_SWITCH, "the REPL needs console_enabled=2 (then a reset)")
        outcome = await _run(part, ctx, repl=True)
    else:
        source = await part.load(filename)  # a missing file: error 51
        outcome = await _run(part, ctx, name=filename, source=source)
    if outcome.startswith("trap"):
        raise AtError(CANNOT_SWITCH, f"MicroPython ended: {outcome}")


async def _run(part: PythonPart, ctx: Context, **kw: object) -> str:
    try:
        return await part.run(_CtxSink(ctx), **kw)  # type: ignore[arg-type]
    except ImportError as e:
        raise AtError(CANNOT_SWITCH, f"MicroPython is not installed: {e}") from None
