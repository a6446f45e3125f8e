"""Auto-sync inside the node server (and a child hub's, towards its parent): every few minutes while the hub answers, backing off when
it does not (doubling up to an hour, with jitter so a town's laptops do not all call at once).

Started by `fieldsync serve` on a node; AUTO_SYNC_SECONDS = 0 turns it off (tests do).
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
from fieldsync.sync.upstream import node

MAX_BACKOFF_SECONDS = 3600
log = logging.getLogger("fieldsync.sync")


def next_delay(interval: float, failures: int, *, rng: random.Random = random) -> float:
    """Seconds to wait: the interval, doubled per failure in a row, capped, with ±10% jitter."""
    base = min(interval * (2 ** failures), max(interval, MAX_BACKOFF_SECONDS))
    return base * rng.uniform(0.9, 1.1)


class AutoSync:
    def __init__(self, store: Store, instance: Path, interval: float):
        self.store, self.instance, self.interval = store, Path(instance), interval
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="fieldsync-autosync", daemon=True)

    def start(self) -> AutoSync:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:   # a daemon thread: it ends with the server
            time.sleep(next_delay(self.interval, self.failures))
            if enrollment.credentials(self.instance) is None:
                continue
            try:
                summary = node.sync(self.store, self.instance)
                self.failures = 0
                log.info("auto-sync: %s", summary.text())
            except FieldsyncError as exc:   # written to sync_state for the banner already
                self.failures += 1
                log.warning("auto-sync failed (%s): %s", exc.code, exc.message)
            except Exception:   # never let the thread die: the next round may work
                self.failures += 1
                log.exception("auto-sync failed")


def start_for(app) -> AutoSync | None:
    """Start auto-sync for an app being served (not when turned off). A hub syncs only once it
    has enrolled with a parent hub (decision 0130); until then each round finds no credentials."""
    interval = int(app.config.get("AUTO_SYNC_SECONDS") or 0)
    if interval <= 0:
        return None
    auto = AutoSync(app.extensions["fieldsync.store"], Path(app.instance_path), interval).start()
    app.extensions["fieldsync.autosync"] = auto
    return auto
