"""Tables of the reports area: 结对子 pairings, person merges, and the rollups reports read.

The rollups are kept right by triggers, so every way a check-in or a session
lands (kiosk, hub merge, bundle import, bulk load) updates them in the same
transaction (docs/decisions/0030-rollups-kept-by-triggers.md):

    checkins ──▶ rollup_daily        (session, day): scans per day
             └─▶ rollup_attendance   (session, person): first in, last out, credited minutes
                       └─▶ rollup_person_year (year, kind, person): sessions attended, minutes

A rollup row copies what it needs from its session (year, kind, credited
minutes, whether it counts), so a session arriving after its check-ins or
changing later re-stamps its rows, and rollup_person_year follows each
attendance row by taking out its old contribution and adding its new one.
A migration, once released, is never edited: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("fieldsync.reports")

# Check-in days are counted in China Standard Time (UTC+8, no summer time);
# scanned_at is stored in UTC.
DAY_OF_SCAN = "date({c}.scanned_at, '+8 hours')"
# What an attendance row copies from its session.
SESSION_FACTS = ("substr({s}.starts_at, 1, 4)", "{s}.kind",
                 "CAST(ROUND({s}.hours * 60) AS INTEGER)", "COALESCE({s}.status = 'active', 0)")
FACT_COLUMNS = ("year", "kind", "cap_minutes", "counted")


def _facts(alias: str) -> list[str]:
    return [fact.format(s=alias) for fact in SESSION_FACTS]


def _restamp(alias: str) -> str:
    """Copy a session's facts onto its attendance rows."""
    sets = ", ".join(f"{col} = {fact}" for col, fact in zip(FACT_COLUMNS, _facts(alias)))
    return f"UPDATE rollup_attendance SET {sets} WHERE session_id = {alias}.id;"


def _add_contribution(row: str) -> str:
    """Add an attendance row's part to rollup_person_year, if its session counts."""
    return (
        "INSERT INTO rollup_person_year (year, kind, person_id, sessions, minutes)"
        f" SELECT {row}.year, {row}.kind, {row}.person_id, {row}.ins > 0, {row}.minutes"
        f" WHERE {row}.year IS NOT NULL AND {row}.counted AND ({row}.ins > 0 OR {row}.minutes > 0)"
        " ON CONFLICT (year, kind, person_id) DO UPDATE SET"
        " sessions = sessions + excluded.sessions, minutes = minutes + excluded.minutes;")


TABLES = """
CREATE TABLE pairings (
    id TEXT PRIMARY KEY,
    organisation TEXT NOT NULL,     -- the sports organisation (体育社会组织)
    village TEXT NOT NULL,          -- the community or village it is paired with (12-digit code)
    since TEXT,                     -- date the pairing was signed
    notes TEXT,
    created_at TEXT NOT NULL,
    actor TEXT
);
CREATE UNIQUE INDEX pairings_pair ON pairings(organisation, village);
-- Kept apart from sessions, a synced table the hub does not own alone.
CREATE TABLE session_pairings (
    session_id TEXT PRIMARY KEY,
    pairing_id TEXT NOT NULL REFERENCES pairings(id)
);
CREATE INDEX session_pairings_pairing ON session_pairings(pairing_id);
-- A duplicate registration merged into the person kept. Check-ins stay as
-- they were; every report reads person ids through this table.
CREATE TABLE person_merges (
    merged_id TEXT PRIMARY KEY,
    kept_id TEXT NOT NULL,
    merged_at TEXT NOT NULL,
    actor TEXT
);
CREATE INDEX person_merges_kept ON person_merges(kept_id);

CREATE TABLE rollup_daily (
    session_id TEXT NOT NULL,
    day TEXT NOT NULL,
    ins INTEGER NOT NULL DEFAULT 0,
    outs INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, day)
) WITHOUT ROWID;
CREATE INDEX rollup_daily_day ON rollup_daily(day);
-- Credited minutes, the one place the rule is written (decision 0032): from
-- first in to last out, capped by the session's hours; no valid out: the cap.
CREATE TABLE rollup_attendance (
    session_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    first_in TEXT,
    last_out TEXT,
    ins INTEGER NOT NULL DEFAULT 0,
    outs INTEGER NOT NULL DEFAULT 0,
    year TEXT,
    kind TEXT,
    cap_minutes INTEGER,
    counted INTEGER NOT NULL DEFAULT 0,
    minutes INTEGER GENERATED ALWAYS AS (
        CASE WHEN first_in IS NULL OR cap_minutes IS NULL THEN 0
             WHEN last_out IS NULL OR last_out <= first_in THEN cap_minutes
             ELSE MIN(cap_minutes, CAST(ROUND((julianday(last_out) - julianday(first_in)) * 1440) AS INTEGER))
        END) STORED,
    PRIMARY KEY (session_id, person_id)
) WITHOUT ROWID;
CREATE INDEX rollup_attendance_person ON rollup_attendance(person_id);
CREATE TABLE rollup_person_year (
    year TEXT NOT NULL,
    kind TEXT NOT NULL,
    person_id TEXT NOT NULL,
    sessions INTEGER NOT NULL,      -- sessions with an 'in' scan
    minutes INTEGER NOT NULL,       -- credited minutes
    PRIMARY KEY (year, kind, person_id)
) WITHOUT ROWID;
"""

TRIGGERS = f"""
CREATE TRIGGER rollup_checkin_day AFTER INSERT ON checkins BEGIN
    INSERT INTO rollup_daily (session_id, day, ins, outs)
    VALUES (NEW.session_id, {DAY_OF_SCAN.format(c='NEW')}, NEW.direction = 'in', NEW.direction = 'out')
    ON CONFLICT (session_id, day) DO UPDATE SET ins = ins + excluded.ins, outs = outs + excluded.outs;
END;
CREATE TRIGGER rollup_checkin_attendance AFTER INSERT ON checkins WHEN NEW.person_id IS NOT NULL BEGIN
    INSERT INTO rollup_attendance (session_id, person_id, first_in, last_out, ins, outs, {', '.join(FACT_COLUMNS)})
    SELECT NEW.session_id, NEW.person_id,
           CASE WHEN NEW.direction = 'in' THEN NEW.scanned_at END,
           CASE WHEN NEW.direction = 'out' THEN NEW.scanned_at END,
           NEW.direction = 'in', NEW.direction = 'out', {', '.join(_facts('s'))}
    FROM (SELECT 1) LEFT JOIN sessions s ON s.id = NEW.session_id WHERE 1
    ON CONFLICT (session_id, person_id) DO UPDATE SET
        first_in = MIN(COALESCE(first_in, excluded.first_in), COALESCE(excluded.first_in, first_in)),
        last_out = MAX(COALESCE(last_out, excluded.last_out), COALESCE(excluded.last_out, last_out)),
        ins = ins + excluded.ins, outs = outs + excluded.outs;
END;
CREATE TRIGGER rollup_attendance_added AFTER INSERT ON rollup_attendance BEGIN
    {_add_contribution('NEW')}
END;
CREATE TRIGGER rollup_attendance_changed AFTER UPDATE ON rollup_attendance BEGIN
    UPDATE rollup_person_year SET sessions = sessions - (OLD.ins > 0), minutes = minutes - OLD.minutes
     WHERE OLD.year IS NOT NULL AND OLD.counted
       AND year = OLD.year AND kind = OLD.kind AND person_id = OLD.person_id;
    DELETE FROM rollup_person_year
     WHERE year = OLD.year AND kind = OLD.kind AND person_id = OLD.person_id AND sessions = 0 AND minutes = 0;
    {_add_contribution('NEW')}
END;
CREATE TRIGGER rollup_session_added AFTER INSERT ON sessions BEGIN
    {_restamp('NEW')}
END;
CREATE TRIGGER rollup_session_changed AFTER UPDATE OF starts_at, kind, hours, status ON sessions
WHEN OLD.starts_at IS NOT NEW.starts_at OR OLD.kind IS NOT NEW.kind
  OR OLD.hours IS NOT NEW.hours OR OLD.status IS NOT NEW.status BEGIN
    {_restamp('NEW')}
END;
CREATE TRIGGER rollup_session_deleted AFTER DELETE ON sessions BEGIN
    UPDATE rollup_attendance SET year = NULL, kind = NULL, cap_minutes = NULL, counted = 0
     WHERE session_id = OLD.id;
END;
"""

# Recompute every rollup from checkins and sessions, with the triggers absent
# (the migration runs it before creating them; rollup.rebuild suspends them).
REBUILD = f"""
DELETE FROM rollup_daily;
DELETE FROM rollup_attendance;
DELETE FROM rollup_person_year;
INSERT INTO rollup_daily (session_id, day, ins, outs)
    SELECT c.session_id, {DAY_OF_SCAN.format(c='c')}, SUM(c.direction = 'in'), SUM(c.direction = 'out')
    FROM checkins c GROUP BY 1, 2;
INSERT INTO rollup_attendance (session_id, person_id, first_in, last_out, ins, outs, {', '.join(FACT_COLUMNS)})
    SELECT c.session_id, c.person_id,
           MIN(CASE WHEN c.direction = 'in' THEN c.scanned_at END),
           MAX(CASE WHEN c.direction = 'out' THEN c.scanned_at END),
           SUM(c.direction = 'in'), SUM(c.direction = 'out'), {', '.join(_facts('s'))}
    FROM checkins c LEFT JOIN sessions s ON s.id = c.session_id
    WHERE c.person_id IS NOT NULL GROUP BY c.session_id, c.person_id;
INSERT INTO rollup_person_year (year, kind, person_id, sessions, minutes)
    SELECT year, kind, person_id, SUM(ins > 0), SUM(minutes) FROM rollup_attendance
    WHERE year IS NOT NULL AND counted GROUP BY year, kind, person_id
    HAVING SUM(ins > 0) > 0 OR SUM(minutes) > 0;
"""


@migrations()
def r001_pairings_merges_rollups(db: Database) -> None:
    db.executescript(TABLES + REBUILD + TRIGGERS)
