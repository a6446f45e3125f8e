"""The 统计表 as filed, read back cell by cell with openpyxl; and the same rows as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest

from fieldsync.reports import registry, statistics_xlsx, units
from fieldsync.sheets import xlsx
from tests.reports import fixture

HEADERS = ["序号", "举办单位", "活动名称", "活动简介", "举办方式(线上、线下)", "举办时间", "联系人", "联系方式", "备注"]


def _sheet(db, unit_code, year=2024, **params):
    table = statistics_xlsx.table(db, units.resolve(db, unit_code), year, filed=date(2025, 1, 6), **params)
    book = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.chunks(table))))
    return book.active


def _titles(sheet) -> list[str]:
    return [sheet.cell(row, 3).value for row in range(4, sheet.max_row + 1)]


def _activities(sheet) -> list[str]:
    """The activity names of the numbered rows (subtotals left out)."""
    return [sheet.cell(row, 3).value for row in range(4, sheet.max_row + 1) if sheet.cell(row, 1).value]


def test_layout_title_unit_line_and_headers(city):
    sheet = _sheet(city.db, fixture.C1)
    assert sheet.title == "统计表"
    assert sheet["A1"].value == "2024年全民健身志愿服务活动统计表"
    assert sheet["A1"].font.name == "宋体" and sheet["A1"].font.bold and sheet["A1"].font.sz > 11
    assert sheet["A2"].value == "单位名称（盖章）：环翠区"
    assert sheet["G2"].value == "填报日期：2025年1月6日"
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:I1", "A2:F2", "G2:I2"}
    assert [cell.value for cell in sheet[3]] == HEADERS
    assert all(cell.font.name == "宋体" and cell.font.bold for cell in sheet[3])


def test_county_rows_cell_by_cell(city):
    """环翠区 merges its towns 张村镇 and 羊亭镇: every active 2024 session of each, by date, a bold
    unnumbered 小计 after each town and a 合计 at the end."""
    sheet = _sheet(city.db, fixture.C1)
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4)]
    subtotal = [None] * 6
    assert rows == [
        [1, "张村镇文体站", "张村镇社会体育指导员培训", "张村镇社会体育指导员培训，面向各村群众。", "线下",
         datetime(2024, 3, 10), "刘老师", "13900000000", None],
        [2, "张村镇文体站", "劳动节全民健身志愿服务", "劳动节全民健身志愿服务，面向各村群众。", "线下",
         datetime(2024, 5, 1), "刘老师", "0631-5212345", "与梨林村结对"],
        [3, "张村镇文体站", "国际志愿者日线上讲座", fixture.HOSTILE_SUMMARY, "线上",
         datetime(2024, 12, 5), "-王", "13900000000", "@备注"],
        [None, "张村镇小计", "活动3次", *subtotal],
        [4, "羊亭镇文体站", "国民体质监测进乡镇", "国民体质监测进乡镇，面向各村群众。", "线下",
         datetime(2024, 6, 10), "刘老师", "13900000000", None],
        [5, "羊亭镇文体站", "8月8日全民健身日主题活动", "8月8日全民健身日主题活动，面向各村群众。", "线下",
         datetime(2024, 8, 8), "王老师", "13700000000", None],
        [None, "羊亭镇小计", "活动2次", *subtotal],
        [None, "合计", "活动5次", *subtotal],
    ]
    for row in sheet.iter_rows(min_row=4):
        bold = row[0].value is None
        assert all(cell.font.name == "宋体" and bool(cell.font.b) == bold for cell in row)
        if not bold:
            assert row[5].number_format == 'yyyy"年"m"月"d"日"'
            assert row[7].data_type == "s" and row[7].number_format == "@"


def test_the_city_groups_by_county_then_town_with_subtotals(city):
    sheet = _sheet(city.db, None)
    assert [(row[0].value, row[1].value, row[2].value, bool(row[0].font.b)) for row in sheet.iter_rows(min_row=4)] == [
        (1, "张村镇文体站", "张村镇社会体育指导员培训", False),
        (2, "张村镇文体站", "劳动节全民健身志愿服务", False),
        (3, "张村镇文体站", "国际志愿者日线上讲座", False),
        (None, "张村镇小计", "活动3次", True),
        (4, "羊亭镇文体站", "国民体质监测进乡镇", False),
        (5, "羊亭镇文体站", "8月8日全民健身日主题活动", False),
        (None, "羊亭镇小计", "活动2次", True),
        (None, "环翠区小计", "活动5次", True),
        (6, "石岛镇文体站", "石岛镇社会体育指导员培训", False),
        (None, "石岛镇小计", "活动1次", True),
        (None, "荣成市小计", "活动1次", True),
        (None, "合计", "活动6次", True),
    ]
    assert sheet["A2"].value == "单位名称（盖章）：威海市"
    assert [cell.value for cell in sheet[3]] == HEADERS


def test_the_notes_column_carries_what_the_notice_asks_of_an_activity(city, ids):
    from fieldsync.records import sessions, theme_days

    theme_days.seed(city, 2024)
    sessions.modify(city, ids["s3"], {"venue_type": "campus", "groups_served": "elderly,youth",
                                      "safety_plan": True, "theme_day": "2024-labour-day"}, actor="test")
    sessions.modify(city, ids["s1"], {"groups_served": "disabled", "safety_plan": False}, actor="test")
    notes = {row[2].value: row[8].value for row in _sheet(city.db, fixture.T1).iter_rows(min_row=4)}
    assert notes["劳动节全民健身志愿服务"] == "六进：校园；服务对象：老年人、青少年/幼儿；有应急预案；主题日：劳动节；与梨林村结对"
    assert notes["张村镇社会体育指导员培训"] == "服务对象：残疾人；无应急预案"
    assert notes["国际志愿者日线上讲座"] == "@备注"


def test_text_that_looks_like_a_formula_stays_text(city):
    sheet = _sheet(city.db, fixture.T1)
    last = sheet.max_row
    for column in ("D", "G", "I"):   # 活动简介 "=HYPERLINK…", 联系人 "-王", 备注 "@备注"
        assert sheet[f"{column}{last}"].data_type == "s", column
    assert sheet[f"D{last}"].value == fixture.HOSTILE_SUMMARY


def test_column_widths_follow_the_widest_text(city):
    sheet = _sheet(city.db, fixture.C1)
    # 活动名称: the widest is 12 CJK characters = 24, plus 2.
    assert sheet.column_dimensions["C"].width == 26
    # 举办时间 shows 2024年12月5日: 4 digits + 3 wide + 3 digits = 13, plus 2.
    assert sheet.column_dimensions["F"].width == 15
    assert sheet.column_dimensions["D"].width <= xlsx.WRAP_WIDTH + 2


def test_town_county_and_city_each_merge_what_is_below(city):
    assert _titles(_sheet(city.db, fixture.T1)) == ["张村镇社会体育指导员培训", "劳动节全民健身志愿服务",
                                                    "国际志愿者日线上讲座"]
    assert _activities(_sheet(city.db, fixture.C2)) == ["石岛镇社会体育指导员培训"]    # s6 was cancelled
    assert _activities(_sheet(city.db, None)) == [
        "张村镇社会体育指导员培训", "劳动节全民健身志愿服务", "国际志愿者日线上讲座", "国民体质监测进乡镇",
        "8月8日全民健身日主题活动", "石岛镇社会体育指导员培训"]
    assert _sheet(city.db, None)["A2"].value == "单位名称（盖章）：威海市"


def test_kind_narrows_and_other_years_stay_out(city):
    assert _activities(_sheet(city.db, None, kind="training")) == ["张村镇社会体育指导员培训", "石岛镇社会体育指导员培训"]
    assert _activities(_sheet(city.db, None, year=2023)) == ["2023年冬季培训"]


def test_csv_of_the_same_table_neutralises_formulas(city):
    _, chunks = registry.prepare(city.db, "statistics", "csv", {"year": "2024", "unit": fixture.T1})
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == HEADERS
    assert rows[1][5] == "2024-03-10"
    assert rows[3][3] == "'" + fixture.HOSTILE_SUMMARY and rows[3][6] == "'-王" and rows[3][8] == "'@备注"


@pytest.mark.parametrize("params, field", [
    ({"unit": "37100"}, "unit"),
    ({"year": "20x4"}, "year"),
    ({"kind": "party"}, "kind"),
    ({"session": "x"}, "session"),
])
def test_bad_parameters_name_the_field(city, params, field):
    from fieldsync.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        registry.prepare(city.db, "statistics", "xlsx", params)
    assert field in caught.value.fields


def test_a_village_or_unknown_code_is_no_unit(city):
    from fieldsync.errors import NotFound, ValidationFailed

    with pytest.raises(ValidationFailed):
        registry.prepare(city.db, "statistics", "xlsx", {"unit": fixture.V11})
    with pytest.raises(NotFound):
        registry.prepare(city.db, "statistics", "xlsx", {"unit": "379999"})
