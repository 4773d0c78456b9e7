"""The module's heap as a ledger: what the module holds is charged to named accounts, so the
free heap a dialect prints moves with it, and running out is the module's failure, never the
host's.

Dialect-free: no number of any table, no text. Services charge and release at buffer-size
changes (a socket opened or closed, a file written to the RAM disk, WINDs held), never per
byte. ``reserve`` is an allocation that may fail (the caller answers its error), ``fits`` asks
before one; ``charge`` and ``set`` record what is held whatever it is (bytes already received,
held WINDs, RAM disk files: their owners keep them within ``free`` themselves). A low-memory
episode begins when an allocation fails; ``on_low`` is called once per episode, which ends when
memory is given back (any release): failing again and again with nothing freed is one episode.
"""

from __future__ import annotations

from collections.abc import Callable


class Heap:
    __slots__ = ("total", "boot_low", "held", "used", "low", "on_low", "_episode")

    def __init__(self, total: int, boot_low: int | None = None) -> None:
        self.total = total
        # The low-water mark right after a boot (what booting took, briefly): min_heap's start.
        self.boot_low = total if boot_low is None else boot_low
        self.held: dict[str, int] = {}
        self.used = 0
        self.low = self.boot_low
        self.on_low: Callable[[], None] | None = None
        self._episode = False

    @property
    def free(self) -> int:
        return self.total - self.used

    def boot(self) -> None:
        """A boot: nothing held, the low-water mark back to its boot value."""
        self.held.clear()
        self.used = 0
        self.low = self.boot_low
        self._episode = False

    def reserve(self, account: str, n: int) -> bool:
        """Allocate ``n`` bytes to ``account``; False (and a low-memory episode) if they do not
        fit: nothing is charged then."""
        if n > self.total - self.used:
            self._start_episode()
            return False
        self.charge(account, n)
        return True

    def fits(self, n: int) -> bool:
        """Whether ``n`` more bytes would fit; False begins a low-memory episode (the caller
        refuses what needed them)."""
        if n > self.total - self.used:
            self._start_episode()
            return False
        return True

    def release(self, account: str, n: int, transient: bool = False) -> None:
        """Give back ``n`` bytes of ``account`` (never more than it holds). ``transient``:
        memory that comes and goes by itself (held WINDs sent): it ends no episode."""
        have = self.held.get(account, 0)
        n = min(n, have)
        if n <= 0:
            return
        if have == n:
            del self.held[account]
        else:
            self.held[account] = have - n
        self.used -= n
        if not transient:
            self._episode = False  # memory given back: a failure from now on is a new episode

    def set(self, account: str, n: int, transient: bool = False) -> None:
        """``account`` now holds ``n`` bytes (already in memory: this cannot fail)."""
        have = self.held.get(account, 0)
        if n > have:
            self.charge(account, n - have)
        elif n < have:
            self.release(account, have - n, transient)

    def account(self, name: str) -> int:
        return self.held.get(name, 0)

    def charge(self, account: str, n: int) -> None:
        """``account`` holds ``n`` more bytes (already in memory: this cannot fail)."""
        if n <= 0:
            return
        self.held[account] = self.held.get(account, 0) + n
        self.used += n
        free = self.total - self.used
        if free < self.low:
            self.low = free

    def _start_episode(self) -> None:
        if self._episode:
            return
        self._episode = True
        if self.on_low is not None:
            self.on_low()
