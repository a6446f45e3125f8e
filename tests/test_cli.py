"""The `fieldsync` command run as a user runs it: a separate process on a real instance folder."""

from __future__ import annotations

import re

import openpyxl

from fieldsync.parts import open_store
from fieldsync.records import people, roster_export
from fieldsync.store import clock
from tests.support import run_cli

ROSTER = "姓名,手机号码,村\n冯一,13966660001,梨林村\n冯二,1396666,梨林村\n冯三,13966660003,梨林村\n冯四,13966660004,无名村\n"


def _one_line_error(result) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ")
    return lines[-1]


def test_people_import_names_each_bad_row_and_imports_nothing_then_exports(node_instance, tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_bytes(ROSTER.encode("gb18030"))
    with open_store(node_instance / "fieldsync.db") as store:
        before = people.count(store)
    rejected = run_cli(node_instance, "people", "import", str(roster), check=False)
    assert "Nothing imported: 2 of 4 rows" in _one_line_error(rejected)
    assert re.findall(r"^(Row \d+ \S+):", rejected.stderr, re.MULTILINE) == ["Row 3 手机号码", "Row 5 村"]

    roster.write_bytes(ROSTER.replace("1396666,", "13966660002,").replace("无名村", "泉埠村").encode("gb18030"))
    checked = run_cli(node_instance, "people", "import", str(roster), "--dry-run")
    assert "All 4 rows are good" in checked.stdout
    assert "Imported 4 people" in run_cli(node_instance, "people", "import", str(roster)).stdout

    masked, full = tmp_path / "masked.xlsx", tmp_path / "full.xlsx"
    run_cli(node_instance, "people", "export", str(masked), "--village", "371002100202")
    assert "logged" in run_cli(node_instance, "people", "export", str(full), "--full").stdout
    _title, _line, header, *masked_rows = openpyxl.load_workbook(masked).active.iter_rows(values_only=True)
    phones = {row[0]: row[header.index("手机号码")] for row in masked_rows}
    assert phones["冯四"] == "139****0004" and "冯一" not in phones      # 冯一 lives in 梨林村
    full_text = str(list(openpyxl.load_workbook(full).active.iter_rows(values_only=True)))
    assert "13966660004" in full_text
    with open_store(node_instance / "fieldsync.db") as store:
        assert people.count(store) == before + 4
        assert roster_export.export_log(store)[0]["full"] and roster_export.export_log(store)[0]["actor"].startswith("cli:")
    assert "csv or .xlsx" in _one_line_error(run_cli(node_instance, "people", "export", "x.pdf", check=False))
    missing = tmp_path / "no such folder" / "x.xlsx"
    assert "does not exist" in _one_line_error(run_cli(node_instance, "people", "export", str(missing),
                                                       check=False))


def test_badges_to_pdf_png_and_html_and_clear_errors(node_instance, tmp_path):
    with open_store(node_instance / "fieldsync.db") as store:
        chosen = [p["id"] for p in people.search(store, limit=3)]
    args = ["badges", "--person", chosen[0], "--person", chosen[1], "--person", chosen[2]]
    assert "3 badges" in run_cli(node_instance, *args, "--output", str(tmp_path / "s.pdf")).stdout
    run_cli(node_instance, *args, "-o", str(tmp_path / "s.png"))
    run_cli(node_instance, "badges", "--town", "371002100000", "-o", str(tmp_path / "town.html"))
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF") and (tmp_path / "s.png").stat().st_size > 10_000
    assert (tmp_path / "town.html").read_text("utf-8").count("data-code=") == 72

    no_font = run_cli(node_instance, *args, "-o", str(tmp_path / "n.pdf"), check=False,
                      env={"FIELDSYNC_CJK_FONT": str(tmp_path / "none.ttf")})
    assert "FIELDSYNC_CJK_FONT" in _one_line_error(no_font) and not (tmp_path / "n.pdf").exists()
    assert ".pdf, .png or .html" in _one_line_error(run_cli(node_instance, *args, "-o", "s.doc", check=False))
    assert "does not exist" in _one_line_error(run_cli(node_instance, *args, "-o", str(tmp_path / "no" / "s.png"),
                                                       check=False))
    assert "No person" in _one_line_error(run_cli(node_instance, "badges", "--person", "nobody", "-o", "s.pdf",
                                                  check=False))


def test_sessions_add_and_list(node_instance):
    added = run_cli(node_instance, "sessions", "add", "--kind", "体质监测", "--title", "国民体质监测进村",
                    "--starts", "2026-07-01T08:30", "--hours", "3", "--organizer", "张村镇文体站",
                    "--contact", "刘老师", "--contact-phone", "0631 5212345", "--mode", "线下")
    session_id = re.search(r"Created session (\w+)", added.stdout).group(1)
    listed = run_cli(node_instance, "sessions", "list", "--kind", "monitoring").stdout
    assert f"{session_id}  2026-07-01T08:30  体质监测  国民体质监测进村" in listed
    bad = run_cli(node_instance, "sessions", "add", "--kind", "training", "--title", "x", "--starts", "tomorrow",
                  "--contact-phone", "12", check=False)
    line = _one_line_error(bad)
    assert "starts_at" in line and "contact_phone" in line


def test_sessions_add_records_what_the_linfen_notice_asks(node_instance):

    from fieldsync.parts import open_store

    year = clock.today().year
    added = run_cli(node_instance, "sessions", "add", "--kind", "volunteer", "--title", "健身进校园",
                    "--starts", f"{year}-05-01T09:00", "--venue-type", "校园", "--groups-served", "青少年/幼儿,老年人",
                    "--safety-plan", "--theme-day", "auto")
    assert "Theme day: 劳动节." in added.stdout
    session_id = re.search(r"Created session (\w+)", added.stdout).group(1)
    with open_store(node_instance / "fieldsync.db") as store:
        row = store.query_one("SELECT venue_type, groups_served, safety_plan, theme_day FROM sessions WHERE id = ?",
                              [session_id])
    assert row == {"venue_type": "campus", "groups_served": "elderly,youth", "safety_plan": 1,
                   "theme_day": f"{year}-labour-day"}
    bad = run_cli(node_instance, "sessions", "add", "--kind", "volunteer", "--title", "x", "--starts",
                  f"{year}-06-01T09:00", "--venue-type", "月球", "--groups-served", "外星人", check=False)
    line = _one_line_error(bad)
    assert "venue_type" in line and "groups_served" in line
    wrong_year = run_cli(node_instance, "sessions", "add", "--kind", "theme", "--title", "x", "--starts",
                         f"{year + 1}-05-01T09:00", "--theme-day", f"{year}-labour-day", check=False)
    assert "theme day of" in _one_line_error(wrong_year)
    assert "劳动节" in run_cli(node_instance, "theme-days", "list").stdout
    refused = run_cli(node_instance, "theme-days", "add", "重阳节登高", f"{year}-10-11", check=False)
    assert "edited on the hub" in _one_line_error(refused)
CHINESE_SYSTEM = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


def test_the_cli_speaks_the_systems_language_unless_told_otherwise(node_instance, tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_bytes(ROSTER.encode("gb18030"))
    rejected = run_cli(node_instance, "people", "import", str(roster), check=False, env=CHINESE_SYSTEM)
    assert "未导入：4 行中有 2 行有问题（见上）。" in _one_line_error(rejected)
    assert "第3行 手机号码: '1396666' 不是手机号码" in rejected.stderr
    assert "请导出为 .csv 或 .xlsx，而不是 x.pdf。" in _one_line_error(
        run_cli(node_instance, "people", "export", "x.pdf", check=False, env=CHINESE_SYSTEM))
    written = run_cli(node_instance, "people", "export", str(tmp_path / "r.csv"), env=CHINESE_SYSTEM)
    assert written.stdout.startswith("已将 ") and "（手机号和身份证号已打码）。" in written.stdout

    english = run_cli(node_instance, "--lang", "en", "people", "import", str(roster), check=False,
                      env=CHINESE_SYSTEM)
    assert "Nothing imported: 2 of 4 rows have problems" in _one_line_error(english)
    assert "Row 3 手机号码: '1396666' is not a mobile number" in english.stderr
    assert "Export to .csv or .xlsx" in _one_line_error(
        run_cli(node_instance, "--lang", "en", "people", "export", "x.pdf", check=False, env=CHINESE_SYSTEM))


def test_cli_summaries_count_in_the_singular_and_in_chinese(node_instance, tmp_path):
    with open_store(node_instance / "fieldsync.db") as store:
        one = people.search(store, limit=1)[0]["id"]
    english = run_cli(node_instance, "--lang", "en", "badges", "--person", one, "-o", str(tmp_path / "one.html"))
    assert english.stdout.startswith("1 badge written to ")
    chinese = run_cli(node_instance, "badges", "--person", one, "-o", str(tmp_path / "one.html"),
                      env=CHINESE_SYSTEM)
    assert chinese.stdout.startswith("已生成 1 张胸卡：")


def test_the_system_language_is_read_as_gettext_reads_it():
    from fieldsync.i18n import system_language

    assert system_language({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert system_language({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert system_language({"LC_ALL": "", "LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}) == "zh"
    assert system_language({"LANG": "en_GB.UTF-8"}) == "en"
