"""The pins service without the dialect: exactly the configured edges interrupt."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atwifi.services.errors import ServiceError
from atwifi.services.pins import PinEv, PinFault, Pins


def _pins() -> tuple[Pins, list[tuple[int, int]]]:
    seen: list[tuple[int, int]] = []
    pins = Pins(on_event=lambda ev: seen.append(ev.args) if ev.kind is PinEv.INTERRUPT else None)
    return pins, seen


@given(
    edge=st.sampled_from(["R", "F", "B"]),
    levels=st.lists(st.integers(0, 1), max_size=40),
)
def test_interrupts_are_exactly_the_configured_edges(edge, levels):
    pins, seen = _pins()
    pins.configure(7, "in", edge)
    expected = []
    before = 0
    for level in levels:
        pins.drive(7, level)
        if level != before and (edge == "B" or (edge == "R") == (level == 1)):
            expected.append((7, level))
        before = level
    assert seen == expected


@given(st.integers(-5, 40), st.text(max_size=5))
def test_configure_fails_only_with_its_kinds(num, direction):
    pins, _ = _pins()
    try:
        pins.configure(num, direction)
    except ServiceError as e:
        assert e.kind in (PinFault.BAD_NUMBER, PinFault.BAD_DIRECTION)
    else:
        assert 0 <= num <= 15 and direction.strip().lower() in ("in", "out")


def test_outside_levels_survive_a_module_reset():
    pins, _ = _pins()
    pins.drive(3, 1)
    pins.set_voltage(1, 500)
    pins.configure(4, "out")
    pins.write(4, 1)
    pins.reset()
    assert pins.level(3) == 1 and pins.adc(1) == 500
    assert pins.level(4) == 0
    assert pins.read(4) == (0, 1)


def test_stimuli_reject_unknown_pins():
    pins, _ = _pins()
    with pytest.raises(ValueError):
        pins.drive(40, 1)
    with pytest.raises(ValueError):
        pins.set_voltage(1, 4000)
