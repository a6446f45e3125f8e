"""The S12 instructor register for the provincial system, read back cell by cell with openpyxl:
the whole register on a town laptop (whole numbers for `--full`, masked otherwise) and the
changes-only mode after a 注册, a 修改 and a 注销 (docs/exports.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.records import people
from fieldsync.records.schemas import PersonSchema, load
from fieldsync.store import Store
from tests.support import run_cli

TOWN = demo.DEMO_TOWN                 # 环翠区 张村镇
VILLAGE = "371002100201"              # 梨林村
HEADERS = ["姓名", "性别", "出生日期", "身份证号", "等级", "证书编号", "发证日期", "发证单位", "区县", "乡镇",
           "村/社区", "联系电话", "指导项目", "状态"]


def id_number(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


WANG, LI, ZHAO = id_number("37100219870315123"), id_number("37100219620708224"), id_number("37100219900101331")


@pytest.fixture
def laptop(tmp_path) -> Path:
    """A town laptop with two instructors and a trainee (who is no instructor: not in S12)."""
    path = tmp_path / "laptop"
    config.save(path, mode="node", town=TOWN)
    config.save(path, certificate_issuer="威海市社会体育指导员协会")
    with open_store(path / "fieldsync.db") as store:
        demo.places_and_accounts(store)
        _register(store, name="王𪚥", gender="male", birth_year=1987, id_number=WANG, phone="13806311234",
                  village=VILLAGE, level="level3", certificate_no="SD2024001", specialty="太极拳",
                  registered_at="2024-05-28")
        _register(store, name="李红", gender="female", birth_year=1962, id_number=LI, phone="13906315678",
                  level="level2", certificate_no="SD2024002", specialty="广场舞", registered_at="2024-06-01")
        _register(store, name="赵学员", gender="male", birth_year=1990, id_number=ZHAO, registered_at="2024-06-02")
    return path


def _register(store: Store, **fields) -> dict:
    return people.register(store, load(PersonSchema(), {"town": TOWN, **fields}), actor="test")


def _find(store: Store, name: str) -> str:
    return store.query_one("SELECT id FROM people WHERE name = ?", [name])["id"]


def export(instance: Path, name: str, *args: str) -> list[list]:
    target = instance / name
    run_cli(instance, "export", "s12", *args, "-o", str(target))
    return _rows(target)


def _rows(path: Path) -> list[list]:
    sheet = openpyxl.load_workbook(path).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_the_whole_register_with_full_numbers_cell_by_cell(laptop):
    path = laptop / "s12.xlsx"
    run_cli(laptop, "export", "s12", "--full", "-o", str(path))
    sheet = openpyxl.load_workbook(path).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "社会体育指导员信息表（S12）"
    assert rows[1][0] == "单位名称（盖章）：张村镇"
    assert rows[2] == HEADERS
    assert rows[3:] == [
        ["李红", "女", datetime(1962, 7, 8), LI, "二级", "SD2024002", datetime(2024, 6, 1), "威海市社会体育指导员协会",
         "环翠区", "张村镇", None, "13906315678", "广场舞", "在册"],
        ["王𪚥", "男", datetime(1987, 3, 15), WANG, "三级", "SD2024001", datetime(2024, 5, 28),
         "威海市社会体育指导员协会", "环翠区", "张村镇", "梨林村", "13806311234", "太极拳", "在册"],
    ]
    # ID numbers, phones and certificate numbers are text (as numbers they lose digits); dates are dates.
    assert sheet["D4"].data_type == "s" and sheet["D4"].number_format == "@"
    assert sheet["L4"].number_format == "@" and sheet["F4"].number_format == "@"
    assert sheet["C4"].number_format == 'yyyy"年"m"月"d"日"'
    with open_store(laptop / "fieldsync.db") as store:
        logged = store.query("SELECT kind, unit, changes_only, rows, full_numbers FROM exports")
    assert logged == [{"kind": "s12", "unit": TOWN, "changes_only": 0, "rows": 2, "full_numbers": 2}]


def test_without_full_numbers_the_register_is_masked(laptop):
    rows = export(laptop, "masked.xlsx")
    assert rows[4] == ["王𪚥", "男", "1987", WANG[:4] + "*" * 10 + WANG[-4:], "三级", "SD2024001",
                       datetime(2024, 5, 28), "威海市社会体育指导员协会", "环翠区", "张村镇", "梨林村", "138****1234",
                       "太极拳", "在册"]
    assert LI not in str(rows) and "13906315678" not in str(rows)


def test_changes_only_after_a_register_a_modify_and_a_cancel(laptop):
    first = export(laptop, "first.xlsx", "--changes")       # none before: every instructor is 注册
    assert first[0][0] == "社会体育指导员信息变更表（S12）"
    assert first[2] == ["操作"] + HEADERS
    assert [(row[0], row[1]) for row in first[3:]] == [("注册", "李红"), ("注册", "王𪚥")]
    assert export(laptop, "again.xlsx", "--since-last")[3:] == []     # nothing changed since

    with open_store(laptop / "fieldsync.db") as store:
        _register(store, name="孙健", gender="male", birth_year=1975, phone="13706319999", level="level3",
                  certificate_no="SD2024003", specialty="健步走", registered_at="2024-07-01")
        people.modify(store, _find(store, "王𪚥"), {"phone": "13806310000"}, actor="test")
        people.cancel(store, _find(store, "李红"), actor="test")
        people.modify(store, _find(store, "赵学员"), {"phone": "13706318888"}, actor="test")  # no instructor
    export(laptop, "look.xlsx")             # a whole-register export in between moves nothing

    changed = export(laptop, "changes.xlsx", "--changes", "--full")
    assert changed[3:] == [
        ["注册", "孙健", "男", "1975", None, "三级", "SD2024003", datetime(2024, 7, 1), "威海市社会体育指导员协会",
         "环翠区", "张村镇", None, "13706319999", "健步走", "在册"],
        ["修改", "王𪚥", "男", datetime(1987, 3, 15), WANG, "三级", "SD2024001", datetime(2024, 5, 28),
         "威海市社会体育指导员协会", "环翠区", "张村镇", "梨林村", "13806310000", "太极拳", "在册"],
        ["注销", "李红", "女", datetime(1962, 7, 8), LI, "二级", "SD2024002", datetime(2024, 6, 1),
         "威海市社会体育指导员协会", "环翠区", "张村镇", None, "13906315678", "广场舞", "已注销"],
    ]
    assert export(laptop, "after.xlsx", "--changes")[3:] == []
    with open_store(laptop / "fieldsync.db") as store:
        people.restore(store, _find(store, "李红"), actor="test")
    assert [(row[0], row[1]) for row in export(laptop, "restored.xlsx", "--changes")[3:]] == [("注册", "李红")]


def test_bad_requests_are_one_readable_line(laptop):
    wrong = run_cli(laptop, "export", "s12", "-o", str(laptop / "s12.csv"), check=False)
    assert wrong.returncode != 0 and "S12 is an Excel file" in wrong.stderr and "Traceback" not in wrong.stderr
    nowhere = run_cli(laptop, "export", "s12", "--unit", "371002999000", "-o", str(laptop / "x.xlsx"), check=False)
    assert nowhere.returncode == 1 and "No place with code" in nowhere.stderr and "Traceback" not in nowhere.stderr
    lone = run_cli(laptop, "export", "s12", "--ids-from", str(laptop / "config.toml"), "-o", str(laptop / "x.xlsx"),
                   check=False)
    assert lone.returncode != 0 and "give --full too" in lone.stderr
