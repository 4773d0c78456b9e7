"""The console as a remote serial port (RFC 2217: telnet with the COM-PORT-OPTION).

pyserial's ``rfc2217://host:port``, labgrid's NetworkSerialPort and pytest-embedded connect to it
as to a serial port server. Same one-host-at-a-time and 64 KiB backlog rules as the raw TCP plug.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from atwifi.transports._sockhost import HostConnection, SocketHostTransport, format_hostport
from atwifi.transports.base import miniterm

# Telnet (RFC 854/855) bytes
IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
BINARY, ECHO, SGA, COM_PORT_OPTION = 0, 1, 3, 44
SUPPORTED = frozenset({BINARY, SGA, COM_PORT_OPTION})

# RFC 2217 client -> server commands; the server answers with the same code + 100.
SET_BAUDRATE, SET_DATASIZE, SET_PARITY, SET_STOPSIZE, SET_CONTROL = 1, 2, 3, 4, 5
NOTIFY_LINESTATE, NOTIFY_MODEMSTATE = 6, 7
FLOWCONTROL_SUSPEND, FLOWCONTROL_RESUME = 8, 9
SET_LINESTATE_MASK, SET_MODEMSTATE_MASK, PURGE_DATA = 10, 11, 12
SERVER = 100
PURGE_RECEIVE, PURGE_TRANSMIT, PURGE_BOTH = 1, 2, 3

# Line state: transmit holding and shift registers empty (an idle UART).
LINESTATE_IDLE = 0x60
# Modem state: CTS and DSR up, as the module drives them once its console is up.
MODEMSTATE_READY = 0x30

# A host that never finishes opening the port (a telnet client, netcat) gets the held output once
# it has been quiet this long. pyserial ends its open with PURGE-DATA and is released at once.
OPENING_QUIET_SECONDS = 2.0
MAX_SUBNEGOTIATION = 64

_NORMAL, _IAC, _NEG, _SB, _SB_IAC = range(5)

# SET-CONTROL values: request codes and the state codes they answer with.
_CONTROL_FLOW_OUT = {1, 2, 3, 17, 19}
_CONTROL_FLOW_IN = {14, 15, 16, 18}


@dataclass
class _Session:
    """Telnet parser and option state of one host connection."""

    state: int = _NORMAL
    verb: int = 0
    sb: bytearray = field(default_factory=bytearray)
    we: set[int] = field(default_factory=set)  # options we perform (they said DO)
    they: set[int] = field(default_factory=set)  # options they perform (they said WILL)
    we_asked: set[int] = field(default_factory=set)
    they_asked: set[int] = field(default_factory=set)
    com_port: bool = False
    opening: bool = True
    suspended: bool = False
    quiet_timer: asyncio.TimerHandle | None = None


def _sb(code: int, value: bytes) -> bytes:
    return (
        bytes((IAC, SB, COM_PORT_OPTION, code))
        + value.replace(b"\xff", b"\xff\xff")
        + bytes((IAC, SE))
    )


class Rfc2217Transport(SocketHostTransport):
    kind = "rfc2217"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, baudrate: int = 115200) -> None:
        super().__init__(host, port)
        # The port settings the host asked for. The module does not depend on them (bytes flow
        # whatever the rate), but they are kept so hosts can read back what they set.
        self.baudrate = baudrate
        self.datasize = 8
        self.parity = 1  # none
        self.stopsize = 1
        self.flow = 1  # no flow control
        self.flow_in = 14
        self.dtr = True
        self.rts = True
        self.break_condition = False
        self.linestate_mask = 0
        self.modemstate_mask = 255
        self._sessions: dict[HostConnection, _Session] = {}

    def describe(self) -> str:
        where = format_hostport(self.host, self.port)
        return (
            f"console as RFC 2217 serial port on {where}\n"
            f"  connect: {miniterm(f'rfc2217://{where}')}\n"
            f"  pyserial / labgrid / pytest-embedded: rfc2217://{where}"
        )

    # -- framing ----------------------------------------------------------------------------------

    def _encode(self, data: bytes) -> bytes:
        return data.replace(b"\xff", b"\xff\xff")

    def _connected(self, conn: HostConnection) -> None:
        s = _Session()
        self._sessions[conn] = s
        # Hold module output until the host has opened the port: pyserial empties its input
        # while opening, and would throw the boot indications away.
        self.hold(conn)
        s.we_asked |= {BINARY, SGA, COM_PORT_OPTION}
        s.they_asked |= {BINARY, SGA, COM_PORT_OPTION}
        conn.send_raw(
            bytes(
                (IAC, WILL, BINARY, IAC, DO, BINARY, IAC, WILL, SGA, IAC, DO, SGA)
                + (IAC, WILL, COM_PORT_OPTION, IAC, DO, COM_PORT_OPTION)
            )
        )
        self._restart_quiet_timer(conn, s)

    def _disconnected(self, conn: HostConnection) -> None:
        s = self._sessions.pop(conn, None)
        if s is not None and s.quiet_timer is not None:
            s.quiet_timer.cancel()

    def _restart_quiet_timer(self, conn: HostConnection, s: _Session) -> None:
        if s.quiet_timer is not None:
            s.quiet_timer.cancel()
            s.quiet_timer = None
        if s.opening:
            loop = asyncio.get_running_loop()
            s.quiet_timer = loop.call_later(OPENING_QUIET_SECONDS, self._opened, conn)

    def _opened(self, conn: HostConnection) -> None:
        s = self._sessions.get(conn)
        if s is None or not s.opening:
            return
        s.opening = False
        if s.quiet_timer is not None:
            s.quiet_timer.cancel()
            s.quiet_timer = None
        if not s.suspended:
            self.release(conn)

    def _data(self, conn: HostConnection, data: bytes) -> None:
        s = self._sessions.get(conn)
        if s is None:
            return
        out = bytearray()
        commands = False
        i, n = 0, len(data)
        while i < n:
            st = s.state
            if st == _NORMAL:
                j = data.find(b"\xff", i)
                if j < 0:
                    out += data[i:]
                    break
                out += data[i:j]
                i = j + 1
                s.state = _IAC
                continue
            if st == _SB:
                j = data.find(b"\xff", i)
                end = n if j < 0 else j
                room = MAX_SUBNEGOTIATION - len(s.sb)
                if room > 0:
                    s.sb += data[i : min(end, i + room)]
                if j < 0:
                    break
                i = j + 1
                s.state = _SB_IAC
                continue
            b = data[i]
            i += 1
            if st == _IAC:
                if b == IAC:
                    out.append(IAC)  # IAC IAC: a data byte 0xFF
                    s.state = _NORMAL
                elif b in (WILL, WONT, DO, DONT):
                    s.verb = b
                    s.state = _NEG
                elif b == SB:
                    s.sb.clear()
                    s.state = _SB
                else:  # NOP, BRK, AYT...: nothing a serial port does
                    commands = True
                    s.state = _NORMAL
            elif st == _NEG:
                commands = True
                self._negotiate(conn, s, s.verb, b)
                s.state = _NORMAL
            elif st == _SB_IAC:
                if b == IAC:
                    if len(s.sb) < MAX_SUBNEGOTIATION:
                        s.sb.append(IAC)
                    s.state = _SB
                else:
                    # IAC SE ends it; anything else is a broken host: end it too.
                    commands = True
                    s.state = _NORMAL
                    self._deliver(bytes(out))  # keep data and commands in wire order
                    out.clear()
                    self._subnegotiation(conn, s, bytes(s.sb))
                    s.sb.clear()
                    if b != SE:
                        i -= 1
                        s.state = _IAC
        if out:
            self._deliver(bytes(out))
            if s.opening:
                self._opened(conn)  # a host that talks is done opening
        elif commands and s.opening:
            self._restart_quiet_timer(conn, s)

    # -- telnet options ---------------------------------------------------------------------------

    def _negotiate(self, conn: HostConnection, s: _Session, verb: int, opt: int) -> None:
        reply: int | None = None
        if verb == DO:
            if opt not in SUPPORTED:
                reply = WONT
            elif opt not in s.we:
                s.we.add(opt)
                if opt in s.we_asked:
                    s.we_asked.discard(opt)  # the answer to our WILL
                else:
                    reply = WILL
        elif verb == DONT:
            s.we_asked.discard(opt)
            if opt in s.we:
                s.we.discard(opt)
                reply = WONT
        elif verb == WILL:
            if opt not in SUPPORTED:
                reply = DONT
            elif opt not in s.they:
                s.they.add(opt)
                if opt in s.they_asked:
                    s.they_asked.discard(opt)
                else:
                    reply = DO
        elif verb == WONT:
            s.they_asked.discard(opt)
            if opt in s.they:
                s.they.discard(opt)
                reply = DONT
        if reply is not None:
            conn.send_raw(bytes((IAC, reply, opt)))
        if opt == COM_PORT_OPTION and (opt in s.we or opt in s.they):
            self._com_port_in_use(conn, s)

    def _com_port_in_use(self, conn: HostConnection, s: _Session) -> None:
        if not s.com_port:
            s.com_port = True
            self.note(f"host {conn.peer} uses RFC 2217")
            conn.send_raw(_sb(SERVER + NOTIFY_MODEMSTATE, bytes((self._modemstate(),))))

    def _modemstate(self) -> int:
        return MODEMSTATE_READY & self.modemstate_mask

    # -- COM-PORT-OPTION --------------------------------------------------------------------------

    def _subnegotiation(self, conn: HostConnection, s: _Session, sb: bytes) -> None:
        if len(sb) < 2 or sb[0] != COM_PORT_OPTION:
            return
        # pyserial never answers our own WILL/DO COM-PORT-OPTION when that offer reaches it
        # before it sent its own requests (it takes the offer as agreement): its first
        # subnegotiation is then the only sign that it speaks RFC 2217.
        self._com_port_in_use(conn, s)
        cmd, value = sb[1], sb[2:]
        v = value[0] if value else 0
        answer: bytes | None = None
        if cmd == SET_BAUDRATE:
            rate = int.from_bytes(value[:4], "big") if len(value) >= 4 else 0
            if rate and rate != self.baudrate:
                self.baudrate = rate
                self.note(f"host set baud rate {rate}")
            answer = self.baudrate.to_bytes(4, "big")
        elif cmd == SET_DATASIZE:
            if 5 <= v <= 8:
                self.datasize = v
            answer = bytes((self.datasize,))
        elif cmd == SET_PARITY:
            if 1 <= v <= 5:
                self.parity = v
            answer = bytes((self.parity,))
        elif cmd == SET_STOPSIZE:
            if 1 <= v <= 3:
                self.stopsize = v
            answer = bytes((self.stopsize,))
        elif cmd == SET_CONTROL:
            answer = self._control(v)
        elif cmd == NOTIFY_LINESTATE:
            answer = bytes((LINESTATE_IDLE & 0xFF,))
        elif cmd == NOTIFY_MODEMSTATE:
            answer = bytes((self._modemstate(),))
        elif cmd == FLOWCONTROL_SUSPEND:
            s.suspended = True
            self.hold(conn)
        elif cmd == FLOWCONTROL_RESUME:
            s.suspended = False
            if not s.opening:
                self.release(conn)
        elif cmd == SET_LINESTATE_MASK:
            self.linestate_mask = v
            answer = bytes((v,))
        elif cmd == SET_MODEMSTATE_MASK:
            self.modemstate_mask = v
            answer = bytes((v,))
        elif cmd == PURGE_DATA:
            if v not in (PURGE_RECEIVE, PURGE_TRANSMIT, PURGE_BOTH):
                self.note(f"host sent PURGE-DATA {v}: ignored")
                return
            # Receive buffer: module output not yet sent to the host. While the host is still
            # opening the port the backlog is kept, so that it sees the boot indications.
            # Transmit buffer: host bytes not yet given to the module; there are none, every
            # byte is fed as it arrives.
            if v in (PURGE_RECEIVE, PURGE_BOTH) and not s.opening:
                dropped = self.purge_output()
                if dropped:
                    self.note(f"host purged {dropped} bytes of pending output")
            conn.send_raw(_sb(SERVER + PURGE_DATA, bytes((v,))))
            if v in (PURGE_TRANSMIT, PURGE_BOTH) and s.opening:
                self._opened(conn)  # pyserial's open() ends with this purge
            return
        else:
            self.note(f"host sent unknown COM-PORT-OPTION command {cmd}: ignored")
            return
        if answer is not None:
            conn.send_raw(_sb(SERVER + cmd, answer))

    def _control(self, v: int) -> bytes | None:
        if v == 0:
            return bytes((self.flow,))
        if v in _CONTROL_FLOW_OUT:
            self.flow = v
        elif v == 4:
            return bytes((5 if self.break_condition else 6,))
        elif v in (5, 6):
            self.break_condition = v == 5
            self.note(f"host set BREAK {'on' if self.break_condition else 'off'}")
        elif v == 7:
            return bytes((8 if self.dtr else 9,))
        elif v in (8, 9):
            self.dtr = v == 8
        elif v == 10:
            return bytes((11 if self.rts else 12,))
        elif v in (11, 12):
            self.rts = v == 11
        elif v == 13:
            return bytes((self.flow_in,))
        elif v in _CONTROL_FLOW_IN:
            self.flow_in = v
        else:
            return None
        return bytes((v,))
