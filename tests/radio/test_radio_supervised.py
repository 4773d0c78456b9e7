"""A background loop that fails is restarted with a trace line, never left dead (issue 14:
an OverflowError in the radio's task and the module never rejoined)."""

from __future__ import annotations

from radio_helpers import boot, wind  # noqa: F401

from atwifi.services.radio import Radio


class Notes:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def note(self, text: str) -> None:
        self.lines.append(text)


async def test_the_radio_loop_is_restarted_after_a_failure(boot, monkeypatch) -> None:  # noqa: F811
    real = Radio._scan_for
    calls = {"n": 0}

    async def flaky(self, ssid):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise OverflowError("timeout value is too large")  # what a huge timer did
        return await real(self, ssid)

    monkeypatch.setattr(Radio, "_scan_for", flaky)
    m = await boot(wifi_mode=0)
    notes = Notes()
    m.device.trace = notes
    for cmd in ("AT+S.SCFG=wifi_mode,1", "AT+S.WIFI=0", "AT+S.WIFI=1"):
        assert (await m.cmd(cmd)).endswith(b"AT-S.OK\r\n")
    await wind(m, b"+WIND:24:WiFi Up:0:")  # joined all the same, on the second run
    assert calls["n"] >= 2
    assert any(
        n.startswith("radio: background task radio failed: OverflowError") for n in notes.lines
    ), notes.lines
