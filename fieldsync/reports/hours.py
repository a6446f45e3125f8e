"""Volunteer hours and the 最美社会体育指导员 leaderboard.

Per person and session: from the first 'in' to the last 'out', capped by the
hours the session credits; with no 'out' (or an 'out' before the 'in'), the
session's credited hours, at most ESTIMATE_CAP_MINUTES, marked estimated
(docs/decisions/0032-volunteer-hours.md, 0170). The rule lives in
records/hour_reviews.CREDIT. Hours count once the session has ended and a
reviewer approved them, with their corrections (0170). Volunteer hours come from volunteer and
theme-day sessions: at a training a person is taught, at a monitoring session
measured.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from fieldsync.records import hour_reviews
from fieldsync.records.schemas import LEVELS, MASS_ACTIVITY_KINDS
from fieldsync.reports.merges import ids_of
from fieldsync.reports.schema import IS_INSTRUCTOR
from fieldsync.reports.units import IN_UNIT, Unit, names
from fieldsync.sheets.table import Table, unit_line
from fieldsync.store import clock

# Volunteer hours are earned at the mass fitness activities, the sessions that serve residents.
VOLUNTEER_KINDS = MASS_ACTIVITY_KINDS
COLUMNS = ("名次", "姓名", "乡镇（街道）", "村（社区）", "等级", "活动次数", "志愿服务时长（小时）", "备注")
# A row whose hours include a forgotten scan-out, credited the planned length (decision 0170).
ESTIMATED_MARK = "含估算"


def hours(minutes: int | None) -> float:
    return round((minutes or 0) / 60, 2)


# reviewed()'s condition for a year's volunteering; its parameters: now, the year, VOLUNTEER_KINDS.
OF_YEAR = "a.year = ? AND a.kind IN (SELECT value FROM json_each(?))"


def reviewed(where: str) -> str:
    """Per attendance that counts: the resolved person, the session, the credited minutes
    (a reviewer's correction, else first in to last out, a forgotten out estimated and capped)
    and whether they are estimated. Only ended sessions whose latest verdict is an approval."""
    a = "a"
    return (f"SELECT COALESCE(pm.kept_id, a.person_id) AS resolved_id, a.session_id, a.year, a.kind,"
            f" COALESCE(c.minutes, {hour_reviews.CREDIT.format(a=a)}) AS minutes,"
            f" {hour_reviews.UNCORRECTED_ESTIMATE.format(a=a, k='c')} AS estimated"
            " FROM rollup_attendance a JOIN sessions s ON s.id = a.session_id"
            " JOIN hour_verdicts v ON v.session_id = a.session_id AND v.action = 'approve'"
            " LEFT JOIN person_merges pm ON pm.merged_id = a.person_id"
            " LEFT JOIN hour_corrections c ON c.session_id = a.session_id AND c.person_id = a.person_id"
            f" WHERE a.counted = 1 AND a.ins > 0 AND {hour_reviews.ENDS.format(s='s')} <= ? AND {where}")


def _volunteering(select: str, instructors_only: bool) -> str:
    """SELECT over the reviewed volunteering of a unit's people in a year. The reviewed rows come
    first (approved sessions, then their attendance by key), then their people: the other way
    round SQLite would walk every person of the unit times every approved session."""
    where = f" AND {IS_INSTRUCTOR.format(p='p')}" if instructors_only else ""
    return (f"WITH r AS MATERIALIZED ({reviewed(OF_YEAR)}) SELECT {select} FROM r JOIN people p ON p.id = r.resolved_id"
            f" WHERE {IN_UNIT.format(column='p.town')}{where}")


def _params(unit: Unit, year: int) -> list:
    return [clock.minute(), str(year), json.dumps(VOLUNTEER_KINDS), unit.towns_json]


def leaderboard(db: Database, unit: Unit, year: int, *, limit: int = 50,
                instructors_only: bool = True) -> list[dict]:
    """People ranked by reviewed volunteer hours in the year; by default instructors only (the candidates)."""
    rows = db.query(
        _volunteering("p.id, p.name, p.town, p.village, p.level, COUNT(*) AS sessions, SUM(r.minutes) AS minutes,"
                      " SUM(r.estimated) AS estimated", instructors_only) +
        " GROUP BY p.id ORDER BY minutes DESC, sessions DESC, p.name LIMIT ?", [*_params(unit, year), limit])
    return [{**row, "hours": hours(row["minutes"])} for row in rows]


def totals(db: Database, unit: Unit, year: int) -> dict:
    row = db.execute(_volunteering("COUNT(DISTINCT r.resolved_id), SUM(r.minutes)", False),
                     _params(unit, year)).fetchone()
    return {"volunteers": row[0], "hours": hours(row[1])}


def waiting(db: Database, unit: Unit, year: int) -> list[dict]:
    """Ended volunteer activities of the unit's towns in the year that wait for review (待审核)."""
    return [s for s in hour_reviews.waiting(db, VOLUNTEER_KINDS, unit.towns_json)
            if (s["starts_at"] or "")[:4] == str(year)]


def history(db: Database, person_id: str) -> list[dict]:
    """Every session the person came to, under any id merged into them, newest first, with
    its credited minutes, whether estimated, and its review verdict (None: 待审核)."""
    rows = db.query(
        "SELECT a.session_id, a.person_id, a.first_in, a.last_out, a.ins, a.outs, a.counted,"
        f" COALESCE(k.minutes, {hour_reviews.CREDIT.format(a='a')}) AS minutes,"
        f" {hour_reviews.UNCORRECTED_ESTIMATE.format(a='a', k='k')} AS estimated, v.action AS verdict,"
        " s.title, s.kind, s.starts_at, s.town, s.hours AS credited"
        " FROM (SELECT DISTINCT session_id, person_id FROM checkins"
        "       WHERE person_id IN (SELECT value FROM json_each(?))) c"
        " JOIN rollup_attendance a ON a.session_id = c.session_id AND a.person_id = c.person_id"
        " LEFT JOIN sessions s ON s.id = a.session_id"
        " LEFT JOIN hour_verdicts v ON v.session_id = a.session_id"
        " LEFT JOIN hour_corrections k ON k.session_id = a.session_id AND k.person_id = a.person_id"
        " ORDER BY s.starts_at DESC NULLS LAST, a.first_in DESC NULLS LAST", [json.dumps(ids_of(db, person_id))])
    return [{**row, "hours": hours(row["minutes"]),
             "volunteer": bool(row["counted"]) and row["kind"] in VOLUNTEER_KINDS} for row in rows]


def per_year(db: Database, person_id: str) -> list[dict]:
    """The person's reviewed volunteer hours per year and kind."""
    rows = db.query(
        "SELECT year, kind, COUNT(*) AS sessions, SUM(minutes) AS minutes, SUM(estimated) AS estimated FROM"
        f" ({reviewed('a.person_id IN (SELECT value FROM json_each(?)) AND a.kind IN (SELECT value FROM json_each(?))')})"
        " GROUP BY year, kind ORDER BY year DESC, kind",
        [clock.minute(), json.dumps(ids_of(db, person_id)), json.dumps(VOLUNTEER_KINDS)])
    return [{**row, "hours": hours(row["minutes"])} for row in rows]


def served(db: Database, person_id: str, year: int) -> list[dict]:
    """The person's reviewed volunteer activities of a year, by date: what a 志愿服务记录证明 lists
    (date, activity, 举办单位, credited minutes, whether estimated)."""
    where = "a.person_id IN (SELECT value FROM json_each(?)) AND a.year = ? AND a.kind IN (SELECT value FROM json_each(?))"
    rows = db.query(
        f"SELECT s.starts_at, s.title, s.organizer, r.minutes, r.estimated FROM ({reviewed(where)}) r"
        " JOIN sessions s ON s.id = r.session_id ORDER BY s.starts_at, s.title",
        [clock.minute(), json.dumps(ids_of(db, person_id)), str(year), json.dumps(VOLUNTEER_KINDS)])
    return [{**row, "hours": hours(row["minutes"])} for row in rows]


def table(db: Database, unit: Unit, year: int) -> Table:
    place = names(db)
    rows = [(rank, r["name"], place.get(r["town"], r["town"]), place.get(r["village"], r["village"] or ""),
             LEVELS.get(r["level"], r["level"]), r["sessions"], r["hours"], ESTIMATED_MARK if r["estimated"] else "")
            for rank, r in enumerate(leaderboard(db, unit, year, limit=500), start=1)]
    return Table(title=f"{year}年社会体育指导员志愿服务时长排行（最美社会体育指导员候选）", headers=COLUMNS,
                 rows=rows, unit_line=unit_line(unit.name), sheet_name="志愿服务时长")
