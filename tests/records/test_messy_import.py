"""What real association spreadsheets hold, read and normalised on the way in (issue 13)."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from fieldsync.records import people, roster_io

HEADER = ["姓名", "性别", "出生年份", "手机号码", "乡镇", "村"]
ROW = {"姓名": "林小梅", "性别": "女", "出生年份": 1980, "手机号码": "13900007777", "乡镇": "张村镇", "村": "梨林村"}


def _xlsx(header: list, row: dict) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(header)
    book.active.append([row.get(h) for h in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("cells", "header", "expected"), [
    ({"出生年份": datetime(1980, 5, 3)}, HEADER, {"birth_year": 1980}),
    ({"出生年份": "1980.5"}, HEADER, {"birth_year": 1980}),
    ({"出生年份": 1980.05}, HEADER, {"birth_year": 1980}),
    ({"出生年份": "1980-05-03"}, HEADER, {"birth_year": 1980}),
    ({"出生年份": "1980年5月"}, HEADER, {"birth_year": 1980}),
    ({"出生日期": "1980/5/3"}, [h if h != "出生年份" else "出生日期" for h in HEADER], {"birth_year": 1980}),
    ({"出生年月": "198005"}, [h if h != "出生年份" else "出生年月" for h in HEADER], {"birth_year": 1980}),
    ({"姓名": "林\u3000小梅"}, HEADER, {"name": "林小梅"}),
    ({"姓名": "\u3000林 小梅\u00a0"}, HEADER, {"name": "林小梅"}),
    ({"性别": "F"}, HEADER, {"gender": "female"}),
    ({"性别": "m"}, HEADER, {"gender": "male"}),
    ({"性别": "女性"}, HEADER, {"gender": "female"}),
], ids=["date-cell", "year.month", "year.month-number", "iso-date", "年月", "slashes-出生日期", "yyyymm-出生年月",
        "fullwidth-space", "padded-name", "F", "m", "女性"])
def test_messy_cells_are_normalised_on_the_way_in(store, cells, header, expected):
    row = {**ROW, **cells}
    report = roster_io.import_roster(store, _xlsx(header, row), "association.xlsx")
    assert report.ok, [str(e) for e in report.errors]
    person = people.get(store, report.imported[0]["id"])
    assert {key: person[key] for key in expected} == expected
