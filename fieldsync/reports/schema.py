"""Tables of the reports area: 结对子 pairings, person merges, and the rollups reports read.

The rollups are kept right by triggers, so every way a check-in, a session or
a person lands (kiosk, hub merge, bundle import, bulk load) updates them in
the same transaction (docs/decisions/0030-rollups-kept-by-triggers.md):

    checkins ──▶ rollup_attendance   (session, person): first in, last out, credited minutes
                   ├─▶ rollup_daily        (session, day): people whose first scan fell that day
                   └─▶ rollup_person_year  (year, kind, person): sessions attended, minutes

A row copies what its readers filter on: an attendance row its session's year,
kind, credited minutes and whether it counts; a person-year row whom the
person id stands for after merges, and where that person lives and whether
they are an instructor. When a session, a person or a merge changes, the
rows that copied from it are re-stamped. The rows below an attendance row
follow it: a scan adds the change it made; a re-stamp takes out the old part
and adds the new. A scan that changes nothing counted costs one upsert.
A migration, once released, is never edited: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("fieldsync.reports")

# Days are counted in China Standard Time (UTC+8, no summer time); scans are stored in UTC.
DAY = "date({at}, '+8 hours')"
# A truth stored or added up as 1 or 0: written out, so PostgreSQL reads it too (decision 0300).
ONE_IF = "CASE WHEN {} THEN 1 ELSE 0 END"
# What an attendance row copies from its session.
SESSION_FACTS = ("substr({s}.starts_at, 1, 4)", "{s}.kind",
                 "CAST(ROUND({s}.hours * 60) AS INTEGER)", "CASE WHEN {s}.status = 'active' THEN 1 ELSE 0 END")
FACT_COLUMNS = ("year", "kind", "cap_minutes", "counted")
# What a person-year row copies about the person its id stands for.
PERSON_COLUMNS = ("resolved_id", "town", "village", "instructor")
IS_INSTRUCTOR = "{p}.status = 'active' AND {p}.level != 'none'"
PERSON_YEAR_KEY = "year = {r}.year AND kind = {r}.kind AND person_id = {r}.person_id"
ADD_TO_PERSON_YEAR = " ON CONFLICT (year, kind, person_id) DO UPDATE SET" \
                     " sessions = sessions + excluded.sessions, minutes = minutes + excluded.minutes;"


def _facts(alias: str, each: str = "{}") -> str:
    return ", ".join(each.format(fact.format(s=alias)) for fact in SESSION_FACTS)


def _restamp(alias: str) -> str:
    """Copy a session's facts onto its attendance rows."""
    sets = ", ".join(f"{col} = {fact.format(s=alias)}" for col, fact in zip(FACT_COLUMNS, SESSION_FACTS))
    return f"UPDATE rollup_attendance SET {sets} WHERE session_id = {alias}.id;"


def _person_year(row: str, sessions: str, minutes: str, when: str) -> str:
    """Add to the person-year row of an attendance row, creating it with the person's facts."""
    return ("INSERT INTO rollup_person_year (year, kind, person_id, sessions, minutes, "
            f"{', '.join(PERSON_COLUMNS)}) SELECT {row}.year, {row}.kind, {row}.person_id, {sessions}, {minutes},"
            f" w.id, p.town, p.village, {ONE_IF.format(IS_INSTRUCTOR.format(p='p'))}"
            f" FROM (SELECT COALESCE((SELECT kept_id FROM person_merges WHERE merged_id = {row}.person_id),"
            f" {row}.person_id) AS id) w LEFT JOIN people p ON p.id = w.id WHERE {when}"
            + ADD_TO_PERSON_YEAR)


def _add_whole(row: str) -> str:
    """Add an attendance row's whole part to rollup_person_year, if its session counts."""
    return _person_year(row, ONE_IF.format(f"{row}.ins > 0"), f"{row}.minutes",
                        f"{row}.year IS NOT NULL AND {row}.counted = 1 AND ({row}.ins > 0 OR {row}.minutes > 0)")


def _restamp_person(person_id: str, where: str) -> str:
    """Copy onto person-year rows whom they stand for now, and where that person lives."""
    def of_person(expression: str) -> str:
        return f"(SELECT {expression} FROM people WHERE id = {person_id})"

    return (f"UPDATE rollup_person_year SET resolved_id = {person_id}, town = {of_person('town')},"
            f" village = {of_person('village')},"
            f" instructor = COALESCE({of_person(ONE_IF.format(IS_INSTRUCTOR.format(p='people')))}, 0) WHERE {where};")


# A scan, or a batch of them, joins the attendance row of its (session, person).
ATTENDANCE_UPSERT = (" ON CONFLICT (session_id, person_id) DO UPDATE SET"
                     " first_in = MIN(COALESCE(first_in, excluded.first_in), COALESCE(excluded.first_in, first_in)),"
                     " last_out = MAX(COALESCE(last_out, excluded.last_out), COALESCE(excluded.last_out, last_out)),"
                     " ins = ins + excluded.ins, outs = outs + excluded.outs")


IN_SCAN, OUT_SCAN = ONE_IF.format("c.direction = 'in'"), ONE_IF.format("c.direction = 'out'")


def attendance_of_scans(where: str, scans: str = "checkins c", group: str = "c.session_id, c.person_id") -> str:
    """Attendance rows made from the check-ins `where` selects, with their sessions' facts,
    grouped in `group` order."""
    return (f"INSERT INTO rollup_attendance (session_id, person_id, first_in, last_out, ins, outs,"
            f" {', '.join(FACT_COLUMNS)}) SELECT c.session_id, c.person_id,"
            " MIN(CASE WHEN c.direction = 'in' THEN c.scanned_at END),"
            " MAX(CASE WHEN c.direction = 'out' THEN c.scanned_at END),"
            # MAX: one session per group, but PostgreSQL takes no column a GROUP BY does not name
            f" SUM({IN_SCAN}), SUM({OUT_SCAN}), {_facts('s', 'MAX({})')}"
            f" FROM {scans} LEFT JOIN sessions s ON s.id = c.session_id"
            f" WHERE c.person_id IS NOT NULL{where} GROUP BY {group}")


def _daily(row: str, step: str) -> str:
    """Count (or uncount) a person on the day of their first 'in'."""
    return ("INSERT INTO rollup_daily (session_id, day, people)"
            f" SELECT {row}.session_id, {DAY.format(at=row + '.first_in')}, {step}"
            f" WHERE {row}.first_in IS NOT NULL"
            " ON CONFLICT (session_id, day) DO UPDATE SET people = people + excluded.people;")


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
CREATE TABLE rollup_daily (
    session_id TEXT NOT NULL,
    day TEXT NOT NULL,
    people INTEGER NOT NULL,        -- people whose first 'in' at the session fell on this day
    PRIMARY KEY (session_id, day)
) WITHOUT ROWID;
CREATE INDEX rollup_daily_day ON rollup_daily(day);
CREATE TABLE rollup_person_year (
    year TEXT NOT NULL,
    kind TEXT NOT NULL,
    person_id TEXT NOT NULL,
    sessions INTEGER NOT NULL,      -- sessions with an 'in' scan; ≥ 1 in every row (no 'in', no minutes)
    minutes INTEGER NOT NULL,       -- credited minutes
    resolved_id TEXT NOT NULL,      -- the person after merges (decision 0033)
    town TEXT,                      -- where that person lives (NULL: not at the hub yet)
    village TEXT,
    instructor INTEGER NOT NULL,    -- active, level 三级 or above
    PRIMARY KEY (year, kind, person_id)
) WITHOUT ROWID;
-- Only person-year rows carry person indexes: a new person-year is rare, a scan is not;
-- a person's sessions are found through checkins(person_id).
CREATE INDEX rollup_person_year_person ON rollup_person_year(person_id);
CREATE INDEX rollup_person_year_resolved ON rollup_person_year(resolved_id);
-- Distinct people per village, read in order from the index alone (coverage, targets).
-- Its columns change when a person-year row appears or is re-stamped, never on a scan.
CREATE INDEX rollup_person_year_place ON rollup_person_year(year, kind, town, village, resolved_id);
"""

TRIGGERS = f"""
CREATE TRIGGER rollup_checkin AFTER INSERT ON checkins WHEN NEW.person_id IS NOT NULL BEGIN
    INSERT INTO rollup_attendance (session_id, person_id, first_in, last_out, ins, outs, {', '.join(FACT_COLUMNS)})
    SELECT NEW.session_id, NEW.person_id,
           CASE WHEN NEW.direction = 'in' THEN NEW.scanned_at END,
           CASE WHEN NEW.direction = 'out' THEN NEW.scanned_at END,
           {ONE_IF.format("NEW.direction = 'in'")}, {ONE_IF.format("NEW.direction = 'out'")}, {_facts('s')}
    FROM (SELECT 1) LEFT JOIN sessions s ON s.id = NEW.session_id WHERE 1
    {ATTENDANCE_UPSERT};
END;
CREATE TRIGGER rollup_attendance_added AFTER INSERT ON rollup_attendance BEGIN
    {_daily('NEW', '1')}
    {_add_whole('NEW')}
END;
CREATE TRIGGER rollup_attendance_scanned AFTER UPDATE OF first_in, last_out, ins ON rollup_attendance
WHEN NEW.year IS NOT NULL AND NEW.counted = 1 AND OLD.ins > 0 AND OLD.minutes != NEW.minutes BEGIN
    -- Already counted, so its person-year row exists: only the minutes move.
    UPDATE rollup_person_year SET minutes = minutes + NEW.minutes - OLD.minutes
     WHERE {PERSON_YEAR_KEY.format(r='NEW')};
END;
CREATE TRIGGER rollup_attendance_first_in AFTER UPDATE OF ins ON rollup_attendance
WHEN NEW.year IS NOT NULL AND NEW.counted = 1 AND OLD.ins = 0 AND NEW.ins > 0 BEGIN
    -- Only outs until now (which count nothing): the first 'in' brings the whole part.
    {_add_whole('NEW')}
END;
CREATE TRIGGER rollup_attendance_first_day AFTER UPDATE OF first_in ON rollup_attendance
WHEN {DAY.format(at='OLD.first_in')} IS NOT {DAY.format(at='NEW.first_in')} BEGIN
    {_daily('OLD', '-1')}
    DELETE FROM rollup_daily WHERE session_id = OLD.session_id AND day = {DAY.format(at='OLD.first_in')}
                               AND people = 0;
    {_daily('NEW', '1')}
END;
CREATE TRIGGER rollup_attendance_restamped AFTER UPDATE OF {', '.join(FACT_COLUMNS)} ON rollup_attendance
WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in FACT_COLUMNS)} BEGIN
    UPDATE rollup_person_year SET sessions = sessions - {ONE_IF.format('OLD.ins > 0')}, minutes = minutes - OLD.minutes
     WHERE OLD.year IS NOT NULL AND OLD.counted = 1 AND {PERSON_YEAR_KEY.format(r='OLD')};
    DELETE FROM rollup_person_year WHERE {PERSON_YEAR_KEY.format(r='OLD')} AND sessions = 0 AND minutes = 0;
    {_add_whole('NEW')}
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
CREATE TRIGGER rollup_person_added AFTER INSERT ON people BEGIN
    {_restamp_person('NEW.id', 'resolved_id = NEW.id')}
END;
CREATE TRIGGER rollup_person_changed AFTER UPDATE OF town, village, level, status ON people
WHEN OLD.town IS NOT NEW.town OR OLD.village IS NOT NEW.village
  OR OLD.level IS NOT NEW.level OR OLD.status IS NOT NEW.status BEGIN
    {_restamp_person('NEW.id', 'resolved_id = NEW.id')}
END;
CREATE TRIGGER rollup_person_deleted AFTER DELETE ON people BEGIN
    {_restamp_person('OLD.id', 'resolved_id = OLD.id')}
END;
CREATE TRIGGER rollup_merge_added AFTER INSERT ON person_merges BEGIN
    {_restamp_person('NEW.kept_id', 'person_id = NEW.merged_id')}
END;
CREATE TRIGGER rollup_merge_changed AFTER UPDATE OF kept_id ON person_merges BEGIN
    {_restamp_person('NEW.kept_id', 'person_id = NEW.merged_id')}
END;
CREATE TRIGGER rollup_merge_undone AFTER DELETE ON person_merges BEGIN
    {_restamp_person('OLD.merged_id', 'person_id = OLD.merged_id')}
END;
"""

# Recompute every rollup from checkins and sessions, with the triggers absent
# (the migration runs it before creating them; rollup.rebuild suspends them).
REBUILD = f"""
DELETE FROM rollup_daily;
DELETE FROM rollup_attendance;
DELETE FROM rollup_person_year;
{attendance_of_scans('')};
INSERT INTO rollup_daily (session_id, day, people)
    SELECT session_id, {DAY.format(at='first_in')}, COUNT(*) FROM rollup_attendance
    WHERE first_in IS NOT NULL GROUP BY 1, 2;
INSERT INTO rollup_person_year (year, kind, person_id, sessions, minutes, {', '.join(PERSON_COLUMNS)})
    SELECT a.year, a.kind, a.person_id, SUM({ONE_IF.format('a.ins > 0')}), SUM(a.minutes),
           MAX(COALESCE(pm.kept_id, a.person_id)), MAX(p.town), MAX(p.village),
           MAX({ONE_IF.format(IS_INSTRUCTOR.format(p='p'))})
    FROM rollup_attendance a LEFT JOIN person_merges pm ON pm.merged_id = a.person_id
    LEFT JOIN people p ON p.id = COALESCE(pm.kept_id, a.person_id)
    WHERE a.year IS NOT NULL AND a.counted = 1 GROUP BY a.year, a.kind, a.person_id
    HAVING SUM({ONE_IF.format('a.ins > 0')}) > 0 OR SUM(a.minutes) > 0;
"""


# The trigger a block of synced check-ins goes without (rollup.deferred).
PER_SCAN_TRIGGER = "rollup_checkin"


@migrations()
def r001_pairings_merges_rollups(db: Database) -> None:
    db.executescript(TABLES + REBUILD + TRIGGERS)


@migrations()
def r002_rollup_pending(db: Database) -> None:
    # Blocks of synced check-ins inserted without the per-scan trigger and not yet folded into
    # the rollups: rowids after..upto (decision 0016).
    db.execute("CREATE TABLE rollup_pending (after INTEGER PRIMARY KEY, upto INTEGER NOT NULL)")


@migrations()
def r003_triggers_both_backends(db: Database) -> None:
    """The same triggers, their truths written as CASE … THEN 1 ELSE 0 END and their conditions
    compared with 1, so that PostgreSQL reads them too (decision 0300). Same rollups."""
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rollup!_%' ESCAPE '!'"
                              ).fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.executescript(TRIGGERS)
