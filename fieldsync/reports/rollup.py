"""Keeping the rollups right: triggers do it row by row (reports/schema.py); this module
rebuilds them from the facts, and lets a bulk load skip the per-row work.

The hub's merge needs no hook: every check-in and session it writes fires the
triggers in its own transaction (docs/decisions/0030-rollups-kept-by-triggers.md).
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlite_utils import Database

from fieldsync.reports.schema import REBUILD


def _drop_triggers(db: Database) -> list[str]:
    """Drop the rollup triggers; return their SQL to create them again."""
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                      " AND name LIKE 'rollup!_%' ESCAPE '!'").fetchall()
    for name, _ in rows:
        db.execute(f"DROP TRIGGER {name}")
    return [sql for _, sql in rows]


def _rebuild_and_restore(db: Database, triggers: list[str]) -> None:
    db.executescript(REBUILD)
    for sql in triggers:
        db.execute(sql)


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
