"""The fold on PostgreSQL: the rollups' changes for a block of check-ins as set operations
(decision 0300, "the rollup triggers or their replacement").

On SQLite a trigger costs little, and the fold lets the attendance triggers carry each changed
attendance row into rollup_daily and rollup_person_year. On PostgreSQL each trigger call is a
PL/pgSQL function running its statements, tens of times SQLite's cost (hub_merge_bench: the fold
was nine tenths of a merge). So here the attendance triggers stand aside for the fold, and what
they would have added is added in two statements: every touched attendance row's part as it was
is taken out and its part as it is now is put in, by (session, day) and by (year, kind, person),
the parts as the triggers and REBUILD define them (reports/schema.py). The rollups stay equal to
a rebuild (tests/reports check it on both backends).
"""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.reports.schema import DAY, IS_INSTRUCTOR, ONE_IF
from fieldsync.store import triggers

# The (session, person) pairs of the pending ranges :first..:last, and their attendance rows as
# they were before the fold.
_TEMP = (("CREATE TEMP TABLE IF NOT EXISTS fold_keys (session_id text, person_id text,"
         " PRIMARY KEY (session_id, person_id)) ON COMMIT DELETE ROWS"),
         ("CREATE TEMP TABLE IF NOT EXISTS fold_before (session_id text, person_id text, first_in text,"
         " year text, kind text, ins bigint, minutes bigint, counted bigint) ON COMMIT DELETE ROWS"))
_KEYS = ("INSERT INTO fold_keys SELECT DISTINCT c.session_id, c.person_id FROM rollup_pending r"
         " JOIN checkins c ON c.rowid > r.after AND c.rowid <= r.upto"
         " WHERE r.after BETWEEN :first AND :last AND c.person_id IS NOT NULL")
_BEFORE = ("INSERT INTO fold_before SELECT a.session_id, a.person_id, a.first_in, a.year, a.kind, a.ins,"
           " a.minutes, a.counted FROM rollup_attendance a JOIN fold_keys k"
           " ON k.session_id = a.session_id AND k.person_id = a.person_id")
_NOW = "rollup_attendance a JOIN fold_keys k ON k.session_id = a.session_id AND k.person_id = a.person_id"


def _parts(before: str, now: str) -> str:
    """before's rows with a minus, now's with a plus: {a} is each side's alias."""
    return f"{before.format(a='b', sign='-')} FROM fold_before b{{where_b}} UNION ALL " \
           f"{now.format(a='a', sign='')} FROM {_NOW}{{where_a}}"


_DAILY = ("INSERT INTO rollup_daily (session_id, day, people) SELECT session_id, day, SUM(step) FROM ("
          + _parts(f"SELECT {{a}}.session_id, {DAY.format(at='{a}.first_in')} AS day, {{sign}}1 AS step",
                   f"SELECT {{a}}.session_id, {DAY.format(at='{a}.first_in')} AS day, {{sign}}1 AS step").format(
              where_b=" WHERE b.first_in IS NOT NULL", where_a=" WHERE a.first_in IS NOT NULL")
          + ") d GROUP BY session_id, day HAVING SUM(step) <> 0"
          " ON CONFLICT (session_id, day) DO UPDATE SET people = people + excluded.people")
_PART = f"SELECT {{a}}.year, {{a}}.kind, {{a}}.person_id, {{sign}}{ONE_IF.format('{a}.ins > 0')} AS sessions," \
        " {sign}{a}.minutes AS minutes"
_PERSON_YEAR = (
    "INSERT INTO rollup_person_year (year, kind, person_id, sessions, minutes, resolved_id, town, village,"
    " instructor) SELECT d.year, d.kind, d.person_id, SUM(d.sessions), SUM(d.minutes),"
    " MAX(COALESCE(pm.kept_id, d.person_id)), MAX(p.town), MAX(p.village),"
    f" MAX({ONE_IF.format(IS_INSTRUCTOR.format(p='p'))}) FROM ("
    + _parts(_PART, _PART).format(where_b=" WHERE b.year IS NOT NULL AND b.counted = 1",
                                  where_a=" WHERE a.year IS NOT NULL AND a.counted = 1")
    + ") d LEFT JOIN person_merges pm ON pm.merged_id = d.person_id"
    " LEFT JOIN people p ON p.id = COALESCE(pm.kept_id, d.person_id)"
    " GROUP BY d.year, d.kind, d.person_id HAVING SUM(d.sessions) <> 0 OR SUM(d.minutes) <> 0"
    " ON CONFLICT (year, kind, person_id) DO UPDATE SET sessions = sessions + excluded.sessions,"
    " minutes = minutes + excluded.minutes")
_EMPTIED = ("DELETE FROM rollup_daily WHERE people = 0 AND session_id IN (SELECT session_id FROM fold_keys)",
            ("DELETE FROM rollup_person_year WHERE sessions = 0 AND minutes = 0"
            " AND person_id IN (SELECT person_id FROM fold_keys)"))


def fold(db: Database, fold_statement: str, first: int, last: int) -> None:
    """Run the fold's attendance upsert for ranges first..last, then carry what it changed into
    rollup_daily and rollup_person_year as sets. Inside the caller's write."""
    for statement in _TEMP:
        db.native(statement)
    bounds = {"first": first, "last": last}
    db.execute(_KEYS, bounds)
    db.execute(_BEFORE)
    saved = triggers.set_aside(db, "rollup_attendance_")
    try:
        db.execute(fold_statement, bounds)
    finally:
        triggers.restore(db, saved)
    db.execute(_DAILY)
    db.execute(_PERSON_YEAR)
    for statement in _EMPTIED:
        db.execute(statement)
