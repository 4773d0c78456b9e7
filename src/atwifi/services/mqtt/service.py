"""The module's MQTT client: one broker at a time (connection id 0), MQTT 3.1.1.

Dialect-free: failures are ``ServiceError(MqttFault.X)``, indications go to ``MqttEvents``
(message, closed, note). The connection is the module's own (``transport.open_link``): the
broker is resolved by the caller's ``resolve``, then connected through the one connection
path (services/net/dial.py: its ``check``, the network policy; the fault rules; TLS brokers
checked by the TLS service at the MODULE's clock).
Failures of those three come out as they are raised (the net and TLS services' own errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atwifi.services.errors import ServiceError
from atwifi.services.mqtt.faults import CloseReason, MqttEvents, MqttFault
from atwifi.services.mqtt.transport import Link, UpgradeRefused, WsLink, open_link
from atwifi.services.net.dial import Blocked

if TYPE_CHECKING:
    from atwifi.services.faults import Faults
    from atwifi.services.mqtt import codec
    from atwifi.services.mqtt.codec import T, Will
    from atwifi.services.tls import TlsService

# The packet codec is imported at first use (a connect), not when the module boots: its
# dataclasses cost milliseconds to make and most modules never speak MQTT.

CONNECT_TIMEOUT = 4.5  # TCP + TLS + upgrade + CONNACK; drivers give a connect 5 s (wire-notes)
MAX_TOPIC = 65535
TLS_AUTO = 1
BACKLOG_LIMIT = 64 * 1024  # bytes of WINDs waiting for the console before reading pauses

Resolve = Callable[[str], Awaitable[str]]
Check = Callable[[str, int], None]  # (ip, port): the network policy
Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


@dataclass(frozen=True)
class ConnectParams:
    host: str
    port: int = 1883
    path: str | None = None  # None: MQTT on TCP; a path: MQTT over WebSocket there
    tls: int = 0  # 0 plain, 1 autodetect (TLS, plain if the broker does not speak it), 2 TLS
    username: bytes | None = None
    password: bytes | None = None
    client_id: bytes = b""
    keep_alive: int = 60
    retry: float = 15.0
    will: Will | None = None
    clean_session: bool = False


def check_topic(topic: bytes, filter: bool) -> None:
    """MQTT 3.1.1 4.7: names carry no wildcards; in filters ``#`` is last and alone in its
    level, ``+`` alone in its level. Raises ServiceError(BAD_TOPIC)."""
    if not topic:
        raise ServiceError(MqttFault.BAD_TOPIC, "empty topic")
    if len(topic) > MAX_TOPIC or b"\0" in topic:
        raise ServiceError(MqttFault.BAD_TOPIC, "topic too long or with a NUL byte")
    try:
        topic.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError(MqttFault.BAD_TOPIC, "topic is not UTF-8") from None
    if not filter:
        if b"+" in topic or b"#" in topic:
            raise ServiceError(MqttFault.BAD_TOPIC, "wildcards in a topic name")
        return
    levels = topic.split(b"/")
    for i, level in enumerate(levels):
        if b"#" in level and (level != b"#" or i != len(levels) - 1):
            raise ServiceError(MqttFault.BAD_TOPIC, "'#' must be the last level, alone")
        if b"+" in level and level != b"+":
            raise ServiceError(MqttFault.BAD_TOPIC, "'+' must be alone in its level")


def key_matches(cert_der: bytes, key_der: bytes) -> bool:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    cert_pub = x509.load_der_x509_certificate(cert_der).public_key().public_bytes(*spki)
    key = serialization.load_der_private_key(key_der, password=None)
    return key.public_key().public_bytes(*spki) == cert_pub


def _cert_alert(e: BaseException) -> bool:
    """Did the broker end the TLS handshake over the module's certificate?"""
    text = f"{getattr(e, 'reason', '') or ''} {e}".upper()
    return any(
        k in text
        for k in ("CERTIFICATE", "UNKNOWN_CA", "HANDSHAKE_FAILURE", "ACCESS_DENIED", "BAD_CERT")
    )


class Session:
    """A live broker connection: the reader task, keep-alive, in-flight packet ids."""

    def __init__(
        self,
        service: MqttService,
        link: Link | WsLink,
        p: ConnectParams,
        decoder: codec.Decoder | None = None,
        release: Callable[[], None] | None = None,
    ) -> None:
        from atwifi.services.mqtt import codec  # at first use: not at boot

        self.release = release  # gives the WebSocket slot back when the session ends
        self.service = service
        self.link = link
        self.params = p
        # The handshake's decoder: bytes of a packet that came with CONNACK are kept.
        self.decoder = decoder or codec.Decoder()
        self.waiters: dict[tuple[T, int], asyncio.Future[codec.Packet]] = {}
        self.incoming_qos2: set[int] = set()
        self.next_id = 1
        self.closed = False
        self.loop = asyncio.get_running_loop()
        self.last_sent = self.loop.time()
        self.ping_sent: float | None = None
        self._lock = asyncio.Lock()
        self.tasks: list[asyncio.Task[Any]] = []

    def start(self, spawn: Spawn, early: list[codec.Packet]) -> None:
        self.tasks.append(spawn(self._read(early)))
        if self.params.keep_alive > 0:
            self.tasks.append(spawn(self._keepalive()))

    # -- sending -------------------------------------------------------------------------
    def packet_id(self) -> int:
        for _ in range(65535):
            pid = self.next_id
            self.next_id = pid % 65535 + 1
            if not any(k[1] == pid for k in self.waiters):
                return pid
        raise ServiceError(MqttFault.NO_ANSWER, "65535 packets in flight")

    async def send(self, data: bytes) -> None:
        if self.closed:
            raise ServiceError(MqttFault.NOT_CONNECTED, "the broker connection is gone")
        try:
            async with self._lock:
                await self.link.send(data)
        except (OSError, ssl.SSLError, RuntimeError) as e:
            self.lost(CloseReason.CONNECTION, f"send failed: {e}")
            raise ServiceError(MqttFault.WRITE_FAILED, str(e)) from None
        self.last_sent = self.loop.time()

    async def request(self, data: bytes, want: T, pid: int, resend: bytes | None) -> Any:
        """Send and wait for the answer ``want`` with ``pid``: ``retry`` seconds, then once
        more after resending ``resend`` (DUP), then NO_ANSWER."""
        fut: asyncio.Future[codec.Packet] = self.loop.create_future()
        self.waiters[(want, pid)] = fut
        try:
            await self.send(data)
            for again in (resend, None):
                try:
                    return await asyncio.wait_for(asyncio.shield(fut), self.params.retry)
                except TimeoutError:
                    if again is None:
                        break
                    self.service.events.note(f"MQTT: no {want.name} for packet {pid}: resent")
                    await self.send(again)
            raise ServiceError(MqttFault.NO_ANSWER, f"no {want.name} for packet {pid}")
        finally:
            self.waiters.pop((want, pid), None)

    # -- receiving -----------------------------------------------------------------------
    async def _read(self, early: list[codec.Packet]) -> None:
        from atwifi.services.mqtt import codec  # at first use: not at boot

        try:
            for pkt in early:
                await self.handle(pkt)
            while not self.closed:
                data = await self.link.recv()
                if not data:
                    self.lost(CloseReason.CONNECTION, "the broker closed the connection")
                    return
                for pkt in self.decoder.feed(data):
                    await self.handle(pkt)
                # The console is busy and indications pile up: leave the rest in the
                # broker's queue until the host has been sent them. (The console's output
                # gate has no release event to wait on; this polls only while congested.)
                while self.service.events.backlog() > BACKLOG_LIMIT and not self.closed:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
        except codec.ProtocolError as e:
            self.lost(CloseReason.PROTOCOL, f"broker sent bad MQTT: {e}")
        except ServiceError:
            return  # a send failed: lost() already ran
        except (OSError, ssl.SSLError, RuntimeError) as e:
            self.lost(CloseReason.CONNECTION, f"connection error: {e}")

    async def handle(self, pkt: codec.Packet) -> None:
        from atwifi.services.mqtt import codec  # at first use: not at boot

        T = codec.T
        ev = self.service.events
        if isinstance(pkt, codec.Publish):
            if pkt.qos == 2 and pkt.packet_id is not None:
                if pkt.packet_id not in self.incoming_qos2:  # exactly once: first copy only
                    self.incoming_qos2.add(pkt.packet_id)
                    ev.message(0, pkt.topic, pkt.qos, pkt.retain, pkt.dup, pkt.payload)
                await self.send(codec.encode_ack(T.PUBREC, pkt.packet_id))
                return
            ev.message(0, pkt.topic, pkt.qos, pkt.retain, pkt.dup, pkt.payload)
            if pkt.qos == 1 and pkt.packet_id is not None:
                await self.send(codec.encode_ack(T.PUBACK, pkt.packet_id))
            return
        if isinstance(pkt, codec.Ack):
            if pkt.type is T.PUBREL:
                self.incoming_qos2.discard(pkt.packet_id)
                await self.send(codec.encode_ack(T.PUBCOMP, pkt.packet_id))
                return
            self._answer(pkt.type, pkt.packet_id, pkt)
            return
        if isinstance(pkt, codec.Suback):
            self._answer(T.SUBACK, pkt.packet_id, pkt)
            return
        if isinstance(pkt, codec.Bare) and pkt.type is T.PINGRESP:
            self.ping_sent = None
            return
        raise codec.ProtocolError(f"unexpected {type(pkt).__name__} from the broker")

    def _answer(self, kind: T, pid: int, pkt: codec.Packet) -> None:
        fut = self.waiters.get((kind, pid))
        if fut is not None and not fut.done():
            fut.set_result(pkt)
        else:
            self.service.events.note(f"MQTT: {kind.name} for unknown packet {pid} ignored")

    async def _keepalive(self) -> None:
        from atwifi.services.mqtt import codec  # at first use: not at boot

        T = codec.T
        ka = self.params.keep_alive
        while not self.closed:
            wait = self.last_sent + ka - self.loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # a module timer: the keep-alive period
                continue
            self.ping_sent = self.loop.time()
            try:
                await self.send(codec.encode_bare(T.PINGREQ))
            except ServiceError:
                return
            await asyncio.sleep(ka)
            if self.ping_sent is not None and not self.closed:
                self.lost(CloseReason.PROTOCOL, f"no PINGRESP within the keep-alive ({ka} s)")
                return

    # -- the end -------------------------------------------------------------------------
    def lost(
        self, reason: CloseReason, why: str, announce: bool = True, abort: bool = True
    ) -> None:
        if self.closed:
            return
        self.closed = True
        if abort:
            self.link.abort()
        if self.release is not None:
            self.release()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        for fut in self.waiters.values():
            if not fut.done():
                fut.set_exception(ServiceError(MqttFault.NOT_CONNECTED, why))
                fut.exception()  # retrieved: nobody may be waiting any more
        if self.service.session is self:
            self.service.session = None
        self.service.events.note(f"MQTT: connection to {self.params.host} ended: {why}")
        if announce:
            self.service.events.closed(0, reason)


class MqttService:
    def __init__(
        self,
        events: MqttEvents,
        *,
        resolve: Resolve,
        check: Check,
        spawn: Spawn,
        tls: TlsService | None = None,
        websockets: Callable[[], Any] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        faults: Faults | Callable[[], Faults | None] | None = None,
    ) -> None:
        from atwifi.services.net.dial import Dialer

        self.events = events
        # The module's WebSocket service (services/websocket), looked up at each connect: a
        # broker takes one of its two slots, and MQTT over WebSocket runs on it.
        self.websockets = websockets
        self.resolve = resolve
        self.check = check
        self.spawn = spawn
        self.tls = tls
        # The one connection path (services/net/dial.py): policy, fault rules, TLS.
        self.dialer = Dialer(
            check=lambda ip, port: self.check(ip, port or 0), tls=lambda: self.tls, faults=faults
        )
        self.connect_timeout = connect_timeout
        self.session: Session | None = None

    def _session(self, cid: int) -> Session:
        if cid != 0:
            raise ServiceError(MqttFault.BAD_ID, f"MQTT id {cid}: the module has only id 0")
        if self.session is None or self.session.closed:
            raise ServiceError(MqttFault.NOT_CONNECTED, "no broker connected")
        return self.session

    @property
    def connected(self) -> bool:
        return self.session is not None and not self.session.closed

    # -- connect -------------------------------------------------------------------------
    async def connect(self, p: ConnectParams) -> tuple[int, bool]:
        """Returns (id, session present)."""
        if self.connected:
            raise ServiceError(MqttFault.ALREADY_CONNECTED, "one broker at a time")
        if p.will is not None:
            check_topic(p.will.topic, filter=False)
        ip = await self.resolve(p.host)
        try:
            self.dialer.allow(ip, p.port)
        except Blocked as e:
            raise ServiceError(MqttFault.CONNECT_FAILED, f"{p.host} ({ip}:{p.port}): {e}") from None
        ws = self.websockets() if self.websockets is not None else None
        if ws is None:
            return await self._connect(p, ip, None, None)
        # MQTT on TCP keeps WSOCKON off the broker's address; over WebSocket the connection
        # on the slot counts by itself.
        slot = ws.reserve("mqtt", server=(ip, p.port) if p.path is None else None)
        try:
            return await self._connect(p, ip, ws, slot)
        except BaseException:
            ws.release(slot)
            raise

    async def _connect(
        self, p: ConnectParams, ip: str, ws: Any, slot: int | None
    ) -> tuple[int, bool]:
        use_tls = False  # TLS asked for (and, after autodetect, still on)
        own: tuple[bytes, bytes] | None = None
        if p.tls:
            if self.tls is None:
                raise ServiceError(MqttFault.NO_TLS, "no TLS service")
            tls = self.tls
            own = await tls.own_cert()
            if own is not None and not await asyncio.to_thread(key_matches, *own):
                raise ServiceError(
                    MqttFault.KEY_MISMATCH, "the loaded key is not the device certificate's key"
                )
            use_tls = True

        where = f"{p.host} ({ip}:{p.port}{'' if p.path is None else ' ws ' + p.path})"
        # One budget for TCP, TLS, the upgrade and CONNACK: drivers wait 5 s for the answer.
        deadline = asyncio.get_running_loop().time() + self.connect_timeout
        host_header = p.host if p.port in (80, 443) else f"{p.host}:{p.port}"

        async def attempt(tls: bool) -> Link | WsLink:
            return await open_link(
                self.dialer,
                ip,
                p.port,
                tls=tls,
                server_name=p.host,
                path=p.path,
                host_header=host_header,
                timeout=self.connect_timeout,
                deadline=deadline,
            )

        via_service = ws is not None and p.path is not None
        try:
            try:
                if via_service:
                    link = await self._open_ws(ws, slot, p, deadline)
                else:
                    link = await attempt(use_tls)
            except (ssl.SSLError, ConnectionError) as e:
                if via_service:
                    raise
                if p.tls != TLS_AUTO or not use_tls or _cert_alert(e):
                    raise
                # Autodetect: the broker did not answer the TLS handshake as TLS.
                self.events.note(f"MQTT: {where} does not speak TLS ({e}): plain MQTT")
                own, use_tls = None, False
                link = await attempt(False)
        except Blocked as e:
            raise ServiceError(MqttFault.CONNECT_FAILED, f"{where}: {e}") from None
        except TimeoutError:
            raise ServiceError(MqttFault.CONNECT_FAILED, f"{where}: timed out") from None
        except UpgradeRefused as e:
            raise ServiceError(
                MqttFault.UPGRADE_REFUSED, f"{where}: {e.detail}", status=e.status
            ) from None
        except ssl.SSLError as e:
            raise self._tls_failure(e, own, where) from None
        except OSError as e:
            raise ServiceError(MqttFault.CONNECT_FAILED, f"{where}: {e}") from None
        from atwifi.services.mqtt import codec  # at first use: not at boot

        try:
            decoder = codec.Decoder()
            # Over the WebSocket service, TLS and its checks were the service's.
            secure = use_tls and not via_service
            session_present, early = await self._handshake(
                link, secure, own, where, deadline, decoder, p
            )
        except BaseException:
            link.abort()
            raise
        release = None
        if ws is not None and slot is not None and p.path is None:
            release = functools.partial(ws.release, slot)  # the slot held for a TCP broker
        session = Session(self, link, p, decoder, release)
        self.session = session
        session.start(self.spawn, early)
        self.events.note(
            f"MQTT: connected to {where} as {p.client_id.decode('latin-1')!r}"
            f" (session {'restored' if session_present else 'new'})"
        )
        return 0, session_present

    async def _open_ws(self, ws: Any, slot: int | None, p: ConnectParams, deadline: float) -> Any:
        from atwifi.services.mqtt.transport import QuietWsEvents, ServiceWsLink

        async with asyncio.timeout_at(deadline):
            client = await ws.open(
                p.host,
                p.port,
                p.path,
                tls=p.tls,
                protocols=["mqtt"],
                slot=slot,
                events=QuietWsEvents(self.events.note),
            )
        return ServiceWsLink(ws, slot, client)

    async def _handshake(
        self,
        link: Link | WsLink,
        secure: bool,
        own: tuple[bytes, bytes] | None,
        where: str,
        deadline: float,
        decoder: codec.Decoder,
        p: ConnectParams,
    ) -> tuple[bool, list[codec.Packet]]:
        from atwifi.services.mqtt import codec  # at first use: not at boot

        # MQTT 3.1.1 3.1.3.1: an empty client id is only allowed with a clean session.
        clean = p.clean_session or not p.client_id
        data = codec.encode_connect(
            p.client_id, p.keep_alive, clean, p.username, p.password, p.will
        )
        try:
            async with asyncio.timeout_at(deadline):
                await link.send(data)
                while True:
                    chunk = await link.recv()
                    if not chunk:
                        raise self._dropped(secure, own, where, "closed the connection")
                    packets = decoder.feed(chunk)
                    if packets:
                        break
        except TimeoutError:
            raise ServiceError(MqttFault.NO_ANSWER, f"{where}: no CONNACK") from None
        except ssl.SSLError as e:
            raise self._tls_failure(e, own, where) from None
        except codec.ProtocolError as e:
            raise ServiceError(MqttFault.CONNECT_FAILED, f"{where}: {e}") from None
        except OSError as e:
            raise self._dropped(secure, own, where, str(e)) from None
        first, rest = packets[0], packets[1:]
        if not isinstance(first, codec.Connack):
            raise ServiceError(MqttFault.CONNECT_FAILED, f"{where}: {first!r} before CONNACK")
        if first.code != 0:
            raise ServiceError(
                MqttFault.BROKER_REFUSED,
                f"{where}: CONNACK code {first.code} ({_CONNACK.get(first.code, 'unknown')})",
                code=first.code,
            )
        return first.session_present, rest

    def _tls_failure(
        self, e: ssl.SSLError, own: tuple[bytes, bytes] | None, where: str
    ) -> ServiceError:
        if not _cert_alert(e):
            return ServiceError(MqttFault.CONNECT_FAILED, f"{where}: TLS: {e}")
        if own is None:
            return ServiceError(
                MqttFault.NO_CLIENT_CERT,
                f"{where}: the broker demands a client certificate and none is loaded"
                f" (AT+S.TLSCERT=Cert and Key): {e}",
            )
        return ServiceError(
            MqttFault.CERT_REFUSED,
            f"{where}: the broker refused the device certificate ({e});"
            f" {self._own_validity(own[0])}",
        )

    def _dropped(
        self, secure: bool, own: tuple[bytes, bytes] | None, where: str, what: str
    ) -> ServiceError:
        """The broker went away between the handshake and CONNACK. After a TLS handshake in
        which the module presented its certificate, that is how a broker refuses it (TLS 1.3
        checks the client after the client's handshake is done; mosquitto may just reset).
        Without a certificate to present, the broker most likely wanted one."""
        if secure and own is None:
            return ServiceError(
                MqttFault.NO_CLIENT_CERT,
                f"{where}: the broker {what} before CONNACK, right after the TLS handshake,"
                " and the module has no client certificate: the broker demands one and none"
                " is loaded (AT+S.TLSCERT=Cert and Key)",
            )
        if secure:
            assert own is not None
            return ServiceError(
                MqttFault.CERT_REFUSED,
                f"{where}: the broker {what} before CONNACK, right after the TLS handshake:"
                f" it refused the device certificate; {self._own_validity(own[0])}",
            )
        return ServiceError(MqttFault.CONNECT_FAILED, f"{where}: {what} before CONNACK")

    def _own_validity(self, cert_der: bytes) -> str:
        from cryptography import x509

        assert self.tls is not None
        cert = x509.load_der_x509_certificate(cert_der)
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        now = self.tls.module_time()
        state = "expired" if now > end else "not yet valid" if now < start else "valid"
        return (
            f"device certificate valid {start:%Y-%m-%d} to {end:%Y-%m-%d}, {state} at module"
            f" time {now:%Y-%m-%d %H:%M}"
        )

    # -- commands ------------------------------------------------------------------------
    async def publish(
        self, cid: int, topic: bytes, payload: bytes, qos: int = 0, retain: bool = False
    ) -> None:
        from atwifi.services.mqtt import codec  # at first use: not at boot

        T = codec.T
        s = self._session(cid)
        check_topic(topic, filter=False)
        if qos == 0:
            await s.send(codec.encode_publish(codec.Publish(topic, payload, 0, retain)))
            return
        pid = s.packet_id()
        pub = codec.Publish(topic, payload, qos, retain, False, pid)
        dup = codec.encode_publish(codec.Publish(topic, payload, qos, retain, True, pid))
        if qos == 1:
            await s.request(codec.encode_publish(pub), T.PUBACK, pid, dup)
            return
        await s.request(codec.encode_publish(pub), T.PUBREC, pid, dup)
        rel = codec.encode_ack(T.PUBREL, pid)
        await s.request(rel, T.PUBCOMP, pid, rel)

    async def subscribe(self, cid: int, topic: bytes, qos: int = 0) -> int:
        """Returns the QoS the broker granted."""
        from atwifi.services.mqtt import codec  # at first use: not at boot

        T = codec.T
        s = self._session(cid)
        check_topic(topic, filter=True)
        pid = s.packet_id()
        data = codec.encode_subscribe(pid, [(topic, qos)])
        ack = await s.request(data, T.SUBACK, pid, data)
        code = ack.codes[0] if ack.codes else 0x80
        if code == 0x80:
            raise ServiceError(MqttFault.SUBSCRIBE_REFUSED, f"broker refused {topic!r}")
        return code

    async def unsubscribe(self, cid: int, topic: bytes) -> None:
        from atwifi.services.mqtt import codec  # at first use: not at boot

        T = codec.T
        s = self._session(cid)
        check_topic(topic, filter=True)
        pid = s.packet_id()
        data = codec.encode_unsubscribe(pid, [topic])
        await s.request(data, T.UNSUBACK, pid, data)

    async def disconnect(self, cid: int) -> None:
        """DISCONNECT, then close: the broker drops the will. No closed() event."""
        from atwifi.services.mqtt import codec  # at first use: not at boot

        T = codec.T
        s = self._session(cid)
        with contextlib.suppress(ServiceError):
            await s.send(codec.encode_bare(T.DISCONNECT))
        s.lost(CloseReason.CONNECTION, "MQTTDISC", announce=False, abort=False)
        await s.link.close()

    def on_link_down(self) -> None:
        """The module's network is gone: the connection dies as a real one would (no
        DISCONNECT, so the broker publishes the will)."""
        if self.session is not None:
            self.session.lost(CloseReason.CONNECTION, "the network link went down")

    def close_all(self) -> None:
        """Reset or power-off: the connection goes without an indication."""
        if self.session is not None:
            self.session.lost(CloseReason.CONNECTION, "module reset", announce=False)
        self.session = None


_CONNACK = {
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}
