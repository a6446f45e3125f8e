"""Roster import and export with real CSV and XLSX files and a real SQLite instance."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from fieldsync.errors import BadRequest, ValidationFailed
from fieldsync.parts import open_store
from fieldsync.records import people, places, roster_export, roster_io
from fieldsync.records.schemas import PersonSchema, load

TOWN, VILLAGE = "371002100000", "371002100201"      # 张村镇, 梨林村
HEADER = ["姓名", "性别", "出生年份", "手机号码", "身份证号码", "乡镇", "村", "等级", "项目", "证书编号"]


def _csv(rows, header=HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode(encoding)


def _xlsx(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_csv_with_bad_rows_imports_nothing_and_names_each_bad_row(store, chinese):
    before = people.count(store)
    content = _csv([
        ["林一", "女", "1980", "13900000001", "11010519491231002X", "张村镇", "梨林村", "三级", "太极拳", "SD1"],
        ["林二", "男", "1981", "139000", "", "张村镇", "梨林村", "", "", ""],               # row 3: phone
        ["林三", "", "", "13900000003", "", "张村镇", "", "", "", ""],
        ["林四", "", "", "", "", "张村镇", "不存在村", "", "", ""],                       # row 5: village
        ["林五", "", "", "", "110105194912310021", "张村镇", "", "五级", "", ""],         # row 6: ID and level
    ])
    report = roster_io.import_roster(store, content, "roster.csv", actor="test")
    assert not report.ok and report.imported == []
    assert people.count(store) == before
    assert report.rows == 5 and report.bad_rows == [3, 5, 6]
    shown = [str(e) for e in report.errors]
    assert any(s.startswith("第3行 手机号码:") for s in shown)
    assert any(s.startswith("第5行 村:") and "不存在村" in s for s in shown)
    assert any(s.startswith("第6行 身份证号码:") and "校验位" in s for s in shown)
    assert any(s.startswith("第6行 等级:") for s in shown)


def test_gbk_csv_with_a_title_row_english_headers_and_places_by_name(store):
    rows = [["张村镇2025年社会体育指导员花名册"],
            ["name", "性别", "mobile", "乡镇", "村（社区）", "等级", "注册日期", "备用"],
            ["欧阳·娜娜", "女", "13912340000", "张村", "泉埠", "二级", "2024年5月28日", "x"]]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    report = roster_io.import_roster(store, out.getvalue().encode("gb18030"), "花名册.csv")
    assert report.ok, [str(e) for e in report.errors]
    assert report.ignored_columns == ["备用"]
    person = people.get(store, report.imported[0]["id"])
    assert (person["name"], person["gender"], person["level"]) == ("欧阳·娜娜", "female", "level2")
    assert (person["town"], person["village"], person["registered_at"]) == (TOWN, "371002100202", "2024-05-28")


def test_utf8_bom_without_a_town_column_takes_the_default_town(store):
    content = "\ufeff姓名,手机号码,村代码\n王𪚥,13800001111,371002100203\n".encode()
    with pytest.raises(ValidationFailed) as err:
        roster_io.import_roster(store, content, "r.csv")
    assert err.value.code == "no_town"
    report = roster_io.import_roster(store, content, "r.csv", default_town=TOWN)
    assert report.ok and report.imported[0]["name"] == "王𪚥"
    assert report.imported[0]["village"] == "371002100203"


def test_xlsx_refuses_id_numbers_stored_as_numbers_but_takes_numeric_phones(store, chinese):
    content = _xlsx([["赵甲", "男", 1970, 13900002222, 371002197001011234, "张村镇", "", "", "", 2024001],
                     ["赵乙", "女", 1971, 13900003333, "11010519491231002X", TOWN, "", "", "", ""]])
    report = roster_io.import_roster(store, content, "r.xlsx", dry_run=True)
    assert [str(e) for e in report.errors] == [
        "第2行 身份证号码: Excel 把这个身份证号码存成了数字，末几位已丢失。请把该列设为文本格式后重新输入号码。"]
    fixed = _xlsx([["赵甲", "男", 1970, 13900002222, "", "张村镇", "", "", "", 2024001]])
    report = roster_io.import_roster(store, fixed, "r.xlsx")
    assert report.ok
    assert (report.imported[0]["phone"], report.imported[0]["certificate_no"]) == ("13900002222", "2024001")


def test_duplicates_inside_the_file_and_against_the_roster(store):
    known = people.register(store, load(PersonSchema(), {"name": "钱多", "town": TOWN, "phone": "13700007777",
                                                          "id_number": "11010519491231002X"}))
    content = _csv([
        ["孙甲", "", "", "13600000001", "", "张村镇", "", "", "", ""],
        ["孙乙", "", "", "", "11010519491231002X", "张村镇", "", "", "", ""],      # row 3: ID on the roster
        ["钱多", "", "", "13700007777", "", "张村镇", "", "", "", ""],             # row 4: name + phone
        ["孙甲", "", "", "13600000001", "", "张村镇", "", "", "", ""],             # row 5: same as row 2
    ])
    report = roster_io.import_roster(store, content, "r.csv")
    shown = {e.row: str(e) for e in report.errors}
    assert sorted(shown) == [3, 4, 5]
    assert known["name"] in shown[3] and known["name"] in shown[4]
    assert "row 2" in shown[5]


def test_dry_run_and_file_level_problems_write_nothing(store):
    before = people.count(store)
    good = _csv([["周全", "", "", "", "", "张村镇", "", "", "", ""]])
    report = roster_io.import_roster(store, good, "r.csv", dry_run=True)
    assert report.ok and report.rows == 1 and report.imported == [] and people.count(store) == before
    problems = [(b"\xd0\xcf\x11\xe0old excel", "r.xls", "unsupported_file"),
                ("手机,村\n1,2\n".encode(), "r.csv", "no_header"),
                (_csv([]), "r.csv", "empty_roster"),
                (b"\xff\xff\xff\x81\x30", "r.csv", "bad_encoding"),
                (b"\xef\xbb\xbf\xe5\xa7\x93\xff", "r.csv", "bad_encoding"),
                (b"PK\x03\x04 not really a zip", "r.xlsx", "unsupported_file"),
                ("姓名\n".encode() + b"x\n" * (roster_io.ROW_LIMIT + 1), "r.csv", "too_many_rows")]
    for content, name, code in problems:
        with pytest.raises((BadRequest, ValidationFailed)) as err:
            roster_io.import_roster(store, content, name)
        assert err.value.code == code
    assert people.count(store) == before


def test_xlsx_export_is_the_offices_layout_masks_by_default_keeps_text_and_neutralises_formulas(store):
    person = people.register(store, load(PersonSchema(), {
        "name": "吴公式", "town": TOWN, "village": VILLAGE, "phone": "13512345678",
        "id_number": "11010519491231002X", "specialty": "=HYPERLINK(\"http://x\")"}))
    export = roster_export.export_roster(store, "xlsx", {"q": "吴公式"}, actor="staff")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    assert sheet["A1"].value == "花名册" and sheet["A1"].font.b     # the reports' layout: title, a line, headers
    header = [c.value for c in sheet[3]]
    assert header[:5] == ["姓名", "性别", "出生年份", "手机号码", "身份证号码"]
    assert sheet["A3"].border.left.style == "thin"
    row = {h: c for h, c in zip(header, sheet[4])}
    assert row["手机号码"].value == "135****5678" and row["身份证号码"].value == "1101**********002X"
    assert row["项目"].value == person["specialty"] and row["项目"].data_type == "s"
    assert row["手机号码"].number_format == "@" and row["姓名"].font.name == "宋体"
    assert row["注册日期"].number_format == 'yyyy"年"m"月"d"日"'
    assert sheet.column_dimensions["A"].width == len("吴公式") * 2 + 2   # Σ(2 per wide character) + 2
    assert sheet.freeze_panes == "A4"

    full = roster_export.export_roster(store, "xlsx", {"q": "吴公式"}, full=True, actor="admin")
    row = dict(zip(header, openpyxl.load_workbook(io.BytesIO(full.content)).active[4]))
    assert row["手机号码"].value == "13512345678" and row["身份证号码"].value == "11010519491231002X"
    log = roster_export.export_log(store)
    assert (log[0]["full"], log[0]["actor"], log[0]["rows"]) == (True, "admin", 1)
    assert (log[1]["full"], log[1]["actor"]) == (False, "staff")


def test_csv_export_has_a_bom_and_neutralised_cells(store):
    people.register(store, load(PersonSchema(), {"name": "郑减号", "town": TOWN, "specialty": "-1+2"}))
    content = roster_export.export_roster(store, "csv", {"q": "郑减号"}).content
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[1][rows[0].index("项目")] == "'-1+2"


def test_a_full_xlsx_export_imports_into_another_office(store, tmp_path):
    export = roster_export.export_roster(store, "xlsx", {"village": VILLAGE}, full=True)
    with open_store(tmp_path / "other" / "fieldsync.db") as other:
        places.import_places(other, places.load_fixture()["places"])
        report = roster_io.import_roster(other, export.content, export.filename)
        assert report.ok, [str(e) for e in report.errors[:3]]
        assert report.ignored_columns == ["状态"]
        assert len(report.imported) == export.rows > 0
        again = roster_export.export_roster(other, "csv", {"village": VILLAGE}, full=True).content
    first = roster_export.export_roster(store, "csv", {"village": VILLAGE}, full=True).content
    # Same people, same values, same 注册日期: what one office exports, another reads back whole.
    assert again == first


def test_numbers_in_other_scripts_digits_are_refused_so_one_id_number_is_never_two_people(store, chinese):
    """٠١٢ is not 012: an ID number or birth year in Arabic-Indic digits would be a second spelling
    (a second stored value and keyed hash) of a number that may already be registered."""
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    before = people.count(store)
    content = _csv([["林一", "女", "1949", "", "11" + "010519491231002X".translate(arabic), "张村镇", "", "", "", ""],
                    ["林二", "女", "١٩٨٠", "", "", "张村镇", "", "", "", ""]])
    report = roster_io.import_roster(store, content, "roster.csv", actor="test")
    assert not report.ok and report.bad_rows == [2, 3] and people.count(store) == before
    shown = [str(e) for e in report.errors]
    assert any(s.startswith("第2行 身份证号码:") for s in shown)
    assert any(s.startswith("第3行 出生年份:") for s in shown)
