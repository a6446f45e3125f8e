"""The 全民健身志愿服务活动统计表 as the association files it (shared/seeds/001, CONVENTIONS.md).

One row per activity held in the unit that year, in date order: a county's
table is its towns' activities together, the city's its counties'. Every kind
of session is listed by default (the notice counts 体质测定, 讲座 and training
as volunteer service too); `kind` narrows it (docs/decisions/0031-report-definitions.md).
"""

from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from fieldsync.records.schemas import MODES
from fieldsync.reports.table import Table, filed_line, unit_line
from fieldsync.reports.units import Unit, sessions_in

COLUMNS = ("序号", "举办单位", "活动名称", "活动简介", "举办方式(线上、线下)", "举办时间",
           "联系人", "联系方式", "备注")
PHONE_COLUMN, SUMMARY_COLUMN, NOTES_COLUMN = 7, 3, 8


def title(year: int) -> str:
    return f"{year}年全民健身志愿服务活动统计表"


def table(db: Database, unit: Unit, year: int, kind: str | None = None,
          filed: date | None = None) -> Table:
    where, params = sessions_in(unit, year, (kind,) if kind else None)
    activities = db.query(
        "SELECT organizer, title, summary, mode, starts_at, contact_name, contact_phone, notes"
        f" FROM sessions WHERE {where} ORDER BY starts_at, town, id", params)
    rows = [(number, s["organizer"], s["title"], s["summary"], MODES.get(s["mode"], s["mode"]),
             date.fromisoformat(s["starts_at"][:10]), s["contact_name"], s["contact_phone"], s["notes"])
            for number, s in enumerate(activities, start=1)]
    return Table(title=title(year), headers=COLUMNS, rows=rows, unit_line=unit_line(unit.name),
                 date_line=filed_line(filed or date.today()), text_columns=frozenset({PHONE_COLUMN}),
                 wrap_columns=frozenset({SUMMARY_COLUMN, NOTES_COLUMN}), sheet_name="统计表")
