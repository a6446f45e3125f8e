"""结对子成效表: each pairing of a unit with what it bore in the year (reports/pairings.fruit).

One row per pairing: the organisation (its kind and contact), the community, since when,
the activities it ran and the people they reached in the year, the fitness teams (健身团队)
formed up to the year's end, and the local leaders found there, of whom instructors now.
The contact's phone is masked, as every phone in a list (CONVENTIONS.md).
"""

from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from fieldsync import labels
from fieldsync.records.validators import mask_phone
from fieldsync.reports import organisations, pairings
from fieldsync.reports.units import Unit, names
from fieldsync.sheets.table import Table, filed_line, unit_line

COLUMNS = ("序号", "体育社会组织", "类别", "联系人", "联系电话", "乡镇（街道）", "结对村（社区）", "结对时间",
           "开展活动（次）", "服务群众（人）", "成立健身团队（个）", "团队成员（人）", "发现带头人（人）",
           "其中成为社会体育指导员（人）")
PHONE_COLUMN = 4


def table(db: Database, unit: Unit, year: int) -> Table:
    place, kinds = names(db), labels.chinese("organisation_kind")
    rows = []
    for index, pair in enumerate(pairings.fruit(db, unit, year), 1):
        organisation = organisations.get(db, pair["organisation_id"])
        since = date.fromisoformat(pair["since"]) if pair["since"] else ""
        rows.append([index, organisation["name"], kinds.get(organisation["kind"], ""),
                     organisation["contact_name"] or "", mask_phone(organisation["contact_phone"]),
                     place.get(pair["town"], pair["town"]), pair["village_name"], since, len(pair["activities"]),
                     pair["reached"], pair["teams"], pair["members"], pair["leaders"], pair["instructors"]])
    return Table(title=f"{year}年体育社会组织与社区结对子成效表", headers=COLUMNS, rows=rows,
                 unit_line=unit_line(unit.name), date_line=filed_line(date.today()),
                 text_columns=frozenset({PHONE_COLUMN}), sheet_name="结对子")
