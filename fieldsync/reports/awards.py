"""The 最美社会体育指导员 lists as XLSX: the chosen list, and those put forward to the province's
社会体育指导员交流展示大会 (records/awards.py, decision 0240). Internal lists for the association
and the province: names, towns and the record behind each nomination; no phone, no ID number.
"""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.records import awards
from fieldsync.records.schemas import GENDERS, LEVELS
from fieldsync.reports.units import Unit, names
from fieldsync.sheets.table import Table, unit_line

COLUMNS = ("序号", "姓名", "性别", "乡镇（街道）", "村（社区）", "等级", "志愿服务时长（小时）", "志愿服务活动（次）",
           "参加培训（次）", "推荐单位", "推荐人", "推荐理由", "评选结果", "备注")
RESULT = {"selected": "当选", "not_selected": "未当选", "province": "当选，推荐参加全省交流展示大会"}
ESTIMATED = "时长含估算"
REASON_COLUMN = COLUMNS.index("推荐理由")


def _table(db: Database, unit: Unit, year: int, decisions: tuple[str, ...], title: str, sheet: str) -> Table:
    place = names(db)
    rows = []
    for number, n in enumerate(awards.of_year(db, year, towns_json=unit.towns_json, decisions=decisions), start=1):
        notes = [ESTIMATED] if n["estimated"] else []
        notes += [n["decision_note"]] if n["decision_note"] else []
        rows.append((number, n["name"], GENDERS.get(n["gender"], ""), place.get(n["town"], n["town"] or ""),
                     place.get(n["village"], n["village"] or ""), LEVELS.get(n["level"], n["level"] or ""),
                     n["hours"], n["activities"], n["trainings"],
                     place.get(n["nominator_unit"], n["nominator_unit"] or ""), n["nominated_by"] or "", n["reason"],
                     RESULT[n["decision"]], "；".join(notes)))
    return Table(title=title, headers=COLUMNS, rows=rows, unit_line=unit_line(unit.name), sheet_name=sheet,
                 wrap_columns=frozenset({REASON_COLUMN}))


def chosen(db: Database, unit: Unit, year: int) -> Table:
    return _table(db, unit, year, awards.CHOSEN, f"{year}年最美社会体育指导员评选结果", "评选结果")


def province(db: Database, unit: Unit, year: int) -> Table:
    return _table(db, unit, year, ("province",), f"{year}年推荐参加全省社会体育指导员交流展示大会人员名单", "推荐名单")
