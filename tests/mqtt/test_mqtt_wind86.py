"""WIND:86 pieces as the part prints them, read back by the client library: any topic, any
payload (CR, LF, ':' included), any split of the byte stream, either console_winds form."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from atwifi.client.mqtt import MqttConnection
from atwifi.client.protocol import Parser, Wind
from atwifi.codec import format_wind
from atwifi.spwf04.parts.mqtt import PIECE, WindEvents


class Console:
    """Stands in for the device: WINDs as the console prints them."""

    def __init__(self, winds: int) -> None:
        self.winds = winds
        self.out = bytearray()

    def wind(self, n: int, *fields: object) -> None:
        self.out += format_wind(self.winds, n, "MQTT Published", fields)


class Host:
    def __init__(self) -> None:
        self.callbacks = []

    def on_wind(self, fn):
        self.callbacks.append(fn)
        return lambda: self.callbacks.remove(fn)


topics = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n+#\0"),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@example(messages=[(":0", b"")], qos=0, winds=1, cut=1)  # a stray empty line once reached on_wind
@given(
    messages=st.lists(st.tuples(topics, st.binary(max_size=3 * PIECE + 7)), min_size=1, max_size=4),
    qos=st.integers(0, 2),
    winds=st.sampled_from([1, 2]),
    cut=st.integers(1, 700),
)
def test_pieces_join_back(messages, qos, winds, cut) -> None:
    console = Console(winds)
    events = WindEvents(console)  # type: ignore[arg-type]
    for topic, payload in messages:
        events.message(0, topic.encode(), qos, False, False, payload)
    parser = Parser()
    parser.wind_texts = winds == 2
    host = Host()
    conn = MqttConnection(host, 0, False)
    wire = bytes(console.out)
    for i in range(0, len(wire), cut):
        for ev in parser.feed(wire[i : i + cut]):
            if isinstance(ev, Wind):  # as AsyncClient hands on only WINDs to on_wind
                for fn in list(host.callbacks):
                    fn(ev)
    got = []
    while not conn._queue.empty():
        got.append(conn._queue.get_nowait())
    assert [(m.topic, m.payload, m.qos) for m in got] == [(t, p, qos) for t, p in messages]
