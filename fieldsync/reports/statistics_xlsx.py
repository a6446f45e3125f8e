"""The 全民健身志愿服务活动统计表 as the association files it (shared/seeds/001, CONVENTIONS.md).

One row per activity held in the unit that year. A town's table lists its
activities in date order. Above a town the rows are grouped by the two levels
under the unit (a county: by town; a city: by county, then town; a province: by
city, then county), each group in date order and closed by a bold 小计 row, the
table by a 合计 row; subtotal rows are not numbered, so 序号 counts activities.
A group is where the record counts, so a county's table built at its own hub
equals the county's part of the city's (decision 0140). Every kind of session
is listed by default (the notice counts 体质测定, 讲座 and training as volunteer
service too); `kind` narrows it (docs/decisions/0031-report-definitions.md).

The 备注 column carries what the notice asks of each activity besides the nine
columns: its 体育"六进" venue, the groups it served, whether a safety plan is on
file and the theme day it served, then the organiser's own note.
"""

from __future__ import annotations

from datetime import date
from itertools import groupby

from sqlite_utils import Database

from fieldsync.records.schemas import GROUPS_SERVED, MODES, VENUE_TYPES, labels_of
from fieldsync.reports.units import Unit, sessions_in, where_counted
from fieldsync.sheets.table import Table, filed_line, unit_line
from fieldsync.store import clock

COLUMNS = ("序号", "举办单位", "活动名称", "活动简介", "举办方式(线上、线下)", "举办时间",
           "联系人", "联系方式", "备注")
PHONE_COLUMN, SUMMARY_COLUMN, NOTES_COLUMN = 7, 3, 8
# The levels a unit's rows are grouped by, outermost first.
GROUPED_BY = {"province": ("city", "county"), "city": ("county", "town"), "county": ("town",), "town": ()}


def title(year: int) -> str:
    return f"{year}年全民健身志愿服务活动统计表"


def notes(activity: dict) -> str | None:
    """The 备注 cell: "六进：校园；服务对象：青少年/幼儿、老年人；有应急预案；主题日：全民健身日；<note>"."""
    parts = []
    if activity["venue_type"]:
        parts.append(f"六进：{VENUE_TYPES.get(activity['venue_type'], activity['venue_type'])}")
    if activity["groups_served"]:
        parts.append(f"服务对象：{labels_of(GROUPS_SERVED, activity['groups_served'])}")
    if activity["safety_plan"] is not None:
        parts.append("有应急预案" if activity["safety_plan"] else "无应急预案")
    if activity["theme_day_name"]:
        parts.append(f"主题日：{activity['theme_day_name']}")
    if activity["notes"]:
        parts.append(activity["notes"])
    return "；".join(parts) or None


def notes_of(db: Database, session: dict) -> str | None:
    """One session's 备注 as the 统计表 will file it (its page shows it before filing)."""
    name = db.execute("SELECT name FROM theme_days WHERE id = ?", [session.get("theme_day")]).fetchone()
    return notes({**session, "theme_day_name": name[0] if name else None})


def table(db: Database, unit: Unit, year: int, kind: str | None = None,
          filed: date | None = None) -> Table:
    where, params = sessions_in(unit, year, (kind,) if kind else None, alias="s")
    activities = list(db.query(
        "SELECT s.id, s.town, s.organizer, s.title, s.summary, s.mode, s.starts_at, s.contact_name,"
        " s.contact_phone, s.notes, s.venue_type, s.groups_served, s.safety_plan, t.name AS theme_day_name"
        f" FROM sessions s LEFT JOIN theme_days t ON t.id = s.theme_day WHERE {where}"
        " ORDER BY s.starts_at, s.town, s.id", params))
    levels = GROUPED_BY[unit.kind]
    rows: list[tuple] = []
    subtotals: set[int] = set()
    if levels:
        _grouped(db, activities, levels, rows, subtotals)
        subtotals.add(len(rows))
        rows.append(_subtotal("合计", len(activities)))
    else:
        rows = [_row(number, a) for number, a in enumerate(activities, start=1)]
    return Table(title=title(year), headers=COLUMNS, rows=rows, unit_line=unit_line(unit.name),
                 date_line=filed_line(filed or clock.today()), text_columns=frozenset({PHONE_COLUMN}),
                 wrap_columns=frozenset({SUMMARY_COLUMN, NOTES_COLUMN}), bold_rows=frozenset(subtotals),
                 sheet_name="统计表")


def _row(number: int, a: dict) -> tuple:
    return (number, a["organizer"], a["title"], a["summary"], MODES.get(a["mode"], a["mode"]),
            date.fromisoformat(a["starts_at"][:10]), a["contact_name"], a["contact_phone"], notes(a))


def _subtotal(label: str, count: int) -> tuple:
    return ("", label, f"活动{count}次", "", "", "", "", "", "")


def _grouped(db: Database, activities: list[dict], levels: tuple[str, ...], rows: list, subtotals: set) -> None:
    """Append the activities grouped by `levels` (codes in order, dates within), with a 小计 after
    each group; the groups are the places the activities count in."""
    counted = where_counted(db)
    place = {code: (kind, parent, name) for code, kind, parent, name in db.execute(
        "SELECT code, kind, parent, name FROM places")}

    def above(code: str, kind: str) -> str:
        seen = set()
        while code in place and place[code][0] != kind and code not in seen:
            seen.add(code)
            code = place[code][1]
        return code if code in place and place[code][0] == kind else ""

    groups: dict[str, tuple[str, ...]] = {}   # town → its places at `levels`: a city has 10,000s of activities

    def keys(a: dict) -> tuple[str, ...]:
        town = counted(a["town"], a["starts_at"][:10])
        if town not in groups:
            groups[town] = tuple(above(town, kind) for kind in levels)
        return groups[town]

    keyed = sorted(((keys(a), a) for a in activities), key=lambda pair: pair[0])   # stable: dates kept
    number = 0

    def emit(group: list, depth: int) -> None:
        nonlocal number
        for code, members in groupby(group, key=lambda pair: pair[0][depth]):
            members = list(members)
            if depth + 1 < len(levels):
                emit(members, depth + 1)
            else:
                for _, a in members:
                    number += 1
                    rows.append(_row(number, a))
            subtotals.add(len(rows))
            rows.append(_subtotal(f"{place[code][2] if code in place else '（未知）'}小计", len(members)))

    emit(keyed, 0)
