"""AsyncClient and Client I/O against a stand-in module that plays recorded bytes, over TCP
and over a pty. Only the plumbing is tested here; behaviour is tested against the virtual
module in test_e2e.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from client_recorded import PtyModule, Recorded, Rfc2217Front, TcpModule

from atwifi.client import (
    AsyncClient,
    AtCommandError,
    CertificateError,
    Client,
    HttpClientError,
    ModuleRebootedError,
    WebSocketClientError,
    Wind,
)

# pyserial's rfc2217 client still calls Thread.setDaemon/setName.
pytestmark = pytest.mark.filterwarnings(
    "ignore:setDaemon:DeprecationWarning", "ignore:setName:DeprecationWarning"
)

OK = b"AT-S.OK\r\n"
RAW = b"line1\r\nAT-S.OK\r\n+WIND:55:Pending Data::0:1:1\r\n\x00end"
BOOT = (
    b"+WIND:1:Poweron:171117-0328fe3-SPWF04S\r\n"
    b"+WIND:13:Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved:SPWF04SA\r\n"
    b"+WIND:0:Console active\r\n"
    b"+WIND:32:WiFi Hardware Started\r\n"
)


def script() -> dict:
    return {
        "AT": OK,
        "AT+S.GCFG=console_echo": b"AT-S.Var:console_echo=0\r\n" + OK,
        "AT+S.GCFG": b"AT-S.Var:console_echo=0\r\nAT-S.Var:console_wind_off_high=0x00000010\r\n"
        b"AT-S.Var:wifi_ssid=1234\r\n" + OK,
        "AT+S.GCFG=nope": b"AT-S.ERROR:4:Variable not found\r\n",
        "AT+S.GCFG=short": b"AT-S.ERROR:4\r\n",
        "AT+S.SCFG=console_wind_off_high,0x00000010": OK,
        "AT+S.SCFG=console_echo,1": OK,
        "AT+S.SCFG=wifi_ssid,abc": OK,
        "AT+S.WCFG": OK,
        "AT+S.SOCKR=0": b"AT-S.Reading:%d:%d\r\n%s" % (len(RAW), len(RAW), RAW) + OK,
        "AT+S.SOCKW=0,5": OK,
        "AT+S.TLSCERT=content,ca,5": b"AT-S.Certificate Error:3\r\n",
        "AT+S.HTTPGET=127.0.0.1": b"AT-S.Http Client Error:2\r\n",
        "AT+S.WSOCKON=127.0.0.1,1": b"AT-S.WebSocket Client Error:0\r\n",
        "AT+S.STS": b"AT-S.Var:build=171117-0328fe3-SPWF04S\r\nAT-S.Var:wifi_state=3\r\n" + OK,
        "AT+S.STS=wifi_state": b"AT-S.Var:wifi_state=3\r\n" + OK,
        "AT+S.PEERS": b"AT-S.Var:0.link_id=0\r\nAT-S.Var:0.addr=02:62:1F:51:8F:0B\r\n"
        b"AT-S.Var:1.link_id=1\r\n" + OK,
        "AT+S.TIME": b"AT-S.Date:70.01.02:5\r\nAT-S.Time:03:04:05\r\n" + OK,
        "AT+S.TIME=86400": OK,
        "AT+S.RANDOM": b"AT-S.Number:3725839442\r\n" + OK,
        "AT+S.HELP=SOCKQ": b"AT-S.Command:AT+S.SOCKQ -- Query pending data\r\n" + OK,
        # Split into many writes: the client must reassemble.
        "AT+S.SPLIT": [bytes([b]) for b in b"AT-S.Var:a=1\r\nAT-S.OK:55200:10\r\n"],
        "AT+S.SILENT": None,
        "AT+S.RESET": OK + BOOT,
        "AT+S.FCFG": OK,
    }


@pytest.fixture(params=["tcp", "pty", "rfc2217"])
async def module(request) -> AsyncIterator[tuple[str, Recorded, object]]:
    rec = Recorded(script(), data={"AT+S.SOCKW=0,5": 5, "AT+S.TLSCERT=content,ca,5": 5})
    if request.param == "tcp":
        srv = TcpModule(rec)
        url = await srv.start()
        yield url, rec, srv
        await srv.stop()
    elif request.param == "pty":
        pty = PtyModule(rec)
        yield pty.path, rec, pty
        pty.stop()
    else:
        pty = PtyModule(rec)
        front = Rfc2217Front(pty.path)
        yield front.url, rec, pty
        await asyncio.to_thread(front.stop)
        pty.stop()


@pytest.fixture
async def client(module) -> AsyncIterator[AsyncClient]:
    url, _, _ = module
    async with await AsyncClient.open(url, timeout=5) as c:
        yield c


async def test_command_and_echo(module, client: AsyncClient) -> None:
    _, rec, _ = module
    r = await client.command("AT")
    assert r.ok and not r.echoed and client.echo_on is False
    rec.echo = True
    r = await client.command("AT+S.GCFG=console_echo")
    assert r.echoed and client.echo_on is True
    assert r.lines == ["AT-S.Var:console_echo=0"]
    assert rec.received[-1] == (b"AT+S.GCFG=console_echo", b"")


async def test_errors_are_typed(client: AsyncClient) -> None:
    with pytest.raises(AtCommandError) as e:
        await client.command("AT+S.GCFG=nope")
    assert type(e.value) is AtCommandError
    assert e.value.number == 4 and e.value.text == "Variable not found"
    assert e.value.line == "AT-S.ERROR:4:Variable not found"
    with pytest.raises(AtCommandError) as e:
        await client.command("AT+S.GCFG=short")
    assert (
        e.value.number == 4 and e.value.text == "" and e.value.description == "Variable not found"
    )
    r = await client.command("AT+S.GCFG=nope", check=False)
    assert not r.ok and r.error_number == 4
    with pytest.raises(CertificateError) as e:
        await client.command("AT+S.TLSCERT=content,ca,5", b"abcde")
    assert e.value.number == 3 and e.value.description == "Parsing the certificate failed"
    with pytest.raises(HttpClientError) as e:
        await client.command("AT+S.HTTPGET=127.0.0.1")
    assert e.value.number == 2
    with pytest.raises(WebSocketClientError) as e:
        await client.command("AT+S.WSOCKON=127.0.0.1,1")
    assert e.value.number == 0
    # The unknown command of the stand-in.
    with pytest.raises(AtCommandError) as e:
        await client.command("AT+S.NOPE")
    assert e.value.number == 1


async def test_data_and_raw(module, client: AsyncClient) -> None:
    _, rec, _ = module
    await client.command("AT+S.SOCKW=0,5", b"\r\nA\x00T")
    assert rec.received[-1] == (b"AT+S.SOCKW=0,5", b"\r\nA\x00T")
    r = await client.command("AT+S.SOCKR=0")
    assert r.raw == RAW and r.ok
    # The WIND text inside the raw bytes is data, not an event.
    assert client.pending_winds() == []


async def test_declared_raw_blocks(module, client: AsyncClient) -> None:
    _, rec, _ = module
    rec.script["AT+S.BLOB"] = b"AT-S.Blob:x:4\r\nAT-SAT-S.OK\r\n"
    rec.script["AT+S.BARE"] = b"\r\n\r\nAT-S.OK\r\n"
    assert (await client.command("AT+S.BLOB", raw_prefixes={"AT-S.Blob:": 1})).raw == b"AT-S"
    assert (await client.command("AT+S.BARE", expect_raw=[4])).raw == b"\r\n\r\n"
    client.add_raw_prefix("AT-S.Blob:", 1)
    assert (await client.command("AT+S.BLOB")).raw == b"AT-S"


async def test_big_data_block(module, client: AsyncClient) -> None:
    _, rec, _ = module
    big = bytes(range(256)) * 400  # more than a pty or socket buffer takes at once
    rec.data_len[f"AT+S.BIG={len(big)}"] = len(big)
    rec.script[f"AT+S.BIG={len(big)}"] = (
        b"AT-S.Reading:%d:%d\r\n" % (len(big), len(big)) + big[::-1] + OK
    )
    r = await client.command(f"AT+S.BIG={len(big)}", big)
    assert rec.received[-1][1] == big
    assert r.raw == big[::-1]


async def test_split_writes(client: AsyncClient) -> None:
    r = await client.command("AT+S.SPLIT")
    assert r.lines == ["AT-S.Var:a=1"] and r.final == "AT-S.OK:55200:10"


async def test_timeout_then_next_command(client: AsyncClient) -> None:
    with pytest.raises(TimeoutError):
        await client.command("AT+S.SILENT", timeout=0.2)
    assert (await client.command("AT")).ok


async def test_cancelled_command_frees_the_console(module, client: AsyncClient) -> None:
    _, rec, _ = module
    got = asyncio.Event()

    def silent(line: bytes, data: bytes) -> None:
        got.set()

    rec.script["AT+S.HANG"] = silent
    task = asyncio.ensure_future(client.command("AT+S.HANG"))
    await asyncio.wait_for(got.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await client.command("AT")).ok


async def test_unexpected_reboot_fails_the_pending_command(module, client: AsyncClient) -> None:
    _, rec, _ = module
    rec.script["AT+S.CRASH"] = BOOT
    await client.command("AT")  # a session under way: not the replay of a connect
    with pytest.raises(ModuleRebootedError):
        await client.command("AT+S.CRASH", timeout=30)
    assert (await client.command("AT")).ok
    assert [w.number for w in client.pending_winds()] == [1, 13, 0, 32]


async def test_boot_lines_replayed_on_connect_are_no_reboot(module, client: AsyncClient) -> None:
    # atwifi serve (and terminal servers) keep the module's output while no host is
    # connected and replay it to the next one: old boot lines during the first command.
    _, rec, _ = module
    rec.script["AT"] = BOOT + OK
    assert (await client.command("AT", timeout=30)).ok
    assert [w.number for w in client.pending_winds()] == [1, 13, 0, 32]


async def test_late_answer_after_timeout(module, client: AsyncClient) -> None:
    _, rec, _ = module
    rec.echo = True
    with pytest.raises(TimeoutError):
        await client.command("AT+S.SILENT", timeout=0.2)
    # The module answers the abandoned command just as the next one goes out.
    rec.echo = False
    rec.script["AT+S.NEXT"] = (
        b"AT-S.Var:late=1\r\nAT-S.OK\r\nAT+S.NEXT\r\nAT-S.Var:mine=1\r\nAT-S.OK\r\n"
    )
    r = await client.command("AT+S.NEXT")
    assert r.lines == ["AT-S.Var:mine=1"]


async def test_commands_are_serialized(module, client: AsyncClient) -> None:
    _, rec, _ = module
    a, b, c = await asyncio.gather(
        client.get_config("console_echo"), client.random(), client.status("wifi_state")
    )
    assert (a, b, c) == ("0", 3725839442, "3")
    assert len(rec.received) == 3


async def test_winds_queue_wait_callbacks_iterator(module, client: AsyncClient) -> None:
    _, _, srv = module
    seen: list[Wind] = []
    remove = client.on_wind(seen.append)
    got_async: list[int] = []

    async def acb(w: Wind) -> None:
        got_async.append(w.number)

    client.on_wind(acb)
    await client.command("AT")  # make sure the pty is open on the client side
    await srv.push(b"+WIND:55:Pending Data::0:31:31\r\n+WIND:33:WiFi Network Lost\r\n")
    # Queued before anyone waited:
    w = await client.wait_wind(33, timeout=5)
    assert (w.number, w.text) == (33, "WiFi Network Lost")
    w = await client.wait_wind(55, timeout=5)
    assert w.fields == ["", "0", "31", "31"]
    waiter = asyncio.ensure_future(client.wait_wind({24, 58}, timeout=5))
    await srv.push(b"+WIND:2:Reset\r\n+WIND:58:Socket Closed:0:1\r\n")
    assert (await waiter).number == 58
    agen = client.winds()
    assert (await anext(agen)).number == 2
    await agen.aclose()
    assert [x.number for x in seen] == [55, 33, 2, 58]
    remove()
    await srv.push(b"+WIND:33\r\n")
    assert (await client.wait_wind(lambda w: w.number == 33, timeout=5)).text == ""
    assert [x.number for x in seen] == [55, 33, 2, 58]
    assert got_async == [55, 33, 2, 58, 33]
    with pytest.raises(TimeoutError):
        await client.wait_wind(99, timeout=0.1)


async def test_wind_backlog_is_bounded(module) -> None:
    url, _, srv = module
    async with await AsyncClient.open(url, wind_backlog=3) as c:
        await c.command("AT")
        last = asyncio.Event()
        c.on_wind(lambda w: w.number == 50 and last.set())
        await srv.push(b"".join(b"+WIND:%d:x\r\n" % i for i in range(5)))
        await srv.push(b"+WIND:50:last\r\n")
        await asyncio.wait_for(last.wait(), 5)
        assert [w.number for w in c.pending_winds()] == [3, 4, 50]
        assert c.winds_dropped == 3


@pytest.mark.parametrize("ok_first", [True, False])
async def test_reset_with_or_without_ok(module, client: AsyncClient, ok_first: bool) -> None:
    _, rec, _ = module
    rec.echo = True
    if not ok_first:
        rec.script["AT+S.RESET"] = BOOT
    await client.reset()
    assert [w.number for w in client.pending_winds()] == [1, 13, 0, 32]
    assert (await client.wait_wind(0, timeout=5)).text == "Console active"
    assert (await client.command("AT")).ok


async def test_reset_no_reboot_times_out(module, client: AsyncClient) -> None:
    _, rec, _ = module
    rec.script["AT+S.RESET"] = OK
    with pytest.raises(TimeoutError):
        await client.reset(timeout=0.3)
    assert (await client.command("AT")).ok


async def test_factory_reset_then_reset(module, client: AsyncClient) -> None:
    _, rec, _ = module
    await client.factory_reset()
    assert [ln for ln, _ in rec.received] == [b"AT+S.FCFG", b"AT+S.RESET"]


async def test_helpers(module, client: AsyncClient) -> None:
    _, rec, _ = module
    assert await client.get_config() == {
        "console_echo": "0",
        "console_wind_off_high": "0x00000010",
        "wifi_ssid": "1234",
    }
    assert await client.get_config(typed=True) == {
        "console_echo": 0,
        "console_wind_off_high": 16,
        "wifi_ssid": "1234",
    }
    assert await client.get_config("console_echo") == "0"
    assert await client.get_config("console_echo", typed=True) == 0
    await client.set_config("console_wind_off_high", 16)
    await client.set_config("wifi_ssid", "abc")
    await client.echo(True)
    await client.save_config()
    assert rec.received[-4:] == [
        (b"AT+S.SCFG=console_wind_off_high,0x00000010", b""),
        (b"AT+S.SCFG=wifi_ssid,abc", b""),
        (b"AT+S.SCFG=console_echo,1", b""),
        (b"AT+S.WCFG", b""),
    ]
    assert (await client.status())["build"] == "171117-0328fe3-SPWF04S"
    assert await client.status("wifi_state") == "3"
    assert await client.peers() == {
        0: {"link_id": "0", "addr": "02:62:1F:51:8F:0B"},
        1: {"link_id": "1"},
    }
    assert await client.time() == 86400 + 3 * 3600 + 4 * 60 + 5
    await client.set_time(86400)
    assert await client.random() == 3725839442
    assert await client.help("SOCKQ") == ["AT+S.SOCKQ -- Query pending data"]
    with pytest.raises(ValueError):
        await client.command("AT\rAT")


async def test_connection_lost(module) -> None:
    url, _, srv = module
    if not isinstance(srv, TcpModule):
        pytest.skip("the stand-in drops links on TCP only; ptys: see test_client_e2e.py")
    c = await AsyncClient.open(url)
    await c.command("AT")
    agen = c.winds()
    nxt = asyncio.ensure_future(anext(agen))
    pending = asyncio.ensure_future(c.command("AT+S.SILENT"))
    await asyncio.sleep(0)
    await srv.drop()
    with pytest.raises(ConnectionError):
        await pending
    with pytest.raises(StopAsyncIteration):
        await nxt
    with pytest.raises(ConnectionError):
        await c.command("AT")
    await c.close()


async def test_module_goes_away_during_reset(module) -> None:
    url, rec, srv = module
    if not isinstance(srv, TcpModule):
        pytest.skip("the stand-in drops links on TCP only; ptys: see test_client_e2e.py")
    got = asyncio.Event()
    rec.script["AT+S.RESET"] = lambda line, data: got.set()
    c = await AsyncClient.open(url)
    task = asyncio.ensure_future(c.reset())
    await asyncio.wait_for(got.wait(), 5)
    await srv.drop()
    with pytest.raises(ConnectionError):
        await task
    await c.close()


async def test_sync_client(module) -> None:
    url, rec, srv = module
    # The stand-in runs on this loop; the sync client blocks, so drive it from a thread.

    def use() -> list:
        with Client(url, timeout=5) as c:
            out = [c.get_config("console_echo"), c.random()]
            with pytest.raises(AtCommandError) as e:
                c.command("AT+S.GCFG=nope")
            out.append(e.value.number)
            out.append(c.echo_on)
            c.timeout = 7
            assert c.aio.timeout == 7 and c.timeout == 7
            assert c.run(c.aio.random()) == 3725839442
            asyncio.run_coroutine_threadsafe(srv.push(b"+WIND:33:WiFi Network Lost\r\n"), loop)
            out.append(c.wait_wind(33, timeout=5).text)
            asyncio.run_coroutine_threadsafe(srv.push(b"+WIND:2:Reset\r\n"), loop)
            for w in c.winds():
                out.append(w.number)
                break
            assert "get_config" in dir(c)
            return out

    loop = asyncio.get_running_loop()
    out = await asyncio.to_thread(use)
    assert out == ["0", 3725839442, 4, False, "WiFi Network Lost", 2]


async def test_wind_handed_to_a_cancelled_waiter_is_kept(client: AsyncClient) -> None:
    waiter = asyncio.ensure_future(client.wait_wind(33))
    await asyncio.sleep(0)  # the waiter registers
    # The WIND is handed over and the waiter cancelled before its task runs again (white box:
    # bytes arrive exactly as the transport hands them over).
    client._on_data(b"+WIND:33:WiFi Network Lost\r\n")
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert [w.number for w in client.pending_winds()] == [33]
