"""Keeping the rollups right: triggers do it row by row (reports/schema.py); this module
folds a batch of check-ins in at once, rebuilds everything from the facts, and lets
a bulk load skip the per-row work.

Nothing needs calling for the rollups to stay right: every check-in, session and
person written fires the triggers in its own transaction. `folded` only makes a
big batch cheaper (docs/decisions/0030-rollups-kept-by-triggers.md).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from sqlite_utils import Database

from fieldsync.reports.schema import (
    ATTENDANCE_UPSERT,
    FACT_COLUMNS,
    PER_SCAN_TRIGGER,
    REBUILD,
    SESSION_FACTS,
    TRIGGERS,
)
from fieldsync.store import Store


def _drop_triggers(db: Database, only: str | None = None) -> list[str]:
    """Drop the rollup triggers (or the one named); return their SQL to create them again."""
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                      " AND name LIKE 'rollup!_%' ESCAPE '!' AND (? IS NULL OR name = ?)", [only, only]).fetchall()
    for name, _ in rows:
        db.execute(f"DROP TRIGGER {name}")
    return [sql for _, sql in rows]


def _create(db: Database, statements) -> None:
    for sql in statements:
        db.execute(sql)


# The check-ins inserted after rowid :after, one attendance row per (session, person), as
# one statement; the attendance triggers then run once per row it makes or changes.
# Grouped person first: the person-year rows those triggers add to are then visited in key
# order, each page once, instead of at random (about 10% of the fold on the bench's hub).
# NOT INDEXED: read the batch by rowid, not the whole (session, person) index in its order.
FOLD = (f"INSERT INTO rollup_attendance (session_id, person_id, first_in, last_out, ins, outs,"
        f" {', '.join(FACT_COLUMNS)}) SELECT c.session_id, c.person_id,"
        " MIN(CASE WHEN c.direction = 'in' THEN c.scanned_at END),"
        " MAX(CASE WHEN c.direction = 'out' THEN c.scanned_at END),"
        f" SUM(c.direction = 'in'), SUM(c.direction = 'out'), {', '.join(f.format(s='s') for f in SESSION_FACTS)}"
        " FROM checkins c NOT INDEXED LEFT JOIN sessions s ON s.id = c.session_id"
        " WHERE c.person_id IS NOT NULL AND c.rowid > :after GROUP BY c.person_id, c.session_id"
        + ATTENDANCE_UPSERT)


@contextmanager
def folded(db: Database):
    """Insert a batch of check-ins inside this block (in an open transaction): their rollup
    work runs as one statement at the end, once per (session, person) instead of per scan.

    The block's check-ins must be the newest rows of checkins (plain inserts do that).
    If the block raises, nothing is folded: the caller rolls its inserts back.
    """
    after = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM checkins").fetchone()[0]
    saved = _drop_triggers(db, PER_SCAN_TRIGGER)
    if not saved:  # rollups not kept here (a town laptop, keep_live): nothing to fold
        yield db
        return
    try:
        yield db
        db.execute(FOLD, {"after": after})
    finally:
        _create(db, saved)


def _rebuild_and_restore(db: Database, triggers: list[str]) -> None:
    _create(db, _statements(REBUILD))
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
        present = _drop_triggers(db) if not wanted else [
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                         " AND name LIKE 'rollup!_%' ESCAPE '!'")]
        if wanted and not present:
            _rebuild_and_restore(db, _statements(TRIGGERS))

    store.write(work)

