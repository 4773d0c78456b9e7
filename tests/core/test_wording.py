"""Service error kinds reach the host in the dialect's words (spwf04/wording.py)."""

from __future__ import annotations

from enum import Enum

from atwifi.errors import AtError, AtResultLine
from atwifi.services.errors import ServiceError
from atwifi.spwf04 import wording


class _Fault(Enum):
    WORDED = "worded"
    LINE = "line"
    NOBODY = "nobody"


wording.register(
    {
        _Fault.WORDED: 74,
        _Fault.LINE: lambda e: AtResultLine(f"AT-S.Http Client Error:{e.info['n']}"),
    }
)


def test_a_number() -> None:
    out = wording.word(ServiceError(_Fault.WORDED, "refused"))
    assert isinstance(out, AtError) and out.number == 74 and out.detail == "refused"


def test_a_result_line_from_info() -> None:
    out = wording.word(ServiceError(_Fault.LINE, n=3))
    assert isinstance(out, AtResultLine) and out.line == "AT-S.Http Client Error:3"


def test_an_unworded_kind_is_request_failed_and_named() -> None:
    out = wording.word(ServiceError(_Fault.NOBODY))
    assert isinstance(out, AtError) and out.number == 111 and "NOBODY" in out.detail


async def test_a_handler_raising_a_kind_prints_its_number(quiet_module, monkeypatch) -> None:
    from atwifi.spwf04 import commands

    async def boom(ctx, **kw):
        raise ServiceError(_Fault.WORDED)

    monkeypatch.setitem(commands._HANDLERS, "RANDOM", boom)
    reply = await quiet_module.cmd("AT+S.RANDOM")
    assert reply == b"AT-S.ERROR:74:Failed to open socket\r\n"


def test_a_kind_of_a_service_module_imported_again_keeps_its_words() -> None:
    """pytester's in-process runs drop modules and import them again: a new Enum class with
    the same members finds the words registered for the old one."""

    class _Fault(Enum):  # the same module and name as the class above: an import again
        WORDED = "worded"

    _Fault.__qualname__ = "_Fault"
    out = wording.word(ServiceError(_Fault.WORDED))
    assert isinstance(out, AtError) and out.number == 74
    wording.register({_Fault.WORDED: 74})  # registering the same words again is no error
