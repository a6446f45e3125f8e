"""Hybrid logical clocks: wall milliseconds, a counter, and the node id.

Encoded as fixed-width text so that SQLite and Python order them the same way
with plain string comparison: "0001732500000000-00000-<node>".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

MAX_AHEAD_MS = 5 * 60 * 1000  # DESIGN §4 failure case 5


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
        self._wall = wall or (lambda: int(time.time() * 1000))
        self._steady = steady or steady_seconds
        self._anchor: tuple[int, float] | None = None   # (hub time in ms, steady seconds) at the last sync
        self._lock = threading.Lock()
        self._last = Stamp.parse(last) if last else Stamp(0, 0, node)

    def synced(self, offset_ms: int) -> None:
        """A sync measured the hub's time: stamp with it, and from now on let time run on from
        it by the steady clock, so setting the laptop's clock later moves nothing (DESIGN §4,
        failure case 5). A restarted server has no anchor until its next sync; it uses its
        own clock plus the last offset."""
        with self._lock:
            self.offset_ms = offset_ms
            self._anchor = (self._wall() + offset_ms, self._steady())

    def physical_ms(self) -> int:
        """Hub-corrected time in ms since the epoch."""
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
