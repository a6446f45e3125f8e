"""The exports page of a town laptop, in process: the S12 download by role (whole numbers
for an admin only), the js365 activity list cell by cell, and the "filed on js365" mark from the
session page and in bulk."""

from __future__ import annotations

import io
import re
import shutil
from datetime import datetime

import openpyxl
import pytest

from fieldsync import demo
from fieldsync.parts import open_store
from fieldsync.records import checkins, people, sessions
from fieldsync.records.schemas import SessionSchema, load
from tests.support import AppClient, in_process

TOWN = demo.DEMO_TOWN
JS365_HEADERS = ["活动名称", "开始时间", "结束时间", "省", "市", "县", "地点", "主办单位", "承办单位", "参与人数",
                 "活动简介", "活动类型", "已在全民健身信息服务平台填报", "填报人"]


@pytest.fixture(scope="module")
def laptop(demo_template, tmp_path_factory):
    """The demo laptop plus three activities of 2024, all ended; three people checked in at the first."""
    path = tmp_path_factory.mktemp("exports") / "node"
    shutil.copytree(demo_template, path)
    ids = {}
    with open_store(path / "fieldsync.db") as store:
        for title, day, extra in (("健步走", "2024-05-01", {"undertaker": "张村镇老年体协", "venue": "文化广场",
                                                           "village": "371002100201"}),
                                  ("广场舞培训", "2024-06-10", {}), ("太极拳展示", "2024-08-08", {})):
            ids[title] = sessions.create(store, load(SessionSchema(), {
                "kind": "volunteer", "title": title, "organizer": "张村镇文体站", "summary": f"{title}，面向群众。",
                "starts_at": f"{day}T09:00", "ends_at": f"{day}T11:30", "town": TOWN, **extra}), actor="test")["id"]
        walkers = [p["id"] for p in people.search(store, limit=3)]
        for person_id in walkers + walkers[:1]:           # one person twice: counted once
            checkins.check_in(store, session_id=ids["健步走"], person_id=person_id,
                              scanned_at=datetime(2024, 5, 1, 9, 5))
    with in_process(path, ids=ids) as site:
        yield site


def _client(site, username: str) -> AppClient:
    client = site.signed_in(username)
    client.get("/exports")
    return client


def _sheet(response) -> list[list]:
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_staff_get_the_register_masked_and_may_not_ask_for_whole_numbers(laptop):
    staff = _client(laptop, "staff")
    refused = staff.form("/exports/s12.xlsx", {"full": "true"})
    assert refused.status_code == 403
    rows = _sheet(staff.form("/exports/s12.xlsx", {}))
    assert rows[2][3] == "身份证号" and rows[2][11] == "联系电话"
    assert len(rows) > 4
    for row in rows[3:]:
        assert row[3] is None or (len(row[3]) == 18 and "*" * 10 in row[3])
        assert row[11] is None or "****" in row[11]


def test_an_admin_gets_the_whole_numbers_sealed_on_this_laptop(laptop):
    admin = _client(laptop, "admin")
    rows = _sheet(admin.form("/exports/s12.xlsx", {"full": "true"}))
    numbers = [row[3] for row in rows[3:] if row[3]]
    assert numbers and all("*" not in number and len(number) == 18 for number in numbers)
    with open_store(laptop.instance / "fieldsync.db") as store:
        assert store.query("SELECT actor, full_numbers > 0 AS whole FROM exports ORDER BY id DESC LIMIT 1") == [
            {"actor": "admin", "whole": 1}]


def test_a_trainer_reaches_no_export(laptop):
    trainer = _client(laptop, "trainer")
    assert trainer.get("/exports").status_code == 403
    assert trainer.get("/exports/js365.xlsx?year=2024").status_code == 403


def test_the_js365_list_and_the_filed_mark(laptop):
    staff = _client(laptop, "staff")
    page = staff.get("/exports?year=2024")
    assert page.status_code == 200 and "健步走" in page.text and "太极拳展示" in page.text

    marked = staff.form(f"/sessions/{laptop.ids['健步走']}/js365", {})
    assert marked.status_code == 200 and "js365-mark" in marked.text        # back on the session page
    bulk = staff.form("/exports/js365/filed", {"year": "2024", "session": [laptop.ids["广场舞培训"]]})
    assert bulk.status_code == 200
    page = staff.get("/exports?year=2024")
    assert "太极拳展示" in page.text and "广场舞培训" not in page.text

    rows = _sheet(staff.get(f"/exports/js365.xlsx?year=2024&unit={TOWN}"))
    assert rows[0][0] == "2024年全民健身赛事活动（全民健身信息服务平台填报）"
    assert rows[1][0] == "单位名称（盖章）：张村镇"
    assert rows[2] == JS365_HEADERS
    walk = rows[3]
    assert walk[:12] == ["健步走", "2024-05-01 09:00", "2024-05-01 11:30", "山东省", "威海市", "环翠区",
                         "张村镇 梨林村 文化广场", "张村镇文体站", "张村镇老年体协", 3, "健步走，面向群众。", "志愿服务"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", walk[12]) and walk[13] == "staff"   # when, by whom
    assert rows[4][:2] == ["广场舞培训", "2024-06-10 09:00"] and rows[4][9] == 0 and rows[4][13] == "staff"
    assert rows[5][0] == "太极拳展示" and rows[5][12] is None and rows[5][13] is None


def test_bad_marks_are_a_4xx(laptop):
    staff = _client(laptop, "staff")
    assert staff.form("/exports/js365/filed", {"year": "2024"}).status_code == 422
    assert staff.form("/exports/js365/filed", {"session": ["nope"]}).status_code == 404
    assert staff.form("/sessions/nope/js365", {}).status_code == 404
    assert staff.get("/exports?year=abc").status_code == 422


def test_the_changes_box_gives_the_changes_since_the_last_changes_only_export(laptop):
    staff = _client(laptop, "staff")
    assert "No changes-only export yet" in staff.get("/exports?lang=en").text
    first = _sheet(staff.form("/exports/s12.xlsx", {"changes": "true"}))
    assert first[2][0] == "操作" and len(first) > 4 and {row[0] for row in first[3:]} == {"注册"}
    assert _sheet(staff.form("/exports/s12.xlsx", {"changes": "true"}))[3:] == []
    page = staff.get("/exports?lang=en").text
    assert "Last changes-only export" in page and "staff" in page
