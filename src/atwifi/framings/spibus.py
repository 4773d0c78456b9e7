"""The module's end of the SPI bus, sans I/O: chip select, full-duplex transfers, IRQ, reset.

``SpiSlave`` turns what the host clocks (MOSI) into what the module clocks back (MISO), byte
for byte, and keeps the lines' state. It knows the packet format only as far as the bus needs
it (lengths, where a command head ends); what a packet means is ``SpiFraming``'s business.

The rules (wire-notes "SPI"; the choices are in docs/behaviour.md, "SPI console"):

* Between packets each byte the host clocks is a **sync slot**. When the module has a packet
  to send, it answers the slot with ``0x02`` and the packet follows, whatever the host clocks
  meanwhile (a host that clocked ``0x02`` to write lost the race and reads instead). When it
  has nothing, it answers the idle byte and a ``0x02`` from the host starts a master packet, a
  ``0x00`` is a mere poll, any other byte is noise: the rest of that chip-select period is
  ignored.
* IRQ is low while the module has a packet to send, and while it waits for the ``{data}`` of
  a command whose head is in; it goes high once that data is in (so a host waiting for IRQ
  high after writing data always sees the edge) and stays high otherwise.
* Chip select: bytes clocked while it is released are ignored (the idle byte comes back). A
  packet may span chip-select periods at the places drivers release it: after the sync byte,
  before and within the ``{data}`` of a command, and anywhere in a packet the host is reading.
  Released anywhere else in a master packet (inside its length or head), the packet is
  dropped and the module reports it with a kind-2 packet (critical error, indication 2).
* Reset low holds the module: the bus forgets everything, IRQ is low (as at power-up), MISO
  idle; reset high lets it boot.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from atwifi.framings.spi import E_MISSING, KIND_ERROR, START, encode_slave, head_size

IDLE = 0xFF  # what MISO carries when the module has nothing to say
POLL = 0x00  # the host's sync byte when it only wants to read
BACKLOG_LIMIT = 64 * 1024  # module output kept while no host reads it (oldest packets dropped)

_SYNC, _READ, _WRITE, _DISCARD = range(4)
_NAMES = {_SYNC: "sync", _READ: "read", _WRITE: "write", _DISCARD: "discard"}


class SpiSlave:
    """The module's SPI slave port.

    Inputs: ``select()``, ``deselect()``, ``transfer(mosi) -> miso``, ``set_reset(low)``,
    ``push(bytes)`` (module output: slave packets). Outputs: ``take_packets()`` (complete
    master packets, start and length bytes included, for the framing), ``take_irq()`` (IRQ
    level changes since the last call, in order), ``take_notes()`` (for the trace).
    """

    def __init__(
        self,
        idle: int = IDLE,
        backlog: int = BACKLOG_LIMIT,
        wifi_state: Callable[[], int] | None = None,
    ) -> None:
        self.idle = idle
        self.backlog = backlog
        self._wifi_state = wifi_state or (lambda: 0)
        self.selected = False
        self.in_reset = False
        # False while the module's console is the UART: it then ignores the bus.
        self.active = True
        self._out: deque[bytes] = deque()  # whole slave packets waiting to be read
        self._out_bytes = 0
        self._partial = bytearray()  # module output that is not a whole packet yet
        self._reading: bytes | None = None
        self._rpos = 0
        self._state = _SYNC
        self._w = bytearray()  # the master packet under way, after its start byte
        self._asked_data = False  # IRQ went low to ask for a command's {data}
        self._packets: list[bytes] = []
        self._notes: list[str] = []
        self._irq_changes: list[int] = []
        self.irq = self._level()
        self.dropped = 0  # bytes of output dropped because nobody read them

    # -- state --------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return _NAMES[self._state]

    @property
    def pending(self) -> int:
        """Bytes of module output not yet clocked out."""
        reading = len(self._reading) - self._rpos if self._reading is not None else 0
        return self._out_bytes + reading

    def _head_done(self) -> bool:
        """The master packet under way has its whole head and still owes {data}."""
        w = self._w
        if len(w) < 2:
            return False
        length = (w[0] << 8) | w[1]
        head = head_size(w[2:])
        return head is not None and head < length and len(w) - 2 >= head

    def _level(self) -> int:
        if self.in_reset:
            return 0
        if not self.active:
            return 1
        if self._state == _WRITE:
            return 0 if self._head_done() else 1
        if self._state == _READ or self._out:
            return 0
        return 1

    def _set_irq(self, level: int) -> None:
        if level != self.irq:
            self.irq = level
            self._irq_changes.append(level)

    def _update(self) -> None:
        level = self._level()
        if self._state == _WRITE and level == 0:
            self._asked_data = True
        self._set_irq(level)

    # -- outputs --------------------------------------------------------------------------

    def take_packets(self) -> list[bytes]:
        packets, self._packets = self._packets, []
        return packets

    def take_irq(self) -> list[int]:
        changes, self._irq_changes = self._irq_changes, []
        return changes

    def take_notes(self) -> list[str]:
        notes, self._notes = self._notes, []
        return notes

    # -- inputs -----------------------------------------------------------------------------

    def push(self, data: bytes) -> None:
        """Module output (slave packets, possibly several or a part of one)."""
        if self.in_reset:
            return
        buf = self._partial
        buf += data
        while len(buf) >= 5:
            if buf[0] != START:  # cannot happen with SpiFraming output; never wedge on it
                i = buf.find(START)
                del buf[: len(buf) if i < 0 else i]
                continue
            total = 5 + (buf[3] | buf[4] << 8)
            if len(buf) < total:
                break
            packet = bytes(buf[:total])
            del buf[:total]
            self._out.append(packet)
            self._out_bytes += total
        while self._out_bytes > self.backlog and len(self._out) > 1:
            old = self._out.popleft()
            self._out_bytes -= len(old)
            self.dropped += len(old)
            self._notes.append(f"SPI: nobody reads: dropped a packet of {len(old)} bytes")
        self._update()

    def select(self) -> None:
        self.selected = True

    def deselect(self) -> None:
        if not self.selected:
            return
        self.selected = False
        if self._state == _DISCARD:
            self._state = _SYNC
        elif self._state == _WRITE and self._w and not self._head_done():
            self._notes.append(
                f"SPI: chip select released {len(self._w)} bytes into a master packet:"
                " packet dropped"
            )
            self._w.clear()
            self._state = _SYNC
            self._asked_data = False
            self._error(E_MISSING, b"Missing argument(s)")
        self._update()

    def _error(self, number: int, text: bytes) -> None:
        packet = encode_slave(KIND_ERROR, self._wifi_state(), number, text)
        self._out.append(packet)
        self._out_bytes += len(packet)

    def set_reset(self, low: bool) -> None:
        """The reset line: low holds the module in reset (everything on the bus is lost)."""
        self.in_reset = low
        if low:
            self.clear()
        self._update()

    def set_active(self, active: bool) -> None:
        """Whether the module's console is SPI (console_enabled=0) since its last boot."""
        if active != self.active:
            self.active = active
            self.clear()
        self._update()

    def clear(self) -> None:
        """The module rebooted or stopped: forget every packet, both ways."""
        self._out.clear()
        self._out_bytes = 0
        self._partial.clear()
        self._reading = None
        self._rpos = 0
        self._w.clear()
        self._asked_data = False
        self._state = _DISCARD if self.selected else _SYNC

    def host_changed(self) -> None:
        """A new host took the bus: a packet half read is sent again whole, one half written
        is dropped, chip select is released."""
        if self._reading is not None:
            self._out.appendleft(self._reading)
            self._out_bytes += len(self._reading)
            self._reading = None
        self._w.clear()
        self._asked_data = False
        self._state = _SYNC
        self.selected = False
        self._update()

    def transfer(self, mosi: bytes) -> bytes:
        """One full-duplex transfer: the MISO bytes clocked back, as many as ``mosi``."""
        n = len(mosi)
        miso = bytearray((self.idle,)) * n
        if not self.selected or self.in_reset or not self.active:
            return bytes(miso)
        i = 0
        while i < n:
            state = self._state
            if state == _SYNC:
                if self._out:
                    self._reading = self._out.popleft()
                    self._out_bytes -= len(self._reading)
                    self._rpos = 0
                    self._state = _READ
                    continue  # the packet's start byte answers this very slot
                b = mosi[i]
                i += 1
                if b == START:
                    self._state = _WRITE
                    self._w.clear()
                elif b != POLL:
                    self._notes.append(
                        f"SPI: wrong start byte 0x{b:02X}: ignored until chip select is released"
                    )
                    self._state = _DISCARD
            elif state == _READ:
                r = self._reading
                assert r is not None
                take = min(n - i, len(r) - self._rpos)
                miso[i : i + take] = r[self._rpos : self._rpos + take]
                self._rpos += take
                i += take
                if self._rpos == len(r):
                    self._reading = None
                    self._state = _SYNC
            elif state == _WRITE:
                w = self._w
                want = 2 if len(w) < 2 else 2 + ((w[0] << 8) | w[1])
                take = min(n - i, want - len(w))
                w += mosi[i : i + take]
                i += take
                if len(w) >= 2 and len(w) == 2 + ((w[0] << 8) | w[1]):
                    self._packets.append(bytes((START,)) + bytes(w))
                    w.clear()
                    self._state = _SYNC
                    if self._asked_data:
                        self._asked_data = False
                        self._set_irq(1)  # "data received": the edge a driver waits for
            else:  # _DISCARD: until chip select is released
                break
        self._update()
        return bytes(miso)
