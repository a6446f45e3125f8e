"""Auto-sync inside the node server (and a child hub's, towards its parent): a push soon after the
laptop's records change, so today's scans are in the city's figures today, and a full sync every
few minutes in any case; backing off while the hub does not answer (doubling, with jitter so a
town's laptops do not all call at once). Decision 0261.

Soon means: PUSH_QUIET_SECONDS after the last change, or PUSH_SOON_SECONDS after the first one
still waiting, whichever comes first, so a session scanning without a pause still goes out every
few seconds. The thread only reads the outbox's last number to notice changes; the kiosk never
waits on it or on the network. Started by `fieldsync serve` on a node; AUTO_SYNC_SECONDS = 0
turns it off (tests do), PUSH_SOON_SECONDS = 0 leaves only the timer.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path

from fieldsync.errors import FieldsyncError
from fieldsync.store import Store
from fieldsync.sync import enrollment
from fieldsync.sync.link import KeepGoing
from fieldsync.sync.upstream import node

MAX_BACKOFF_SECONDS = 3600
PUSH_QUIET_SECONDS = 1.5    # push once the outbox has not grown for this long
LOOK_SECONDS = 0.5          # how often the thread looks at the outbox
log = logging.getLogger("fieldsync.sync")


def next_delay(interval: float, failures: int, *, rng: random.Random = random) -> float:
    """Seconds to wait: the interval, doubled per failure in a row, capped, with ±10% jitter."""
    base = min(interval * (2 ** failures), max(interval, MAX_BACKOFF_SECONDS))
    return base * rng.uniform(0.9, 1.1)


class AutoSync:
    def __init__(self, store: Store, instance: Path, interval: float, soon: float = 0):
        self.store, self.instance, self.interval, self.soon = store, Path(instance), interval, soon
        self.failures = 0
        self.syncs = 0
        self._thread = threading.Thread(target=self._run, name="fieldsync-autosync", daemon=True)
        self._top = self._outbox_top()
        self._changed_at: float | None = None    # when the outbox last grew
        self._waiting_since: float | None = None  # when the oldest change not pushed yet was noticed

    def start(self) -> AutoSync:
        self._thread.start()
        return self

    def _run(self) -> None:
        next_sync = time.monotonic() + next_delay(self.interval, 0)
        not_before = 0.0   # while the hub is down: neither the timer nor a change calls it before this
        while True:   # a daemon thread: it ends with the server
            time.sleep(LOOK_SECONDS if self.soon else max(next_sync - time.monotonic(), 0))
            now = time.monotonic()
            if now < not_before or (now < next_sync and not self._push_due(now)):
                continue
            if enrollment.credentials(self.instance) is None:   # a hub with no parent (yet)
                next_sync, self._waiting_since = now + self.interval, None
                continue
            if self._sync():
                next_sync = time.monotonic() + next_delay(self.interval, 0)
            else:
                next_sync = not_before = time.monotonic() + min(next_delay(self.soon or self.interval, self.failures),
                                                                next_delay(self.interval, self.failures))

    def _push_due(self, now: float) -> bool:
        """Records changed: due after a quiet spell, or once the oldest has waited `soon` seconds."""
        if not self.soon:
            return False
        top = self._outbox_top()
        if top != self._top:
            self._top, self._changed_at = top, now
            self._waiting_since = self._waiting_since or now
        if self._waiting_since is None:
            return False
        return now - self._changed_at >= min(PUSH_QUIET_SECONDS, self.soon) or now - self._waiting_since >= self.soon

    def _outbox_top(self) -> int:
        return self.store.db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0]

    def _sync(self) -> bool:
        started, self._top = time.monotonic(), self._outbox_top()
        self._waiting_since = None
        try:
            summary = node.sync(self.store, self.instance, keep_going=KeepGoing())
            self.failures = 0
            self.syncs += 1
            log.info("auto-sync: %s", summary.text())
            return True
        except FieldsyncError as exc:   # written to sync_state for the banner already
            self.failures += 1
            log.warning("auto-sync failed (%s): %s", exc.code, exc.message)
        except Exception:   # never let the thread die: the next round may work
            self.failures += 1
            log.exception("auto-sync failed")
        finally:
            if self._outbox_top() != self._top:   # scans made while it ran have waited since it began
                self._waiting_since = started
        return False


def start_for(app) -> AutoSync | None:
    """Start auto-sync for an app being served (not when turned off). A hub syncs only once it
    has enrolled with a parent hub (decision 0130); until then each round finds no credentials."""
    interval = int(app.config.get("AUTO_SYNC_SECONDS") or 0)
    if interval <= 0:
        return None
    soon = int(app.config.get("PUSH_SOON_SECONDS") or 0)
    auto = AutoSync(app.extensions["fieldsync.store"], Path(app.instance_path), interval, soon).start()
    app.extensions["fieldsync.autosync"] = auto
    return auto
