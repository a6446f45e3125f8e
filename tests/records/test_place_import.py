"""The place list import: both layouts, every kind of bad row named in Chinese, all or nothing,
renames kept in the history, and places missing from a new list ended, not deleted."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from fieldsync.parts import open_store
from fieldsync.records import place_import, places, populations
from tests.fixtures import own_city

pytestmark = pytest.mark.usefixtures("chinese")   # the row messages, as a Chinese reader sees them


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "fieldsync.db") as opened:
        yield opened


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _bureau_list(tmp_path) -> bytes:
    return own_city.write(tmp_path / "files", 2025)[0].read_bytes()


def test_the_bureau_layout_derives_levels_and_parents(store, tmp_path):
    report = place_import.import_file(store, _bureau_list(tmp_path), "晴川市区划.csv")
    assert report.ok and report.rows == 13
    rows = {p["code"]: p for p in store.query("SELECT * FROM places")}
    assert rows[own_city.CITY]["kind"] == "city" and rows[own_city.CITY]["parent"] is None
    assert (rows[own_city.EAST]["kind"], rows[own_city.EAST]["parent"]) == ("county", own_city.CITY)
    assert (rows[own_city.QINGSHI]["kind"], rows[own_city.QINGSHI]["parent"]) == ("town", own_city.EAST)
    community = rows["371102100001"]
    assert (community["kind"], community["parent"], community["urban_rural"]) == ("village", own_city.QINGSHI, "121")


def test_a_plain_list_in_excel_under_the_demo_county(store):
    places.load_demo(store)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2026年新设村居"])                       # a title line above the header
    sheet.append(["代码", "名称", "级别", "上级代码"])
    sheet.append(["371002100213", "新河社区", "社区", "371002100000"])
    sheet.append(["371002100214", "新村", "村", ""])        # parent from the code
    content = io.BytesIO()
    book.save(content)
    report = place_import.import_file(store, content.getvalue(), "新村.xlsx")
    assert report.ok and report.added == ["371002100213", "371002100214"]
    assert places.get(store, "371002100214")["parent"] == "371002100000"
    assert report.ended == [], "a list of two villages ends nothing else"


@pytest.mark.parametrize("line, message", [
    ("371002100,某镇,town,371002", "第3行: 代码 371002100 不是12位统计用区划代码"),
    ("371002000201,某村,village,371002", "第3行: 代码 371002000201 不是12位统计用区划代码"),
    ("371002100215,某村,town,371002100000", "第3行: 代码 371002100215 是村（社区）代码，与级别 town 不符"),
    ("371002100215,某村,village,371002999000", "第3行: 代码 371002100215 的上级 371002999000 不在区划表中"),
    ("371002100215,某村,village,371002101201",
     "第3行: 代码 371002100215 的上级 371002101201 是村（社区），不能管辖村（社区）"),
    ("371002100201,重复村,village,371002100000", "第3行: 代码 371002100201 与第2行重复"),
])
def test_each_bad_row_is_named_and_nothing_is_written(store, line, message):
    places.load_demo(store)
    before = store.query("SELECT * FROM places ORDER BY code")
    content = _csv("code,name,level,parent", "371002100201,梨林村新名,village,371002100000", line)
    report = place_import.import_file(store, content, "bad.csv")
    assert [str(e) for e in report.errors] == [message]
    assert store.query("SELECT * FROM places ORDER BY code") == before


def test_a_cycle_is_named(store):
    content = _csv("code,name,level,parent", "371100000000,晴川市,city,", "371102000000,东湖区,county,371121000000",
                   "371121000000,南山县,county,371102000000")
    report = place_import.import_file(store, content, "cycle.csv")
    assert [str(e) for e in report.errors] == [
        "第3行: 代码 371102000000 的上级关系形成循环：371102000000 → 371121000000 → 371102000000",
        "第4行: 代码 371121000000 的上级关系形成循环：371121000000 → 371102000000 → 371121000000"]


def test_a_bad_urban_rural_code_and_a_place_outside_the_hubs_unit(store, tmp_path):
    places.set_home_unit(store, own_city.CITY)
    content = _csv("统计用区划代码,城乡分类代码,名称", "371100000000,,晴川市", "371102000000,,东湖区",
                   "371102100000,,青石镇", "371102100201,999,上河村", "371002000000,,环翠区")
    report = place_import.import_file(store, content, "bad.csv")
    assert [str(e) for e in report.errors] == [
        "第5行: 城乡分类代码 999 不是村（社区）的统计局分类代码（111、112、121、122、123、210、220）",
        "第6行: 代码 371002000000 不在本单位（371100000000）范围内"]


def test_a_rename_keeps_the_code_and_the_old_name(store, tmp_path):
    place_import.import_file(store, _bureau_list(tmp_path), "v1.csv")
    renamed = _bureau_list(tmp_path).decode("utf-8-sig").replace("白沙镇", "白沙街道").encode()
    report = place_import.import_file(store, renamed, "v2.csv", as_of=date(2026, 3, 1), actor="test")
    assert report.renamed == [(own_city.BAISHA, "白沙镇", "白沙街道")] and not report.ended
    assert places.name_of(store, own_city.BAISHA) == "白沙街道"
    assert [(h["action"], h["changes"]["name"]) for h in place_import.history(store, own_city.BAISHA)] == [
        ("renamed", ["白沙镇", "白沙街道"])]


def test_a_town_missing_from_the_new_list_ends_but_stays(store, tmp_path):
    place_import.import_file(store, _bureau_list(tmp_path), "v1.csv")
    lines = [line for line in _bureau_list(tmp_path).decode("utf-8-sig").splitlines() if "37110210120" not in line
             and "371102101000" not in line]
    report = place_import.import_file(store, "\n".join(lines).encode(), "v2.csv", as_of=date(2026, 3, 1))
    assert sorted(report.ended) == [(own_city.BAISHA, None), ("371102101201", None), ("371102101202", None)]
    assert places.get(store, own_city.BAISHA)["ended_on"] == "2026-03-01"
    assert own_city.BAISHA not in {t["code"] for t in places.by_kind(store, "town")}


def test_population_rows_are_checked(store, tmp_path):
    place_import.import_file(store, _bureau_list(tmp_path), "v1.csv")
    content = _csv("代码,年份,人口", f"{own_city.QINGSHI},2025,\"30,000\"", f"{own_city.QINGSHI},2025,31000",
                   "371199999999,2025,5", f"{own_city.BAISHA},二〇二五,5", f"{own_city.BAISHA},2025,很多")
    report = populations.import_file(store, content, "人口.csv")
    assert [str(e) for e in report.errors] == [
        f"第3行: 代码 {own_city.QINGSHI} 的2025年人口与第2行重复", "第4行: 代码 371199999999 不在区划表中",
        "第5行: 年份 二〇二五 不是1949–2100之间的年份", "第6行: 人口 很多 不是0到50000000之间的整数"]
    assert store.query("SELECT * FROM place_populations") == []
