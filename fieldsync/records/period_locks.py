"""Periods locked by an accepted filing (decision 0150): once the hub above accepts a unit's
统计表 for a year, that unit's activities of the year are not edited until it reopens the year.

The lock is the `filing_reviews` row the parent publishes to the child hub, which passes it to
its laptops with their pull (scope: the child's unit, an ancestor of each of its towns), so a
laptop refuses the edit offline too. A laptop's edit made before the lock reached it is refused
at the hub by the policy (sync/downstream/policy.py) and waits in quarantine as `period_locked`.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from fieldsync.errors import Forbidden
from fieldsync.i18n import _
from fieldsync.records import places

PERIOD_LOCKED = "period_locked"


def locking(db: Database, town: str | None, starts_at: str | None) -> dict | None:
    """The accepted filing that locks an activity of `town` held at `starts_at`, if any."""
    year = str(starts_at or "")[:4]
    if not town or not year.isdigit():
        return None
    if db.execute("SELECT 1 FROM filing_reviews WHERE period = ? AND state = 'accepted' LIMIT 1",
                  [year]).fetchone() is None:
        return None   # the common case, one indexed look-up: nothing of that year is locked
    units = [town, *places.ancestors(db, town)]
    return next(db.query(
        "SELECT town, period, version, decided_at FROM filing_reviews WHERE state = 'accepted' AND period = ?"
        " AND town IN (SELECT value FROM json_each(?))", [year, json.dumps(units)]), None)


def message(lock: dict) -> str:
    """In the reader's language (the hub's audit note is written outside a request: English)."""
    return _("The %(year)s statistics table of %(unit)s was accepted by the hub above (version %(version)s): its "
             "activities are locked until that hub reopens the year.", year=lock["period"], unit=lock["town"],
             version=lock["version"])


def check_open(db: Database, *activities: tuple[str | None, str | None]) -> None:
    """Refuse an edit touching an activity (town, starts_at) of a locked period."""
    for town, starts_at in activities:
        lock = locking(db, town, starts_at)
        if lock:
            raise Forbidden(message(lock), code=PERIOD_LOCKED)   # as the hub's policy refuses it

