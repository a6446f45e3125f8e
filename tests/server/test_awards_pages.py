"""The 最美 pages and the association's public page, in process on the hand-computed city
(decisions 0240, 0241): staff nominate and record consent, only the association writes results,
and the public page and display name nobody without consent and carry no personal data."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from fieldsync.records import awards, consents, sessions, users
from fieldsync.server import create_app
from tests.backends import copy_instance
from tests.reports import fixture
from tests.support import DEMO_PASSWORD

YEAR = datetime.now().year


@pytest.fixture(scope="module")
def city_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("awards-city")
    ids = fixture.build_instance(path)
    return path, ids


@pytest.fixture
def hub_app(city_template, tmp_path):
    instance = tmp_path / "hub"
    copy_instance(city_template[0], instance)
    app = create_app({"TESTING": True, "MODE": "hub", "AUTO_SYNC_SECONDS": 0}, instance=instance)
    app.ids = city_template[1]
    yield app
    app.extensions["fieldsync.store"].close()


def _signed_in(app, username: str, password: str = fixture.PASSWORD):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token}).status_code in (302, 303)
    client.csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
    return client


def _post(client, path: str, data: dict):
    return client.post(path, data={**data, "csrf_token": client.csrf})


def test_staff_nominate_and_the_association_decides_side_by_side(hub_app):
    ids, store = hub_app.ids, hub_app.extensions["fieldsync.store"]
    staff = _signed_in(hub_app, "staff")
    assert "王芳" in staff.get("/awards/nominate?q=王芳").text
    assert f"/awards/nominate?person={ids['p3']}" in staff.get(f"/hub/volunteers/{ids['p3']}").text
    assert "张伟" in staff.get(f"/awards/nominate?person={ids['p3']}").text
    for bad in ({"person_id": ids["p1"], "year": str(YEAR)}, {"person_id": ids["p1"], "year": "明年", "reason": "x"}):
        assert _post(staff, "/awards/nominate", bad).status_code == 422
    assert _post(staff, "/awards/nominate", {"person_id": ids["p1"], "year": str(YEAR),
                                             "reason": "带动全村健身"}).status_code == 302
    assert _post(staff, "/awards/nominate", {"person_id": ids["p1"], "year": str(YEAR),
                                             "reason": "again"}).status_code == 409
    made = awards.of_year(store.db, YEAR)[0]
    assert (made["nominated_by"], made["nominator_unit"]) == ("staff", fixture.CITY)
    page = staff.get(f"/awards/?year={YEAR}").text
    assert "带动全村健身" in page and 'class="decide-form"' in page   # an unlimited account is the association
    users.set_units(store, "staff", [fixture.T1])                    # a town's account on the hub
    assert 'class="decide-form"' not in staff.get(f"/awards/?year={YEAR}").text
    answer = _post(staff, f"/awards/{made['id']}/decide", {"decision": "selected"})
    assert answer.status_code == 403 and awards.steps(store.db, made["id"]) == []
    admin = _signed_in(hub_app, "admin")
    assert _post(admin, f"/awards/{made['id']}/decide", {"decision": "maybe"}).status_code == 422
    assert _post(admin, f"/awards/{made['id']}/decide", {"decision": "province", "note": "事迹突出"}).status_code == 302
    assert [(s["decision"], s["actor"]) for s in awards.steps(store.db, made["id"])] == [("province", "admin")]
    assert "事迹突出" in admin.get(f"/awards/?year={YEAR}").text
    assert _signed_in(hub_app, "trainer").get("/awards/").status_code == 403


def test_the_public_page_names_the_chosen_only_with_consent_and_no_personal_data(hub_app):
    ids, store = hub_app.ids, hub_app.extensions["fieldsync.store"]
    soon = datetime.now() + timedelta(days=3)
    sessions.create(store, fixture._session("volunteer", "重阳节登山活动", fixture.T2, soon, 2.0), actor="staff")
    made = awards.nominate(store, ids["p1"], YEAR, "带动全村健身", actor="staff", unit=fixture.T1)
    awards.decide(store, made["id"], "selected", None, actor="admin")
    anyone = hub_app.test_client()
    for path in ("/public/", "/public/display"):
        answer = anyone.get(path)
        assert answer.status_code == 200 and "Set-Cookie" not in answer.headers, path
        text = answer.text
        assert "重阳节登山活动" in text and "羊亭镇" in text
        assert "王芳" not in text, "chosen, but no consent is recorded"
        assert not re.search(r"1[3-9]\d{9}|\d{6}\*+", text) and "13900000000" not in text
    assert 'http-equiv="refresh"' in anyone.get("/public/display").text
    staff = _signed_in(hub_app, "staff")
    assert _post(staff, f"/awards/consent/{ids['p1']}", {"action": "give", "given_on": "2999-01-01"}).status_code == 422
    assert _post(staff, f"/awards/consent/{ids['p1']}", {"action": "give", "year": str(YEAR)}).status_code == 302
    assert "王芳" in anyone.get("/public/").text and "张村镇" in anyone.get("/public/display").text
    assert _post(staff, f"/awards/consent/{ids['p1']}", {"action": "withdraw"}).status_code == 302
    assert "王芳" not in anyone.get("/public/").text and "王芳" not in anyone.get("/public/display").text
    assert [c["action"] for c in consents.steps(store.db, ids["p1"])] == ["give", "withdraw"]


def test_a_laptop_has_no_public_page_and_writes_no_results(demo_template, tmp_path):
    instance = tmp_path / "node"
    copy_instance(demo_template, instance)
    app = create_app({"TESTING": True, "AUTO_SYNC_SECONDS": 0}, instance=instance)
    try:
        store = app.extensions["fieldsync.store"]
        person = store.query("SELECT id FROM people WHERE level != 'none' LIMIT 1")[0]["id"]
        assert app.test_client().get("/public/").status_code == 404
        staff = _signed_in(app, "staff", DEMO_PASSWORD)
        assert _post(staff, "/awards/nominate", {"person_id": person, "year": str(YEAR),
                                                 "reason": "骨干"}).status_code == 302
        made = awards.of_year(store.db, YEAR)[0]
        assert made["nominator_unit"] == app.config["TOWN"]
        assert _post(staff, f"/awards/{made['id']}/decide", {"decision": "selected"}).status_code == 403
        assert _post(staff, f"/awards/{made['id']}/refresh", {}).status_code == 302
    finally:
        app.extensions["fieldsync.store"].close()

