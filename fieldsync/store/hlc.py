"""Hybrid logical clocks: wall milliseconds, a counter, and the node id.

Encoded as fixed-width text so that SQLite and Python order them the same way
with plain string comparison: "0001732500000000-00000-<node>".
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_AHEAD_MS = 5 * 60 * 1000  # DESIGN §4 failure case 5
# Test hook, never set in production: this process's clock runs that many seconds fast (negative:
# slow), as on a laptop set wrong, so that tests can give the node and the hub different clocks.
FAKE_CLOCK_ENV = "FIELDSYNC_FAKE_CLOCK_OFFSET_SECONDS"
_FAKE_OFFSET_MS = round(float(os.environ.get(FAKE_CLOCK_ENV) or 0) * 1000)
FOLLOW_SECONDS = 1.0   # how often a clock asks whether another process synced its database


def wall_ms() -> int:
    """This computer's clock, in ms since the epoch: what stamps, scan times and the clock offset
    measured at each sync start from."""
    return int(time.time() * 1000) + _FAKE_OFFSET_MS


@dataclass(frozen=True, order=True)
class Stamp:
    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.wall_ms:016d}-{self.counter:05d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        wall, counter, node = text.split("-", 2)
        if len(wall) != 16 or len(counter) != 5:
            raise ValueError(f"not an HLC stamp: {text!r}")
        return cls(int(wall), int(counter), node)


_BOOT_CLOCK = getattr(time, "CLOCK_BOOTTIME", None)


def steady_seconds() -> float:
    """A clock nobody can set that keeps counting while the laptop sleeps: CLOCK_BOOTTIME
    on Linux; elsewhere time.monotonic(), which on Windows counts sleep too."""
    return time.clock_gettime(_BOOT_CLOCK) if _BOOT_CLOCK is not None else time.monotonic()


class HLC:
    """One clock per process. now() never repeats and never goes back."""

    def __init__(self, node: str, *, offset_ms: int = 0, last: str | None = None, wall=None, steady=None):
        self.node = node
        self.offset_ms = offset_ms  # server time minus our time, learnt at sync
        self._wall = wall or wall_ms
        self._steady = steady or steady_seconds
        self._anchor: tuple[int, float] | None = None   # (hub time in ms, steady seconds) at the last sync
        self._lock = threading.RLock()
        self._last = Stamp.parse(last) if last else Stamp(0, 0, node)
        self._latest: Callable[[], tuple[int, int]] | None = None
        self._seen = 0          # the number of the sync this clock's offset comes from
        self._asked = 0.0       # steady seconds when it last asked

    def synced(self, offset_ms: int, number: int | None = None) -> None:
        """A sync (number `number` of this database, when known) measured the hub's time: stamp
        with it, and from now on let time run on from it by the steady clock, so setting the
        laptop's clock later moves nothing (DESIGN §4, failure case 5). A restarted server has
        no anchor until its next sync; it uses its own clock plus the last offset."""
        with self._lock:
            self.offset_ms = offset_ms
            self._anchor = (self._wall() + offset_ms, self._steady())
            if number is not None:
                self._seen = number

    def follow(self, latest: Callable[[], tuple[int, int]], seen: int) -> None:
        """Take the offset of every later sync of this database, whichever process made it: a
        server keeps stamping by the hub's clock after `fieldsync sync` beside it. latest()
        answers (sync number, offset) as last stored; it is asked at most once a second.
        seen is the number of the sync the offset this clock started with comes from."""
        with self._lock:
            self._latest, self._seen, self._asked = latest, seen, self._steady()

    def _catch_up(self) -> None:
        if self._latest is None or self._steady() - self._asked < FOLLOW_SECONDS:
            return
        self._asked = self._steady()
        number, offset_ms = self._latest()   # a read of the database: not under the lock
        with self._lock:
            if number > self._seen:          # never back to an older sync another thread read
                self.synced(offset_ms, number)

    def physical_ms(self) -> int:
        """Hub-corrected time in ms since the epoch."""
        self._catch_up()
        if self._anchor is not None:
            hub_ms, at = self._anchor
            return hub_ms + int((self._steady() - at) * 1000)
        return self._wall() + self.offset_ms

    def now(self) -> str:
        with self._lock:
            wall = self.physical_ms()
            if wall > self._last.wall_ms:
                self._last = Stamp(wall, 0, self.node)
            else:
                self._last = Stamp(self._last.wall_ms, self._last.counter + 1, self.node)
            return str(self._last)

    def observe(self, remote: str) -> str:
        """Merge a stamp received from a peer so later local stamps sort after it.

        A stamp too far ahead of our physical clock is not adopted (a laptop
        whose clock is years off must not drag every clock with it).
        """
        stamp = Stamp.parse(remote)
        with self._lock:
            if stamp.wall_ms - self.physical_ms() <= MAX_AHEAD_MS and stamp > self._last:
                self._last = Stamp(stamp.wall_ms, stamp.counter, self.node)
            return str(self._last)

    @property
    def last(self) -> str:
        return str(self._last)
