"""The SPI packet console (manual section 4, wire-notes "SPI"), sans I/O.

No sockets, no asyncio, no clock. Both ends of the packet format live here:

* the **module** side, ``SpiFraming`` (the runtime's ``Framing`` protocol): master packets
  in, ``Request`` objects out; reply items and WINDs in, slave packets out;
* the **host** side: ``encode_master`` (a command as a master packet), ``SlaveDecoder``
  (the module's byte stream, idle bytes and all, back into ``SlavePacket`` objects).

Master packet (host -> module)::

    0x02  lenHi lenLo  id  nparams  (plen p...)*  data...
          `--------- len counts every byte after the two length bytes ---------'

Slave packet (module -> host)::

    0x02  kind|wifi_state  indication  lenLo lenHi  payload...

The bus itself (chip select, the sync byte, IRQ) is ``atwifi.framings.spibus``; this module
sees whole packets. Choices the manual leaves open: docs/behaviour.md, "SPI console".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from atwifi.runtime.items import Error, Info, Item, Line, Ok, Raw, Request, ResultLine, Wind

START = 0x02
MAX_COMMAND = 512  # manual section 4: "Commands over the SPI have a max length of 512 bytes"
MAX_PACKET = 0xFFFF  # the 2-byte length field

# Kind of event, the high nibble of a slave packet's second byte (manual Table 2).
KIND_WIND = 0x1
KIND_ERROR = 0x2  # critical (asynchronous) error notifications
KIND_RESULT = 0x3  # command results and their data

# Indication numbers of a kind-3 packet (wire-notes: a C# driver's reading).
IND_OK = 0x00  # length 0: the command succeeded (AT-S.OK)
IND_DATA = 0x03  # raw data of a reply (SOCKR, FSP payloads)
IND_MESSAGE = 0xFF  # an AT-S.<text> line of a reply (non-maskable), prefix dropped
IND_RESULT_LINE = 0xFE  # a result line that ends the reply (AT-S.Certificate Error:21)
# Any other indication of kind 3, with length 0: AT-S.ERROR:<indication>.

MAX_PAYLOAD = 1024  # module -> host: long data leaves in packets of at most this many bytes

# Master packets that cannot be a command: the reply (Table 10 numbers).
E_UNKNOWN = 1  # no command has this id
E_MISSING = 2  # the parameters run past the packet's end, or data is short
E_TOO_MANY = 6  # more parameters than the command has, or bytes left over
E_TOO_LONG = 32  # the command (data excluded) is over 512 bytes


class PacketError(ValueError):
    """A master packet that is no command. ``number``: the Table 10 error it answers."""

    def __init__(self, number: int, detail: str) -> None:
        super().__init__(detail)
        self.number = number
        self.detail = detail


@dataclass(slots=True)
class MasterPacket:
    """A master packet's payload, split: command id, parameters, and what follows them."""

    cmd_id: int
    params: tuple[bytes, ...]
    rest: bytes  # the bytes after the last parameter: the {data}, if the command has any

    @property
    def head_size(self) -> int:
        return 2 + sum(1 + len(p) for p in self.params)


@dataclass(slots=True)
class SlavePacket:
    kind: int  # KIND_*
    wifi_state: int
    indication: int
    payload: bytes

    @property
    def is_final(self) -> bool:
        """Ends a command's reply: OK, an error, or a final result line."""
        return self.kind == KIND_RESULT and (
            self.indication == IND_RESULT_LINE
            or (self.indication not in (IND_DATA, IND_MESSAGE) and not self.payload)
        )


# -- encoding ---------------------------------------------------------------------------------


def encode_master(cmd_id: int, params: Iterable[bytes | str] = (), data: bytes = b"") -> bytes:
    """A master packet: ``encode_master(0x44, ["0", "5"], b"hello")`` is the manual's SOCKW
    example. Raises ValueError for what the format cannot carry."""
    body = bytearray((cmd_id, 0))
    count = 0
    for p in params:
        raw = p.encode("latin-1") if isinstance(p, str) else bytes(p)
        if len(raw) > 255:
            raise ValueError(f"a parameter is at most 255 bytes, not {len(raw)}")
        body.append(len(raw))
        body += raw
        count += 1
    if count > 255:
        raise ValueError("at most 255 parameters")
    body[1] = count
    body += data
    if len(body) > MAX_PACKET:
        raise ValueError(f"a packet carries at most {MAX_PACKET} bytes, not {len(body)}")
    return bytes((START, len(body) >> 8, len(body) & 0xFF)) + body


def encode_slave(kind: int, wifi_state: int, indication: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    if n > MAX_PACKET:
        raise ValueError(f"a packet carries at most {MAX_PACKET} bytes")
    return bytes((START, (kind << 4) | (wifi_state & 0x0F), indication, n & 0xFF, n >> 8)) + payload


def _field(value: object) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("latin-1", "replace")


def wind_payload(fields: tuple[object, ...]) -> bytes:
    """WIND payloads carry only the fields, ':'-joined: WIND:55 as ``:0:31:31``."""
    return b":".join(_field(f) for f in fields)


# -- decoding (module side) -------------------------------------------------------------------


def split_master(payload: bytes) -> MasterPacket:
    """A master packet's payload (after the length bytes) as id, parameters and the rest.
    Raises PacketError when the parameters do not fit in the packet."""
    if len(payload) < 2:
        raise PacketError(E_MISSING, f"a packet of {len(payload)} bytes has no parameter count")
    cmd_id, count = payload[0], payload[1]
    pos = 2
    params: list[bytes] = []
    for i in range(count):
        if pos >= len(payload):
            raise PacketError(E_MISSING, f"parameter {i + 1} of {count} is past the packet's end")
        n = payload[pos]
        if pos + 1 + n > len(payload):
            raise PacketError(E_MISSING, f"parameter {i + 1} ({n} bytes) overruns the packet")
        params.append(bytes(payload[pos + 1 : pos + 1 + n]))
        pos += 1 + n
    return MasterPacket(cmd_id, tuple(params), bytes(payload[pos:]))


def head_size(payload: bytes | bytearray) -> int | None:
    """How many bytes of a master payload are its command head (id, count, parameters), from
    the first bytes alone; None until that is known. The bus uses it to ask for {data}."""
    if len(payload) < 2:
        return None
    pos = 2
    for _ in range(payload[1]):
        if pos >= len(payload):
            return None
        pos += 1 + payload[pos]
    return pos


def _number(text: str) -> int | None:
    text = text.strip(" ")
    try:
        return int(text, 16) if text[:2].lower() == "0x" else int(text, 10)
    except ValueError:
        return None


def data_expected(command: Any, params: tuple[str, ...]) -> int | None:
    """How many {data} bytes the table says ``command`` carries with these parameters: None
    for none, -1 when the length parameter is unreadable (the dialect reports that)."""
    data_param = getattr(command, "data", None)
    if data_param is None:
        return None
    names = [p.name for p in getattr(command, "params", ())]
    unless = getattr(command, "data_unless_first", None)
    if unless is not None and params and params[0].strip(" ").lower() == unless.lower():
        return None
    try:
        index = names.index(data_param)
    except ValueError:
        return None
    if index >= len(params):
        return -1
    n = _number(params[index])
    return -1 if n is None or n < 0 else n


class MasterDecoder:
    """The module's receive side: a byte stream of master packets in, whole payloads out.

    Bytes before a start byte are dropped (counted in ``junk``); a packet is handed on once
    its announced length is in. ``awaiting_data``: the command head is in, the rest is not."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.junk = 0  # bytes dropped while looking for a start byte, since the last take

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def reset(self) -> None:
        self._buf.clear()

    def take_junk(self) -> int:
        n, self.junk = self.junk, 0
        return n

    @property
    def awaiting_data(self) -> bool:
        buf = self._buf
        if len(buf) < 3 or buf[0] != START:
            return False
        length = (buf[1] << 8) | buf[2]
        head = head_size(buf[3 : 3 + length])
        return head is not None and head < length and len(buf) - 3 >= head

    def next_payload(self) -> bytes | None:
        buf = self._buf
        if buf and buf[0] != START:
            i = buf.find(START)
            n = len(buf) if i < 0 else i
            del buf[:n]
            self.junk += n
        if len(buf) < 3:
            return None
        length = (buf[1] << 8) | buf[2]
        if len(buf) < 3 + length:
            return None
        payload = bytes(buf[3 : 3 + length])
        del buf[: 3 + length]
        return payload


class SpiFraming:
    """The module's SPI console (the runtime's Framing protocol).

    ``commands``: the dialect's commands by Table 1 id (default: the dialect's
    ``commands_by_id``, else the SPWF04 table). ``wifi_state``: the low nibble of every slave
    packet (default: the dialect's ``status.get("wifi_state")``)."""

    def __init__(
        self,
        dialect: Any = None,
        commands: Mapping[int, Any] | None = None,
        wifi_state: Callable[[], int] | None = None,
    ) -> None:
        self.dialect = dialect
        if commands is None:
            commands = getattr(dialect, "commands_by_id", None)
        if commands is None:
            from atwifi.spwf04.table.commands import BY_ID

            commands = BY_ID
        self.commands = commands
        if wifi_state is None:
            status = getattr(dialect, "status", None)
            wifi_state = (lambda: status.get("wifi_state") or 0) if status is not None else None
        self._wifi_state = wifi_state or (lambda: 0)
        self.out = bytearray()
        self.decoder = MasterDecoder()

    # -- bytes in -----------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        self.decoder.feed(data)

    @property
    def awaiting_data(self) -> bool:
        return self.decoder.awaiting_data

    @property
    def buffered(self) -> int:
        return self.decoder.buffered

    def reset(self) -> None:
        """The module rebooted: what was received is forgotten; what is still to be sent
        (the OK of AT+S.RESET) is not."""
        self.decoder.reset()

    def next_request(self) -> Request | None:
        payload = self.decoder.next_payload()
        junk = self.decoder.take_junk()
        if junk:
            self._note(f"SPI: {junk} bytes before a start byte dropped")
        if payload is None:
            return None
        try:
            return self.request(payload)
        except PacketError as e:
            self._note(f"SPI: packet refused: {e.detail}")
            return Request(None, error=e.number, detail=e.detail)

    def request(self, payload: bytes) -> Request:
        """One master payload as a Request; raises PacketError."""
        packet = split_master(payload)
        command = self.commands.get(packet.cmd_id)
        if command is None:
            raise PacketError(E_UNKNOWN, f"no command has id 0x{packet.cmd_id:02X}")
        if packet.head_size > MAX_COMMAND:
            raise PacketError(E_TOO_LONG, f"a command of {packet.head_size} bytes: over 512")
        table_params = getattr(command, "params", None)
        if table_params is not None and len(packet.params) > len(table_params):
            raise PacketError(
                E_TOO_MANY, f"{len(packet.params)} parameters for {len(table_params)}"
            )
        params = tuple(p.decode("latin-1") for p in packet.params)
        expected = data_expected(command, params)
        rest = packet.rest
        if expected is None:
            if rest:
                raise PacketError(E_TOO_MANY, f"{len(rest)} bytes after the parameters")
            return Request(command, params)
        if expected >= 0 and len(rest) != expected:
            number = E_MISSING if len(rest) < expected else E_TOO_MANY
            raise PacketError(number, f"{len(rest)} bytes of data for a length of {expected}")
        return Request(command, params, rest)

    # -- items out ----------------------------------------------------------------------------

    def send(self, item: Item) -> None:
        state = self._wifi_state() & 0x0F
        out = self.out
        if isinstance(item, Ok):
            out += encode_slave(KIND_RESULT, state, IND_OK)
        elif isinstance(item, Info):
            out += encode_slave(KIND_RESULT, state, IND_MESSAGE, item.text.encode("latin-1"))
        elif isinstance(item, Raw):
            self._chunks(state, IND_DATA, bytes(item.data))
        elif isinstance(item, Line):
            out += encode_slave(KIND_RESULT, state, IND_MESSAGE, bytes(item.data)[:MAX_PACKET])
        elif isinstance(item, Error):
            out += encode_slave(KIND_RESULT, state, item.number & 0xFF)
        elif isinstance(item, ResultLine):
            out += encode_slave(KIND_RESULT, state, IND_RESULT_LINE, item.text.encode("latin-1"))
        elif isinstance(item, Wind):
            out += encode_slave(KIND_WIND, state, item.number & 0xFF, wind_payload(item.fields))

    def _chunks(self, state: int, indication: int, data: bytes) -> None:
        for i in range(0, len(data), MAX_PAYLOAD):
            self.out += encode_slave(KIND_RESULT, state, indication, data[i : i + MAX_PAYLOAD])

    def _note(self, text: str) -> None:
        note = getattr(self.dialect, "trace_note", None)
        if note is not None:
            note(text)


# -- decoding (host side) ---------------------------------------------------------------------


class SlaveDecoder:
    """The host's receive side: MISO bytes in (idle bytes between packets skipped), whole
    ``SlavePacket`` objects out."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped = 0  # idle/unknown bytes seen between packets

    @property
    def in_packet(self) -> bool:
        """A packet has begun and is not complete: the host must clock on."""
        return bool(self._buf) and self._buf[0] == START

    def need(self) -> int:
        """Bytes still owed to the packet under way (0: none under way; at least 1 while its
        header is incomplete)."""
        buf = self._buf
        if not buf or buf[0] != START:
            return 0
        if len(buf) < 5:
            return 5 - len(buf)
        return max(0, 5 + (buf[3] | buf[4] << 8) - len(buf))

    def feed(self, data: bytes) -> list[SlavePacket]:
        buf = self._buf
        buf += data
        out: list[SlavePacket] = []
        while buf:
            if buf[0] != START:
                i = buf.find(START)
                n = len(buf) if i < 0 else i
                self.skipped += n
                del buf[:n]
                continue
            if len(buf) < 5:
                break
            n = buf[3] | buf[4] << 8
            if len(buf) < 5 + n:
                break
            kind_state = buf[1]
            out.append(
                SlavePacket(kind_state >> 4, kind_state & 0x0F, buf[2], bytes(buf[5 : 5 + n]))
            )
            del buf[: 5 + n]
        return out


__all__ = [
    "START",
    "MAX_COMMAND",
    "KIND_WIND",
    "KIND_ERROR",
    "KIND_RESULT",
    "IND_OK",
    "IND_DATA",
    "IND_MESSAGE",
    "IND_RESULT_LINE",
    "PacketError",
    "MasterPacket",
    "SlavePacket",
    "encode_master",
    "encode_slave",
    "wind_payload",
    "split_master",
    "head_size",
    "data_expected",
    "MasterDecoder",
    "SpiFraming",
    "SlaveDecoder",
]
