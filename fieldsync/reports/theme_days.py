"""Activities held and people reached per theme day, for a unit and year (issue 19).

An activity counts for the theme day it is tagged with (records/theme_days.py),
not for the date alone: a 全民健身日 walk held on 8月9日 still serves 8月8日. People
reached are the check-ins of those activities, one per person and activity
(人次), read from rollup_daily by session (its key), so a city over millions of
check-ins answers from the year's tagged sessions only.
"""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.records import theme_days
from fieldsync.reports.units import Unit, sessions_in
from fieldsync.sheets.table import Table, unit_line

COLUMNS = ("序号", "主题日", "日期", "活动次数", "参与人次")


def per_day(db: Database, unit: Unit, year: int) -> list[dict]:
    """The year's theme days in date order, each with the unit's activities and people reached."""
    where, params = sessions_in(unit, year, alias="s")
    held = {row["theme_day"]: row for row in db.query(
        "SELECT s.theme_day, COUNT(*) AS activities,"
        " COALESCE(SUM((SELECT SUM(d.people) FROM rollup_daily d WHERE d.session_id = s.id)), 0) AS reached"
        f" FROM sessions s WHERE s.theme_day IS NOT NULL AND {where} GROUP BY s.theme_day", params)}
    return [{**day, "activities": held.get(day["id"], {}).get("activities", 0),
             "reached": held.get(day["id"], {}).get("reached", 0)} for day in theme_days.for_year(db, year)]


def dates(day: dict) -> str:
    start, end = day["starts_on"], day["ends_on"]
    first = f"{int(start[5:7])}月{int(start[8:10])}日"
    return first if end == start else f"{first}—{int(end[5:7])}月{int(end[8:10])}日"


def table(db: Database, unit: Unit, year: int) -> Table:
    days = per_day(db, unit, year)
    rows = [(number, day["name"], dates(day), day["activities"], day["reached"])
            for number, day in enumerate(days, start=1)]
    rows.append(("合计", "", "", sum(d["activities"] for d in days), sum(d["reached"] for d in days)))
    return Table(title=f"{year}年全民健身主题日活动情况表", headers=COLUMNS, rows=rows,
                 unit_line=unit_line(unit.name), bold_rows=frozenset({len(rows) - 1}), sheet_name="主题日活动")
