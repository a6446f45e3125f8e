"""Volunteer hours and the 最美社会体育指导员 leaderboard.

Per person and session: from the first 'in' to the last 'out', capped by the
hours the session credits; with no 'out' (or an 'out' before the 'in'), the
session's credited hours (docs/decisions/0032-volunteer-hours.md). The rule
lives in rollup_attendance.minutes. Volunteer hours come from volunteer and
theme-day sessions: at a training a person is taught, at a monitoring session
measured.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from fieldsync.records.schemas import LEVELS
from fieldsync.reports.kpi import MASS_ACTIVITY_KINDS
from fieldsync.reports.merges import ids_of
from fieldsync.reports.table import Table, unit_line
from fieldsync.reports.units import IN_UNIT, Unit, names

# Volunteer hours are earned at the mass fitness activities, the sessions that serve residents.
VOLUNTEER_KINDS = MASS_ACTIVITY_KINDS
COLUMNS = ("名次", "姓名", "乡镇（街道）", "村（社区）", "等级", "活动次数", "志愿服务时长（小时）")


def hours(minutes: int | None) -> float:
    return round((minutes or 0) / 60, 2)


def _volunteering(instructors_only: bool) -> str:
    """FROM and WHERE for the person-year rows of volunteering in a unit and year."""
    where = (" FROM rollup_person_year WHERE year = ? AND kind IN (SELECT value FROM json_each(?))"
             f" AND {IN_UNIT.format(column='town')}")
    return where + " AND instructor" if instructors_only else where


def leaderboard(db: Database, unit: Unit, year: int, *, limit: int = 50,
                instructors_only: bool = True) -> list[dict]:
    """People ranked by volunteer hours in the year; by default instructors only (the candidates)."""
    rows = db.query(
        "SELECT p.id, p.name, p.town, p.village, p.level, top.sessions, top.minutes FROM ("
        "  SELECT resolved_id, SUM(sessions) AS sessions, SUM(minutes) AS minutes"
        f" {_volunteering(instructors_only)} GROUP BY resolved_id"
        "  ORDER BY minutes DESC, sessions DESC, resolved_id LIMIT ?) top"
        " JOIN people p ON p.id = top.resolved_id ORDER BY top.minutes DESC, top.sessions DESC, p.name",
        [str(year), json.dumps(VOLUNTEER_KINDS), unit.towns_json, limit])
    return [{**row, "hours": hours(row["minutes"])} for row in rows]


def totals(db: Database, unit: Unit, year: int) -> dict:
    row = db.execute(f"SELECT COUNT(DISTINCT resolved_id), SUM(minutes) {_volunteering(False)}",
                     [str(year), json.dumps(VOLUNTEER_KINDS), unit.towns_json]).fetchone()
    return {"volunteers": row[0], "hours": hours(row[1])}


def history(db: Database, person_id: str) -> list[dict]:
    """Every session the person came to, under any id merged into them, newest first."""
    rows = db.query(
        "SELECT a.session_id, a.person_id, a.first_in, a.last_out, a.ins, a.outs, a.minutes, a.counted,"
        " s.title, s.kind, s.starts_at, s.town, s.hours AS credited"
        " FROM (SELECT DISTINCT session_id, person_id FROM checkins"
        "       WHERE person_id IN (SELECT value FROM json_each(?))) c"
        " JOIN rollup_attendance a ON a.session_id = c.session_id AND a.person_id = c.person_id"
        " LEFT JOIN sessions s ON s.id = a.session_id"
        " ORDER BY s.starts_at DESC, a.first_in DESC", [json.dumps(ids_of(db, person_id))])
    return [{**row, "hours": hours(row["minutes"]),
             "volunteer": bool(row["counted"]) and row["kind"] in VOLUNTEER_KINDS} for row in rows]


def per_year(db: Database, person_id: str) -> list[dict]:
    rows = db.query(
        "SELECT year, kind, SUM(sessions) AS sessions, SUM(minutes) AS minutes FROM rollup_person_year"
        " WHERE person_id IN (SELECT value FROM json_each(?)) GROUP BY year, kind ORDER BY year DESC, kind",
        [json.dumps(ids_of(db, person_id))])
    return [{**row, "hours": hours(row["minutes"])} for row in rows]


def table(db: Database, unit: Unit, year: int) -> Table:
    place = names(db)
    rows = [(rank, r["name"], place.get(r["town"], r["town"]), place.get(r["village"], r["village"] or ""),
             LEVELS.get(r["level"], r["level"]), r["sessions"], r["hours"])
            for rank, r in enumerate(leaderboard(db, unit, year, limit=500), start=1)]
    return Table(title=f"{year}年社会体育指导员志愿服务时长排行（最美社会体育指导员候选）", headers=COLUMNS,
                 rows=rows, unit_line=unit_line(unit.name), sheet_name="志愿服务时长")
