"""Node: batches sized to the link the laptop has, and a sync that keeps going through cuts.

A township office's ADSL or a village hall's 4G hotspot carries tens of kilobytes a second and
drops connections now and then. A batch bigger than what gets through between two drops is
never acknowledged; one much smaller pays its request's headers and round trip too often.
`Pacing` sizes batches as TCP sizes its window (decision 0260): it starts small and doubles
after every batch answered within a second (slow start); once one takes longer (a slow link or a
busy hub) or a connection is cut, it grows by a step per acknowledged batch instead, and halves
after each cut. A batch whose connection was cut goes again once, the same batch (the hub
answers a replay if it had taken it); cut again, it is read anew at the smaller size.
`KeepGoing` is how long `fieldsync sync`, the "Sync now" button and auto-sync go on through cuts.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

FIRST_BATCH = 200            # changes in the batch that opens a push, sent alone
SMALLEST_BUDGET = 4_096      # bytes of a compressed batch body, at the least
STEP = 1_024                 # bytes a batch grows by per acknowledgement out of slow start, at the least
SLOW_START_SECONDS = 1.0     # doubling stops at the first batch answered later than this
SMALLEST_PAGE = 10           # changes a pull asks for, at the least
TOO_BIG = 1.5                # a batch read past this many times the budget is read again smaller


@dataclass
class Pacing:
    """How big the next batch is, learnt from the answers and cuts of this sync."""

    budget: int | None = None          # bytes of a compressed batch; None: slow start, not cut yet
    per_change: float | None = None    # bytes per change in the last batch read
    steady: bool = False               # out of slow start: the link was cut, or a batch was slow
    cuts: int = 0
    resent: int = 0                    # batches sent a second time after a cut
    pull_page: int | None = None       # changes a pull page asks for; None: as many as the hub sends
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def changes(self, most: int, *, first: bool = False) -> int:
        """Changes to read into the next batch (at most `most`)."""
        with self._lock:
            if self.budget is None or self.per_change is None:   # nothing acknowledged yet
                return min(most, FIRST_BATCH if first else 2 * FIRST_BATCH)
            return max(1, min(most, int(self.budget / self.per_change)))

    def read(self, count: int, size: int) -> int | None:
        """A batch of `count` changes came to `size` bytes: the smaller count to read instead
        when it is far past the budget (records of another kind follow), else None."""
        with self._lock:
            self.per_change = size / max(count, 1)
            if self.budget is not None and count > 1 and size > TOO_BIG * self.budget:
                return max(1, int(self.budget / self.per_change))
            return None

    def acknowledged(self, size: int, seconds: float) -> None:
        """A batch of `size` bytes was answered `seconds` after it was sent."""
        with self._lock:
            self.steady = self.steady or seconds > SLOW_START_SECONDS
            if self.steady:
                budget = self.budget or size
                self.budget = budget + max(STEP, budget // 16)
            else:
                self.budget = max(self.budget or 0, 2 * size)

    def was_cut(self, size: int) -> None:
        """A batch of `size` bytes was cut on its way: the next ones are half as big."""
        with self._lock:
            self.steady = True
            self.cuts += 1
            self.budget = max(SMALLEST_BUDGET, min(self.budget or size, size) // 2)


    def page_cut(self, asked: int) -> None:
        """A pull page of `asked` changes was cut: ask for a quarter as many."""
        with self._lock:
            self.cuts += 1
            self.pull_page = max(SMALLEST_PAGE, asked // 4)

    def page_answered(self, most: int) -> None:
        with self._lock:
            if self.pull_page is not None:
                self.pull_page = min(most, self.pull_page + self.pull_page // 4 + 1)


@dataclass
class KeepGoing:
    """Try again after a failed connection, waiting longer each time (with jitter), for as long as
    tries get somewhere: give up after `tries` failures in a row that moved nothing, or once
    `deadline` seconds have passed since the sync began."""

    tries: int = 6
    unreached: int = 2        # tries while the hub never answered in this sync (it is down)
    deadline: float = 900.0
    first_wait: float = 0.5
    longest_wait: float = 15.0
    started: float = field(default_factory=time.monotonic)
    failures: int = 0         # in a row without progress
    attempts: int = 1

    def wait_before_next(self, progressed: bool, *, reached: bool = True,
                         rng: random.Random = random) -> float | None:
        """Seconds to wait before the next try, or None to give up. `reached`: the hub answered
        at least once in this sync; a hub that never did is down, and auto-sync's backoff, not
        this loop, waits for it."""
        self.failures = 0 if progressed else self.failures + 1
        wait = min(self.first_wait * 2 ** max(self.failures - 1, 0), self.longest_wait) * rng.uniform(0.8, 1.2)
        most = self.tries if reached else self.unreached
        if self.failures >= most or time.monotonic() - self.started + wait > self.deadline:
            return None
        self.attempts += 1
        return wait

    def elapsed(self) -> float:
        return time.monotonic() - self.started
