"""证书发放登记表: every 社会体育指导员等级证书 issued in a year, by level (records/certificates)."""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.records import certificates
from fieldsync.records.schemas import GENDERS, LEVELS
from fieldsync.sheets.table import Table

COLUMNS = ("序号", "证书编号", "等级", "姓名", "性别", "出生年份", "乡镇（街道）", "发证日期")


def table(db: Database, year: int) -> Table:
    rows = [(index, row["certificate_no"], LEVELS.get(row["level"], row["level"]), row["name"],
             GENDERS.get(row["gender"] or "", ""), row["birth_year"] or "", row["town_name"] or row["town"],
             row["issued_on"] or "")
            for index, row in enumerate(certificates.register(db, year=year), start=1)]
    return Table(title=f"{year}年社会体育指导员等级证书发放登记表", headers=COLUMNS, rows=rows,
                 text_columns=frozenset({1}), sheet_name="证书登记")
