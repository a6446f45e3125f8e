"""`fieldsync report`: the same list as the registry, files a user can open, one-line errors."""

from __future__ import annotations

import csv

import openpyxl

from fieldsync.reports import registry
from tests.reports import fixture
from tests.support import run_cli


def test_report_list_is_the_registry(city_instance):
    listed = run_cli(city_instance, "report", "list").stdout.splitlines()
    assert [line.split()[0] for line in listed] == list(registry.REPORTS)
    assert any("全民健身志愿服务活动统计表" in line for line in listed)


def test_statistics_for_a_county_to_a_file(city_instance, tmp_path):
    target = tmp_path / "统计表.xlsx"
    result = run_cli(city_instance, "report", "statistics", "--output", str(target), "--year", "2024",
                     "--unit", fixture.C1)
    assert "Wrote" in result.stdout
    sheet = openpyxl.load_workbook(target).active
    assert (sheet["A1"].value, sheet["A2"].value) == ("2024年全民健身志愿服务活动统计表", "单位名称（盖章）：环翠区")
    assert sheet.max_row == 3 + 5 + 3   # five activities, a 小计 for each of two towns, the 合计


def test_people_table_export_masks_phones_and_keeps_sealed_ids_home(city_instance, tmp_path):
    target = tmp_path / "people.csv"
    run_cli(city_instance, "report", "table", "--table", "people", "--output", str(target))
    rows = list(csv.DictReader(target.open(encoding="utf-8-sig")))
    assert len(rows) == len(fixture.PEOPLE)
    assert {row["phone"] for row in rows} >= {"138****0001", "138****0009"}
    assert "id_number_enc" not in rows[0] and "id_number_hash" not in rows[0]


def test_mistakes_are_one_readable_line(city_instance, tmp_path):
    cases = [
        (["report", "nonsense", "--output", str(tmp_path / "x.xlsx")], "No report named 'nonsense'"),
        (["report", "kpi", "--output", str(tmp_path / "x.pdf")], "kpi comes as xlsx, csv, not pdf"),
        (["report", "attendance", "--output", str(tmp_path / "x.xlsx")], "session: Required."),
        (["report", "coverage", "--unit", "12", "--output", str(tmp_path / "x.xlsx")], "unit"),
        (["report", "coverage", "--session", "abc", "--output", str(tmp_path / "x.xlsx")], "session"),
    ]
    for args, message in cases:
        result = run_cli(city_instance, *args, check=False)
        assert result.returncode != 0, args
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert not (tmp_path / "x.xlsx").exists()
