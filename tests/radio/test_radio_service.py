"""The radio service alone (no device, no dialect): events, states, life cycle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from atwifi.services.radio import (
    AccessPoint,
    Ev,
    Event,
    Radio,
    RadioError,
    RadioSettings,
    State,
    World,
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, ev: Event) -> None:
        self.events.append(ev)
        self._changed.set()

    def kinds(self, skip_state: bool = True) -> list[Ev]:
        quiet = (Ev.STATE, Ev.NOTE) if skip_state else ()
        return [e.kind for e in self.events if e.kind not in quiet]

    async def until(self, pred: Callable[[Event], bool]) -> Event:
        async def wait() -> Event:
            seen = 0
            while True:
                for e in self.events[seen:]:
                    if pred(e):
                        return e
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(wait(), 10)


def make(world: World | None = None, **settings: object) -> tuple[Radio, Recorder, RadioSettings]:
    rec = Recorder()
    s = RadioSettings(**settings)  # type: ignore[arg-type]
    radio = Radio(world or World.default(), lambda: s, rec)
    return radio, rec, s


async def test_join_events_and_states_in_order() -> None:
    radio, rec, _ = make()
    await radio.start()
    await rec.until(lambda e: e.kind is Ev.UP6)
    assert rec.kinds() == [Ev.SCANNING, Ev.SCAN_DONE, Ev.JOIN, Ev.ASSOCIATED, Ev.UP, Ev.UP6]
    states = [e.args[0] for e in rec.events if e.kind is Ev.STATE]
    assert states == [
        State.IDLE,
        State.SCANNING,
        State.SCAN_DONE,
        State.JOINING,
        State.JOINED,
        State.HANDSHAKE_DONE,
        State.LINK_UP,
    ]
    assert radio.ip_ready and radio.address
    await asyncio.wait_for(radio.wait_ip_ready(), 1)
    await radio.stop(announce=True)
    assert rec.kinds()[-2:] == [Ev.LINK_DOWN, Ev.POWERED_DOWN]
    assert radio.state == State.TERMINATED and radio.address is None


async def test_start_announces_and_is_idempotent() -> None:
    radio, rec, _ = make(mode=0)
    await radio.start(announce=True)
    await radio.start(announce=True)
    assert rec.kinds() == [Ev.HW_STARTED]
    assert radio.state == State.IDLE
    await radio.stop()
    assert rec.kinds() == [Ev.HW_STARTED]  # a reset (no announce) prints nothing


async def test_scan_busy_while_the_join_scans_and_off_when_stopped() -> None:
    radio, rec, _ = make()
    await radio.start()
    await rec.until(lambda e: e.kind is Ev.SCANNING)
    with pytest.raises(RadioError) as busy:
        await radio.scan()
    assert busy.value.code == RadioError.BUSY
    await radio.stop()
    with pytest.raises(RadioError) as off:
        await radio.scan()
    assert off.value.code == RadioError.OFF


async def test_time_scale_zero_still_event_driven() -> None:
    world = World.default()
    world.time_scale = 0
    radio, rec, _ = make(world)
    await radio.start()
    await rec.until(lambda e: e.kind is Ev.UP)
    world.remove("STTest")
    await rec.until(lambda e: e.kind is Ev.NETWORK_LOST)
    n = len(rec.events)
    world.add(AccessPoint(ssid="STTest", network="10.3.0.0/24"))
    up = await rec.until(lambda e: e.kind is Ev.UP and rec.events.index(e) > n)
    assert str(up.args[1]).startswith("10.3.0.")
    await radio.stop()


async def test_link_down_event_for_other_services() -> None:
    radio, rec, _ = make()
    seen: list[Ev] = []
    radio.listeners.append(lambda e: seen.append(e.kind))
    await radio.start()
    await rec.until(lambda e: e.kind is Ev.UP6)
    radio.drop_link("deauth", reason=7)
    await rec.until(lambda e: e.kind is Ev.LINK_DOWN)
    assert Event(Ev.DEAUTH, (7,)) in rec.events
    assert Ev.LINK_DOWN in seen
    await radio.stop()


async def test_drop_link_needs_a_link_and_a_known_kind() -> None:
    radio, _, _ = make(mode=0)
    await radio.start()
    with pytest.raises(RadioError):
        radio.drop_link()
    with pytest.raises(RadioError):
        radio.drop_link("meteor")
    await radio.stop()


async def test_peer_table_of_a_joined_station() -> None:
    radio, rec, _ = make()
    assert radio.peer_table() == {}
    await radio.start()
    await rec.until(lambda e: e.kind is Ev.UP)
    peer = radio.peer_table()[0]
    assert peer["addr"] == "00:18:F8:3C:D9:18" and peer["rx_rssi"] == "-51"
    assert peer["capinfo"] == "0x00000421" and peer["setprot"] == "0"
    await radio.stop()


@pytest.mark.parametrize("mode, ssid", [(1, b"STTest"), (1, b"Absent"), (0, b"STTest"), (3, b"AP")])
async def test_wait_settled_after_start(mode: int, ssid: bytes) -> None:
    radio, rec, _ = make(mode=mode, ssid=ssid)
    await radio.start()
    await asyncio.wait_for(radio.wait_settled(), 10)
    if ssid == b"Absent":
        assert not radio.ip_ready and rec.kinds()[-2:] == [Ev.SCANNING, Ev.SCAN_DONE]
        assert rec.events[-2] == Event(Ev.NOTE, ("no access point with SSID b'Absent' in range",))
    else:
        assert radio.ip_ready == (mode != 0)
    await radio.stop()
