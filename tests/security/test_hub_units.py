"""Accounts with units on the hub (in process): a trainer or staff member of town A registers, sees and changes
only town A's people and sessions, whichever page or endpoint they use; a county covers its towns."""

from __future__ import annotations

import csv
import io

import pytest

from fieldsync.parts import open_store
from fieldsync.records import people, sessions, users
from fieldsync.reports import csv_export, merges, pairings, registry
from tests.backends import copy_instance
from tests.reports import fixture as city
from tests.security.routes import routes
from tests.support import DEMO_PASSWORD, AppClient, in_process, run_cli
from tests.sync.conftest import TOWN_A, TOWN_B

COUNTY = "371002"               # 环翠区: TOWN_A and TOWN_B
OTHER_COUNTY_TOWN = "371003100000"  # 文登区米山镇


@pytest.fixture
def hub(hub_instance):
    """A hub with one person in each of towns A and B, and accounts limited to town A or the county."""
    run_cli(hub_instance, "user", "add", "trainer-a", "--role", "trainer", "--unit", TOWN_A,
            "--password", DEMO_PASSWORD)
    with open_store(hub_instance / "fieldsync.db") as store:
        users.create(store, "staff-a", DEMO_PASSWORD, "staff", units=[TOWN_A])
        users.create(store, "staff-county", DEMO_PASSWORD, "staff", units=[COUNTY])
        found = {town: people.register(store, {"name": name, "town": town, "phone": phone})
                 for town, name, phone in ((TOWN_A, "甲镇人", "13800000001"), (TOWN_B, "乙镇人", "13800000002"))}
    with in_process(hub_instance) as site:
        site.person = found
        yield site


def signed_in(site, name: str) -> AppClient:
    client = site.signed_in(name)
    client.get("/hub/people" if name.startswith("staff") else "/kiosk/")
    return client


def refused(answer) -> None:
    assert answer.status_code == 403, answer.text[:300]
    error = answer.json["error"]
    assert error["code"] == "outside_units" and error["message"] and "town" in error["fields"]


def names_on_hub(server, name: str) -> int:
    with open_store(server.instance / "fieldsync.db") as store:
        return store.query_one("SELECT COUNT(*) AS n FROM people WHERE name = ?", [name])["n"]


def test_a_hub_trainer_of_town_a_registers_and_sees_town_a_only(hub):
    trainer = signed_in(hub, "trainer-a")
    refused(trainer.post("/api/v1/people", json={"name": "越界者", "town": TOWN_B}))
    assert names_on_hub(hub, "越界者") == 0
    assert trainer.post("/api/v1/people", json={"name": "本镇人", "town": TOWN_A}).status_code == 201
    b_person = hub.person[TOWN_B]["id"]
    refused(trainer.get(f"/api/v1/people/{b_person}"))
    assert trainer.get("/api/v1/people", query_string={"q": "乙镇人"}).json["people"] == []
    assert trainer.get("/api/v1/people", query_string={"q": "13800000002"}).json["people"] == []
    listed = trainer.get("/api/v1/people", query_string={"q": "镇人"}).json["people"]
    assert {p["town"] for p in listed} == {TOWN_A}


def test_hub_staff_of_town_a_cannot_touch_town_b_on_any_page(hub):
    staff = signed_in(hub, "staff-a")
    a_person, b_person = hub.person[TOWN_A]["id"], hub.person[TOWN_B]["id"]
    refused(staff.patch(f"/api/v1/people/{b_person}", json={"name": "改名"}))
    refused(staff.patch(f"/api/v1/people/{a_person}", json={"town": TOWN_B}))
    refused(staff.post("/api/v1/sessions", json={"kind": "training", "title": "越界活动",
                                                  "starts_at": "2025-06-01T09:00", "town": TOWN_B}))
    # The pages: the hub's people page and the office's form both refuse, and nothing is written.
    for path, form in (("/hub/people", {"name": "页面越界", "town": TOWN_B}),
                       ("/people/new", {"name": "页面越界", "town": TOWN_B}),
                       (f"/hub/people/{b_person}", {"name": "改名"})):
        answer = staff.form(path, form, follow_redirects=False)
        assert answer.status_code == 403 and "超出您账号负责的单位" in answer.text, (path, answer.status_code)
    assert names_on_hub(hub, "页面越界") == 0 and names_on_hub(hub, "改名") == 0
    assert "乙镇人" not in staff.get("/hub/people").text and "甲镇人" in staff.get("/hub/people").text
    assert staff.get(f"/people/{b_person}").status_code == 403


def test_a_county_unit_covers_its_towns_only(hub):
    staff = signed_in(hub, "staff-county")
    for town in (TOWN_A, TOWN_B):
        assert staff.post("/api/v1/people", json={"name": "县内人", "town": town}).status_code == 201
    refused(staff.post("/api/v1/people", json={"name": "县外人", "town": OTHER_COUNTY_TOWN}))


def test_an_admin_gives_and_takes_units_on_the_users_page(hub):
    admin = signed_in(hub, "admin")
    admin.get("/users")
    assert admin.form("/users", {"username": "new-staff", "role": "staff", "password": DEMO_PASSWORD,
                                 "units": f"{TOWN_A}, {COUNTY}"}, follow_redirects=False).status_code == 302
    bad = admin.form("/users/new-staff/units", {"units": "999999999999"}, follow_redirects=False)
    assert bad.status_code == 422 and "999999999999" in bad.text
    assert units_of(hub, "new-staff") == [COUNTY, TOWN_A], "the bad code changed nothing"
    assert admin.form("/users/new-staff/units", {"units": ""}, follow_redirects=False).status_code == 302
    assert units_of(hub, "new-staff") == []


def units_of(server, username: str) -> list[str]:
    with open_store(server.instance / "fieldsync.db") as store:
        return {account["username"]: account["units"] for account in users.listing(store)}[username]


def test_exports_keep_an_account_to_its_units(hub):
    staff = signed_in(hub, "staff-a")
    staff.get("/exports")
    own = staff.form("/exports/s12.xlsx", {})
    assert own.status_code == 200                          # by default the account's own unit
    assert staff.form("/exports/s12.xlsx", {"unit": COUNTY}).status_code == 403
    assert staff.form("/exports/s12.xlsx", {"unit": TOWN_B, "changes": "true"}).status_code == 403
    with open_store(hub.instance / "fieldsync.db") as store:
        b_session = sessions.create(store, {"kind": "volunteer", "title": "乙镇活动", "town": TOWN_B,
                                            "starts_at": "2024-05-01T09:00"})["id"]
    assert staff.form(f"/sessions/{b_session}/js365", {}).status_code == 403
    assert staff.form("/exports/js365/filed", {"session": [b_session]}).status_code == 403
    with open_store(hub.instance / "fieldsync.db") as store:
        assert store.query_one("SELECT js365_filed_at FROM sessions WHERE id = ?", [b_session]) == {
            "js365_filed_at": None}
        assert store.query("SELECT unit FROM exports") == [{"unit": TOWN_A}]


# -- reports, pages and downloads of a county account ---------------------------------------------
# The hand-computed city of tests/reports: counties C1 (towns T1, T2) and C2 (town T3). Nothing of
# C2's own may reach an account of C1: 赵敏 lives in T3 and came only to T3's sessions, s2 and s6
# were held in T3, SD-2-008 is the certificate of 王芳 of T3.
ELSEWHERE = ("赵敏", "石岛镇社会体育指导员培训", "国庆健步走", "SD-2-008")


@pytest.fixture
def county_hub(city_template, tmp_path):
    """The city's hub with `staff-c1`, a staff account limited to county C1."""
    instance = tmp_path / "hub"
    copy_instance(city_template[0], instance)
    with open_store(instance / "fieldsync.db") as store:
        users.create(store, "staff-c1", city.PASSWORD, "staff", units=[city.C1])
    with in_process(instance, ids=city_template[1]) as site:
        site.staff = site.signed_in("staff-c1")
        yield site


def outside(answer) -> None:
    assert answer.status_code == 403, answer.text[:300]
    error = answer.json["error"]
    assert error["code"] == "outside_units" and "unit" in error["fields"], error


def leaks(answer, ids: dict) -> list[str]:
    """What of county C2's own records the answer shows: names, titles, numbers, ids."""
    text = answer.data.decode("utf-8", "replace")
    return [mark for mark in (*ELSEWHERE, ids["p7"], ids["s2"], ids["s6"]) if mark in text]


JSON = {"Accept": "application/json"}   # the error as the API gives it, to read its code
UNIT_REPORTS = [report.name for report in registry.REPORTS.values() if "unit" in report.params]


@pytest.mark.parametrize("name", UNIT_REPORTS)
def test_a_county_account_reports_on_its_county_and_nothing_outside_it(county_hub, name):
    staff, year = county_hub.staff, {"year": 2024}
    own = staff.get(f"/hub/reports/{name}.csv", query_string=year)
    assert own.status_code == 200 and f"{name}-{city.C1}-" in own.headers["Content-Disposition"]
    assert not leaks(own, county_hub.ids)
    assert staff.get(f"/hub/reports/{name}.csv", query_string={**year, "unit": city.T1}).status_code == 200
    for unit in (city.CITY, city.C2, city.T3):
        outside(staff.get(f"/hub/reports/{name}.csv", query_string={**year, "unit": unit}, headers=JSON))


def test_a_county_account_gets_the_attendance_sheets_of_its_county_only(county_hub):
    staff, ids = county_hub.staff, county_hub.ids
    assert staff.get("/hub/reports/attendance.csv", query_string={"session": ids["s1"]}).status_code == 200
    for session in ("s2", "s6"):
        answer = staff.get("/hub/reports/attendance.csv", query_string={"session": ids[session]}, headers=JSON)
        assert answer.status_code == 403 and answer.json["error"]["code"] == "outside_units"


def test_the_table_export_gives_a_county_account_its_towns_rows_only(county_hub):
    ids = county_hub.ids
    with open_store(county_hub.instance / "fieldsync.db") as store:   # C2's pairing, its activity, its merge
        pair = pairings.create(store, {"organisation": ids["o3"], "village": city.V31}, actor="city")
        pairings.link(store, pair["id"], ids["s2"])
        merges.merge(store, ids["p8"], ids["p7"], actor="city")
    exported = {}
    for table in csv_export.DATABASE_TABLES:
        answer = county_hub.staff.get("/hub/reports/table.csv", query_string={"table": table})
        assert answer.status_code == 200 and not leaks(answer, ids), (table, leaks(answer, ids))
        exported[table] = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert {row["town"] for row in exported["people"]} == {row["town"] for row in exported["sessions"]} \
        == {city.T1, city.T2}
    for table in ("checkins", "attendance"):
        assert ids["s1"] in {row["session_id"] for row in exported[table]}, table
    assert exported["pairings"] == exported["session_pairings"] == exported["person_merges"] == []
    assert len(exported["organisations"]) == len(city.ORGANISATIONS), "organisations are shared"
    assert city.T3 in {row["code"] for row in exported["places"]}, "the gazetteer is shared"


def test_no_page_or_download_shows_a_county_account_another_countys_records(county_hub):
    """Every page a staff account may open (tests/security/routes.py), aimed at county C2 by every
    filter a page reads, and every report with C2's session or unit."""
    ids, staff = county_hub.ids, county_hub.staff
    found = routes(county_hub.app, {"person_id": ids["p7"], "session_id": ids["s2"]})
    pages = [r for r in found if r.method == "GET" and r.role in ("trainer", "staff")
             and r.endpoint != "dashboard.download"]
    assert len(pages) > 20
    aimed = {"year": 2024, "unit": city.C2, "county": city.C2, "town": city.T3}
    for route in pages:
        for params in ({"year": 2024}, aimed):
            answer = staff.get(route.path, query_string=params)
            assert answer.status_code < 500 and not leaks(answer, ids), (route.path, params, leaks(answer, ids))
    for report in registry.REPORTS.values():
        params = {key: value for key, value in {"year": 2024, "unit": city.C2, "session": ids["s2"],
                                                "table": "sessions"}.items() if key in report.params}
        answer = staff.get(f"/hub/reports/{report.name}.csv", query_string=params)
        assert answer.status_code in (200, 403) and not leaks(answer, ids), report.name


def test_a_county_account_pairs_organisations_with_its_own_villages_only(county_hub):
    staff = county_hub.staff
    staff.get("/hub/")
    answer = staff.form("/hub/pairings", {"organisation": county_hub.ids["o3"], "village": city.V31},
                        follow_redirects=False)
    assert answer.status_code == 403 and "超出您账号负责的单位" in answer.text  # the page speaks Chinese
    assert staff.form("/hub/pairings", {"organisation": county_hub.ids["o1"], "village": city.V11},
                      follow_redirects=False).status_code == 302
    with open_store(county_hub.instance / "fieldsync.db") as store:
        assert [r["village"] for r in store.query("SELECT village FROM pairings")] == [city.V11]
