"""Keeping the rollups right: triggers do it row by row (reports/schema.py); this module
folds synced check-ins in later and in bulk, rebuilds everything from the facts, and lets
a bulk load skip the per-row work.

Every check-in, session and person written one by one fires the triggers in its own
transaction (docs/decisions/0030-rollups-kept-by-triggers.md). A block of synced
check-ins goes without them (`deferred`): its rowids are noted in rollup_pending and
folded in afterwards, many blocks in one statement, when the writer has nothing else
to do (`fold`, run by the store when idle). A report reads the rollups only after
`current` has folded whatever still waits (docs/decisions/0016-fold-after-the-ack.md).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from sqlite_utils import Database

from fieldsync.reports import rollup_sets
from fieldsync.reports.schema import (
    ATTENDANCE_UPSERT,
    PER_SCAN_TRIGGER,
    REBUILD,
    TRIGGERS,
    attendance_of_scans,
)
from fieldsync.store import Store, triggers


def _drop_triggers(db: Database, only: str | None = None) -> list[str]:
    """Set the rollup triggers (or the one named) aside; return what puts them back."""
    return triggers.set_aside(db, "rollup_", only)


def _create(db: Database, statements) -> None:
    triggers.restore(db, statements)


# The check-ins of the pending ranges :first..:last (rollup_pending.after), one attendance row
# per (session, person), as one statement; the attendance triggers then run once per row it
# makes or changes. Grouped person first: the person-year rows those triggers add to are then
# visited in key order, each page once, instead of at random (about 10% of the fold on the
# bench's hub). NOT INDEXED: read each range by rowid, not the whole (session, person) index.
FOLD = attendance_of_scans(" AND r.after BETWEEN :first AND :last",
                           "rollup_pending r JOIN checkins c NOT INDEXED ON c.rowid > r.after AND c.rowid <= r.upto",
                           group="c.person_id, c.session_id") + ATTENDANCE_UPSERT
FOLD_ROWS = 20_000       # check-ins folded in one transaction: about 0.1 s of the writer
MAX_PENDING = 200_000    # check-ins left to fold at most; past it a block folds at once


@contextmanager
def deferred(db: Database):
    """Insert a batch of check-ins inside this block (in an open transaction) without their
    rollup work: it is noted in rollup_pending and done later by `fold`, for many blocks in
    one statement. Where the rollups are not kept (a town laptop) nothing is noted.

    The block's check-ins must be the newest rows of checkins (plain inserts do that).
    Should more than MAX_PENDING check-ins wait, the oldest are folded now, in this
    transaction: a report never waits for more than that.
    """
    after = _top(db)
    saved = _drop_triggers(db, PER_SCAN_TRIGGER)
    if not saved:
        yield db
        return
    try:
        yield db
        upto = _top(db)
        if upto > after:
            db.execute("INSERT INTO rollup_pending (after, upto) VALUES (?, ?)", [after, upto])
            while _pending_rows(db) > MAX_PENDING:
                fold(db)
    finally:
        _create(db, saved)


def fold(db: Database, rows: int | None = None) -> bool:
    """Fold the oldest pending ranges, about `rows` check-ins (FOLD_ROWS; one range at least),
    into the rollups; True if more wait. Run it in a write."""
    rows = FOLD_ROWS if rows is None else rows
    ranges = db.execute("SELECT after, upto FROM rollup_pending ORDER BY after").fetchall()
    if not ranges:
        return False
    taken, count = 0, 0
    while taken < len(ranges) and (taken == 0 or count + ranges[taken][1] - ranges[taken][0] <= rows):
        count += ranges[taken][1] - ranges[taken][0]
        taken += 1
    first, last = ranges[0][0], ranges[taken - 1][0]
    if triggers.on_postgres(db):
        rollup_sets.fold(db, FOLD, first, last)
    else:
        db.execute(FOLD, {"first": first, "last": last})
    db.execute("DELETE FROM rollup_pending WHERE after BETWEEN ? AND ?", [first, last])
    return taken < len(ranges)


def current(store: Store) -> None:
    """Fold every check-in still waiting, so what a report reads next is whole."""
    while store.db.execute("SELECT 1 FROM rollup_pending LIMIT 1").fetchone():
        store.write(lambda db: fold(db, MAX_PENDING))


def _top(db: Database) -> int:
    return db.execute("SELECT COALESCE(MAX(rowid), 0) FROM checkins").fetchone()[0]


def _pending_rows(db: Database) -> int:
    return db.execute("SELECT COALESCE(SUM(upto - after), 0) FROM rollup_pending").fetchone()[0]


def _rebuild_and_restore(db: Database, triggers: list[str]) -> None:
    _create(db, _statements(REBUILD))
    db.execute("DELETE FROM rollup_pending")   # the rebuild took every check-in
    _create(db, triggers)


def rebuild(db: Database) -> None:
    """Recompute every rollup from checkins and sessions. Run it inside one write."""
    _rebuild_and_restore(db, _drop_triggers(db))


@contextmanager
def bulk_load(db: Database):
    """Insert millions of check-ins without per-row trigger work, then rebuild once.

    Until the block ends the rollups are stale; meant for loading a data set
    (the report bench), not for a serving hub.
    """
    saved = _drop_triggers(db)
    try:
        yield db
    finally:
        _rebuild_and_restore(db, saved)


def _statements(script: str):
    """A script's statements one by one (trigger bodies kept whole), for use inside a write:
    sqlite3's executescript would commit the writer's open transaction first."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""


def keep_live(store: Store, wanted: bool) -> None:
    """Hubs keep the rollups current as rows arrive. A town laptop goes without the
    triggers: no node page reads the rollups, and on every scan they cost about a
    quarter of the check-in's CPU. Asking for them again rebuilds them from the facts.
    """
    def work(db: Database) -> None:
        present = _drop_triggers(db) if not wanted else triggers.names(db, "rollup_")
        if wanted and not present:
            _rebuild_and_restore(db, _statements(TRIGGERS))

    store.write(work)
    store.when_idle(fold, wanted)

