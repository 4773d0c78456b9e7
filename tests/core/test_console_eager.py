"""The console's fast path: bytes fed from a transport callback (outside any task) are run at
once in that callback until a command has to wait, which the console task then finishes.

Transports call Device.feed() from their protocol callbacks; the in-process ``module`` fixture
calls it from the test's task, which takes the normal path. Here a module is fed the way a
transport feeds it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atwifi.errors import AtError
from atwifi.spwf04.commands import handlers
from harness import InProcessModule

OK = b"AT-S.OK\r\n"


class CallbackFedModule(InProcessModule):
    """Bytes reach the device from a loop callback, as from a transport's data_received."""

    def send(self, data: bytes) -> None:
        asyncio.get_running_loop().call_soon(self.device.feed, data)


@pytest.fixture
async def cb_module(tmp_path: Path) -> AsyncIterator[CallbackFedModule]:
    m = CallbackFedModule(tmp_path / "state")
    await m.boot()
    assert await m.cmd("AT+S.SCFG=console_echo,0", echo=True) == OK
    yield m
    await m.device.shutdown()


@pytest.fixture
def test_handler(monkeypatch):
    """Installs a handler for AT+S.PMS (whatever this branch has there) for the test."""

    def install(fn):
        monkeypatch.setitem(handlers(), "PMS", fn)

    return install


async def test_a_simple_command_is_answered_inside_the_callback(cb_module):
    m = cb_module
    m.send(b"AT\r")
    await asyncio.sleep(0)  # one loop turn: the callback runs, the console task does not
    assert m.take() == OK
    assert m.device._parked  # the console task was never woken


async def test_from_a_task_the_console_task_answers(quiet_module):
    m = quiet_module
    m.device.feed(b"AT\r")
    assert m.take() == b""
    assert await m.reply() == OK


async def test_pipelined_commands_in_one_callback(cb_module):
    m = cb_module
    m.send(b"AT\rAT+S.GCFG=console_errs\rAT+S.NOPE\rAT+S.STS=fw_version\r")
    assert await m.reply() == OK
    assert await m.reply() == b"AT-S.Var:console_errs=2\r\n" + OK
    assert await m.reply() == b"AT-S.ERROR:1:Command not found\r\n"
    assert await m.reply() == b"AT-S.Var:fw_version=1.1.0\r\n" + OK


async def test_a_command_that_waits_is_finished_by_the_console_task(cb_module):
    m = cb_module
    # WCFG saves in a thread: it waits. The commands behind it keep their order.
    m.send(b"AT+S.SCFG=user_desc,eager\rAT+S.WCFG\rAT+S.GCFG=user_desc\rAT\r")
    assert await m.reply() == OK
    assert await m.reply() == OK
    assert await m.reply() == b"AT-S.Var:user_desc=eager\r\n" + OK
    assert await m.reply() == OK
    await m.restart()
    m.device.config.set_value("console_echo", 0)
    assert await m.cmd("AT+S.GCFG=user_desc") == b"AT-S.Var:user_desc=eager\r\n" + OK


async def test_data_arriving_later_and_winds_held_meanwhile(cb_module):
    m = cb_module
    m.send(b"AT+S.FSC=eager.txt,6\rabc")
    await asyncio.sleep(0)
    assert m.take() == b""
    m.device.wind(55, "", 0, 3, 3)
    assert m.take() == b""  # held: the command is still reading its data
    m.send(b"def")
    final = await m.reply()
    assert b"+WIND" not in final
    assert await m.read_until(b"\r\n") == b"+WIND:55:Pending Data::0:3:3\r\n"
    assert await m.cmd("AT") == OK


async def test_data_split_over_many_callbacks(cb_module):
    m = cb_module
    stream = b"AT+S.FSC=" + b"n" * 65 + b",10\rAT+S.RESET" + b"AT\r"
    for i in range(len(stream)):
        m.send(stream[i : i + 1])
    assert await m.reply() == b"AT-S.ERROR:32:Argument exceeds allowed size\r\n"
    assert await m.reply() == OK


async def test_handlers_see_the_console_task_and_can_use_timeouts(cb_module, test_handler):
    seen = []

    async def probe(ctx, mode):
        seen.append(asyncio.current_task() is ctx.device._console_task)
        async with asyncio.timeout(5):
            await asyncio.sleep(0)
        seen.append(asyncio.current_task() is ctx.device._console_task)
        ctx.info(f"Probe:{mode}")

    test_handler(probe)
    m = cb_module
    m.send(b"AT+S.PMS=1\rAT+S.PMS=2\r")
    assert await m.reply() == b"AT-S.Probe:1\r\n" + OK
    assert await m.reply() == b"AT-S.Probe:2\r\n" + OK
    assert seen == [True] * 4


async def test_cancelled_wait_inside_a_continued_step(cb_module, test_handler):
    async def slow(ctx, mode):
        try:
            async with asyncio.timeout(0.01):
                await asyncio.Event().wait()  # never set: the timeout cancels it
        except TimeoutError:
            raise AtError(111, "timed out") from None

    test_handler(slow)
    m = cb_module
    m.send(b"AT+S.PMS=1\rAT\r")
    assert await m.reply() == b"AT-S.ERROR:111:Request failed\r\n"
    assert await m.reply() == OK


async def test_a_crashing_handler_in_the_fast_path(cb_module, test_handler):
    async def crash(ctx, mode):
        raise ZeroDivisionError

    test_handler(crash)
    m = cb_module
    m.send(b"AT+S.PMS=1\rAT\r")
    assert await m.reply() == b"AT-S.ERROR:111:Request failed\r\n"
    assert await m.reply() == OK


async def test_reset_in_the_fast_path(cb_module):
    m = cb_module
    m.send(b"AT+S.RESET\r")
    out = await m.read_until(b"+WIND:32:WiFi Hardware Started\r\n")
    assert out.startswith(OK + b"+WIND:1:Poweron:")
    await m.settle()
    m.send(b"AT\r")
    assert await m.reply() == b"AT\r\n" + OK  # the echo setting was not saved


async def test_shutdown_with_a_step_still_waiting(tmp_path):
    m = CallbackFedModule(tmp_path / "state")
    await m.boot()
    m.send(b"AT+S.FSC=never.txt,100\rpartial")
    await m.read_until(b"AT+S.FSC=never.txt,100\r\n")  # echo: the command is reading
    await m.device.shutdown()
    assert m.device._pending is None


_garbage = st.lists(
    st.one_of(
        st.binary(max_size=64),
        st.sampled_from([b"\r", b"\n", b"AT", b"AT+S.", b",", b"(null)", b"AT+S.STS=", b"\x1b"]),
        st.integers(min_value=400, max_value=900).map(lambda n: b"g" * n),
    ),
    max_size=25,
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pieces=_garbage)
async def test_garbage_in_many_callbacks_never_stops_the_module(cb_module, pieces):
    m = cb_module
    for piece in pieces:
        m.send(piece)
    m.send(b"\rAT+S.GCFG=console_errs\r")
    await m.read_until(b"AT-S.Var:console_errs=2\r\nAT-S.OK\r\n")
    m.take()
    m.send(b"\rAT\r")
    assert await m.reply() == OK


async def test_a_sockw_that_must_wait_for_room_is_finished_by_the_console_task(cb_module):
    """SOCKW is a plain handler run inside the callback; when the send buffer is full it
    returns the wait, which the console task finishes: the OK (and a WIND raised meanwhile,
    after it) come once the peer reads, and every byte arrives in order."""
    import socket

    from atwifi.runtime.items import Wind

    m = cb_module
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[asyncio.Transport] = loop.create_future()
    got = bytearray()
    done = asyncio.Event()
    total = 0

    class Peer(asyncio.Protocol):
        def connection_made(self, transport):  # type: ignore[no-untyped-def]
            transport.pause_reading()  # reads nothing until the test says so
            accepted.set_result(transport)

        def data_received(self, data: bytes) -> None:
            got.extend(data)
            if total and len(got) >= total:
                done.set()

    srv = await loop.create_server(Peer, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        assert await m.cmd(f"AT+S.SOCKON=127.0.0.1,{port},,t") == b"AT-S.On:127.0.0.1:0\r\n" + OK
        peer = await accepted
        conn = m.device.sockets.clients[0]
        conn.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
        )
        conn.transport.set_write_buffer_limits(high=4096)
        n = 0
        while conn._writable.is_set():  # SOCKWs until the module's send buffer is full
            block = bytes([n % 256]) * 1000
            m.send(b"AT+S.SOCKW=0,1000\r" + block)
            n += 1
            await asyncio.sleep(0)  # one loop turn: the callback runs
            assert n < 10_000
        out = await m.read_exactly(len(OK) * (n - 1))
        assert out == OK * (n - 1)  # the last one waits for room: no OK yet
        assert m.device.runtime.gate.busy
        m.device.runtime.wind(Wind(99, "held"))  # held until the waiting reply is complete
        total = n * 1000
        peer.resume_reading()
        assert await m.read_exactly(len(OK) + 15) == OK + b"+WIND:99:held\r\n"
        await asyncio.wait_for(done.wait(), 20)
        assert bytes(got) == b"".join(bytes([i % 256]) * 1000 for i in range(n))
        m.send(b"AT\r")
        assert await m.read_exactly(len(OK)) == OK
