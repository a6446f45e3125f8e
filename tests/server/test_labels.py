"""Pages in Chinese name things in words, not codes (issue 14): levels, roles, history sources,
record kinds and fields, tables, forms; durations as people say them; one word said once.
Over real HTTP against `fieldsync serve`, a demo town laptop and a hub on the reports' city."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.records import mutable, people
from fieldsync.sync import enrollment
from tests.backends import copy_instance
from tests.reports import fixture
from tests.support import in_process


def visible(html: str) -> str:
    """The text a person reads: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def cells(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.DOTALL).group(1)
    return [[visible(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            for row in re.findall(r"<tr[ >].*?</tr>", body, re.DOTALL)]


# -- a town laptop ------------------------------------------------------------------------------------
@pytest.fixture
def pulled(node_instance) -> str:
    """A person whose phone number the hub changed: the laptop received it at a pull (as sync/upstream/pull.py
    applies it). The id of that person."""
    with open_store(node_instance / "fieldsync.db") as store:
        person = store.query_one("SELECT id FROM people LIMIT 1")["id"]
        stamp = f"{9 * 10 ** 15:016d}-00000-01HUBHUBHUBHUBHUBHUBHUBHUB"
        store.write(lambda db: mutable.apply_remote(db, "people", person, {"phone": "13900000009"},
                                                    {"phone": stamp}, None, origin=None, action="pull",
                                                    actor="hub"))
    return person


@pytest.fixture
def admin(signed_in):
    return signed_in("admin")


def test_person_history_names_its_source_and_the_edit_button_says_修改_once(admin, node_instance):
    with open_store(node_instance / "fieldsync.db") as store:
        person = store.query_one("SELECT id FROM people WHERE level = 'level2' LIMIT 1")
    page = admin.get(f"/people/{person['id']}").text
    history = visible(re.search(r'<table class="history">.*?</table>', page, re.DOTALL).group(0))
    assert "演示数据" in history and "demo" not in history
    assert "等级: 二级" in history and "状态: 在册" in history
    assert "修改 (修改)" not in visible(page) and "变更等级 (晋级)" not in visible(page)
    english = admin.get(f"/people/{person['id']}?lang=en").text
    assert "Demo data" in english and "Edit <small>(修改)</small>" in english


def test_a_change_pulled_from_the_hub_says_so(pulled, admin):
    page = admin.get(f"/people/{pulled}").text
    row = visible(re.search(r'<table class="history">.*?<tbody>\s*<tr>(.*?)</tr>', page, re.DOTALL).group(1))
    assert "从市级平台同步" in row and "市级平台" in row and "手机号码: " in row
    assert not re.search(r"\b(pull|hub|phone)\b", row)


def test_start_page_is_the_towns_office_and_says_注册_once(admin):
    page = admin.get("/").text
    assert "<h1>张村镇文体站</h1>" in page
    assert "注册人员 (注册)" not in visible(page) and "注册人员" in page


def test_accounts_show_roles_in_words(admin):
    page = admin.get("/users").text
    roles = {row[0]: row[2] for row in re.findall(r"<tr[ >]\s*<td[^>]*>(\w+)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>",
                                                  page)}
    assert roles == {"admin": "管理员", "staff": "工作人员", "trainer": "培训老师"}
    choices = re.search(r'<select name="role".*?</select>', page, re.DOTALL).group(0)
    assert re.findall(r">([^<]+)</option>", choices) == ["工作人员", "培训老师", "管理员"]


def test_forms_show_their_titles_not_their_ids(admin):
    listing = visible(admin.get("/forms").text)
    assert "培训考核" in listing or "考核" in listing
    assert not re.search(r"\b(training_assessment|activity_feedback|fitness_monitoring)\b", listing)
    detail = visible(admin.get("/forms/training_assessment").text)
    assert "training_assessment" not in detail


@pytest.fixture
def one_waiting(tmp_path):
    """A laptop with one registration waiting to sync and no hub yet."""
    config.save(tmp_path, mode="node", town=demo.DEMO_TOWN)
    with open_store(tmp_path / "fieldsync.db") as store:
        demo.places_and_accounts(store)
        people.register(store, {"name": "苏红", "town": demo.DEMO_TOWN}, actor="staff")
    with in_process(tmp_path) as site:
        yield site


def test_one_waiting_record_is_singular(one_waiting):
    client = one_waiting.signed_in("staff")
    line = re.search(r'class="syncbar[^"]*"[^>]*>([^<]*)', client.get("/?lang=en").text).group(1)
    assert "1 record waits on this laptop" in line and "records" not in line
    assert "本机有 1 条记录待上传" in client.get("/?lang=zh_CN").text


# -- the hub ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hub(city_template, tmp_path_factory):
    path = copy_instance(city_template[0], tmp_path_factory.mktemp("hub-labels") / "hub")
    with open_store(path / "fieldsync.db") as store:
        for name, skew in (("镇文体站电脑", 7 * 60_000), ("准时的电脑", -40)):
            node, _code = enrollment.add_node(store, fixture.T1, name, actor="test")
            store.write(lambda db, node=node, skew=skew: db.execute(
                "UPDATE nodes SET enrolled_at = '2024-01-01T00:00:00Z', last_seen = '2024-06-01T00:00:00Z',"
                " clock_skew_ms = ? WHERE id = ?", [skew, node["id"]]))
        person = store.query_one("SELECT id FROM people LIMIT 1")["id"]
        store.write(lambda db: db["conflicts"].insert_all(
            {"entity": "people", "record_id": person, "field": field, "kept_value": json.dumps(kept),
             "lost_value": json.dumps(lost), "created_at": "2024-06-01T00:00:00Z"}
            for field, kept, lost in (("phone", "13800000001", "13800000002"), ("level", "level2", "level1"),
                                      ("town", fixture.T1, fixture.T3))))
    with in_process(path, ids=city_template[1]) as site:
        yield site


@pytest.fixture(scope="module")
def hub_staff(hub):
    return hub.signed_in("staff")


def test_conflicts_name_the_record_kind_the_field_and_the_values(hub_staff):
    page = hub_staff.get("/hub/conflicts").text
    rows = cells(page, "open-conflicts")
    assert [row[1:4] for row in rows] == [["乡镇", "张村镇", "石岛镇"], ["等级", "二级", "一级"],
                                          ["手机号码", "13800000001", "13800000002"]]
    assert all(row[0].endswith("(人员)") for row in rows)
    text = visible(page)
    assert not re.search(r"\b(people|phone|level2|level1)\b", text)


def test_laptops_page_names_laptops_and_says_clocks_in_words(hub_staff):
    page = hub_staff.get("/hub/nodes").text
    assert "<th>名称</th>" in page and "<th>姓名</th>" not in page
    warning = visible(re.search(r'<p class="flash error" id="clock-warning">.*?</p>', page, re.DOTALL).group(0))
    assert "镇文体站电脑 (快 7分钟)" in warning and "最小值" not in warning
    clocks = {row[0]: row[5] for row in cells(page, "nodes")}
    assert clocks == {"镇文体站电脑": "快 7分钟", "准时的电脑": "准确"}
    assert "-0.0" not in page


def test_reports_page_speaks_one_language_and_names_tables(hub_staff):
    page = hub_staff.get("/hub/reports").text
    assert "Volunteer activity statistics" not in page and "Attendance sheet of one session" not in page
    tables = re.search(r'<select name="table">.*?</select>', page, re.DOTALL).group(0)
    assert '<option value="person_merges">合并的重复人员</option>' in tables
    assert '<option value="attendance">出勤汇总</option>' in tables
    assert not re.search(r"\b(person_merges|attendance|place_populations)\b", visible(page))
    english = hub_staff.get("/hub/reports?lang=en").text
    assert "Volunteer activity statistics" in english and "全民健身志愿服务活动统计表" not in english
    hub_staff.get("/hub/reports?lang=zh_CN")


def test_hub_start_page_is_the_associations(hub_staff):
    page = hub_staff.get("/").text
    heading = re.search(r"<h1>(.*?)</h1>", page).group(1)
    assert heading.endswith("社会体育指导员协会") and "乡镇文体站" not in heading


def test_dashboard_says_volunteer_hours_in_words(hub_staff):
    text = visible(hub_staff.get("/hub/?year=2024").text)
    assert "小时" in text
    assert not re.search(r"\d h\b", text) and not re.search(r"\d\.\d{2,} ", text)


def test_hub_person_history_reads_as_the_laptops_does(hub, hub_staff):
    with open_store(hub.instance / "fieldsync.db") as store:
        person = store.query_one("SELECT id FROM people WHERE status = 'cancelled' LIMIT 1")["id"]
    page = hub_staff.get(f"/hub/people/{person}").text
    history = visible(re.search(r'<table class="history">.*?</table>', page, re.DOTALL).group(0))
    assert "注册" in history and "注销" in history and "状态: 在册 → 已注销" in history
    assert not re.search(r"\b(register|cancel|active|cancelled|status|id_number_hash|town)\b", history)


def test_a_decided_conflict_reads_as_its_record_and_field(hub, hub_staff):
    with open_store(hub.instance / "fieldsync.db") as store:
        person = store.query_one("SELECT id, name FROM people WHERE level = 'none' LIMIT 1")
        conflict = store.write(lambda db: db["conflicts"].insert(
            {"entity": "people", "record_id": person["id"], "field": "gender", "kept_value": '"female"',
             "lost_value": '"male"', "created_at": "2024-06-02T00:00:00Z"}).last_pk)
    hub_staff.get("/hub/conflicts")
    assert hub_staff.form(f"/hub/conflicts/{conflict}", {"choice": "keep"}).status_code == 200
    trail = re.search(r'<ul id="conflict-trail">(.*?)</ul>', hub_staff.get("/hub/conflicts").text, re.DOTALL)
    decision = visible(trail.group(1))
    assert f"保留 · {person['name']} (人员) · 性别: 女 / 男" in decision
    assert not re.search(r"\b(people|gender|female|male|kept|other)\b", decision)


def test_every_table_the_reports_page_exports_has_a_name():
    from fieldsync.labels import VOCABULARIES
    from fieldsync.reports.csv_export import DATABASE_TABLES

    assert set(DATABASE_TABLES) <= set(VOCABULARIES["table"])
