"""Phones joined as stations fill the session's forms in process: the form a check-in offers and the
walk-in registration, with the join cookie and the page's CSRF token; nothing of another session, no
staff page, and nothing once revoked."""

from __future__ import annotations

import re

from fieldsync.parts import open_store
from fieldsync.records import people, sessions, stations
from tests.server.test_stations import create_station
from tests.support import AppClient


def _training(instance) -> tuple[dict, dict, dict]:
    """The training session (it asks for the assessment), someone of no level not yet there, and
    another session."""
    with open_store(instance / "fieldsync.db") as store:
        listed = sessions.listing(store)
        training = next(s for s in listed if s["kind"] == "training" and s["form_id"])
        came = {row["person_id"] for row in store.query("SELECT person_id FROM checkins WHERE session_id = ?",
                                                        [training["id"]])}
        person = next(p for p in people.search(store, limit=500) if p["level"] == "none" and p["id"] not in came)
    return training, person, next(s for s in listed if s["id"] != training["id"])


def _join(client: AppClient, join_url: str) -> tuple[AppClient, dict]:
    """A phone opening the join QR: the cookie in its browser, the token in its localStorage."""
    phone = client
    assert phone.get(join_url).status_code == 200
    return phone, {"Authorization": "Bearer " + join_url.split("token=", 1)[1]}


def _stored(instance, person_id: str) -> list[tuple]:
    with open_store(instance / "fieldsync.db") as store:
        return [tuple(row.values()) for row in store.query(
            "SELECT id, form_id, session_id, actor FROM submissions WHERE person_id = ?", [person_id])]


def _filled(page: str) -> dict:
    submission_id = re.search(r'name="submission_id" value="([0-9A-Z]{26})"', page).group(1)
    return {"submission_id": submission_id, "version": "1", "result": "pass", "theory_score": "88",
            "certificate_no": "SD25-0202"}


def test_a_station_scans_then_fills_the_form_the_check_in_offers(node_instance, client, staff):
    training, person, _ = _training(node_instance)
    join_url, _ = create_station(staff, "门口手机", training["id"])
    phone, bearer = _join(client, join_url)

    kiosk = phone.get(f"/kiosk/{training['id']}")
    assert kiosk.status_code == 200 and f'href="/kiosk/{training["id"]}/walk-in"' in kiosk.text
    scanned = phone.post("/api/v1/checkins", headers=bearer,
                              json={"session": training["id"], "person": person["id"]})
    assert scanned.status_code == 201, scanned.text
    form_url = scanned.json["form_url"]
    assert form_url == f"/kiosk/{training['id']}/form/{person['id']}"

    page = phone.get(form_url, follow_redirects=False)
    assert page.status_code == 200 and 'name="certificate_no"' in page.text and person["name"] in page.text
    saved = phone.form(form_url, _filled(page.text))
    assert saved.status_code == 201, saved.text
    assert _stored(node_instance, person["id"]) == [
        (_filled(page.text)["submission_id"], "training_assessment", training["id"], "门口手机")]
    promoted = staff.get(f"/api/v1/people/{person['id']}").json
    assert (promoted["level"], promoted["certificate_no"]) == ("level3", "SD25-0202")


def test_the_post_needs_the_page_csrf_token(node_instance, client, staff):
    training, person, _ = _training(node_instance)
    join_url, _ = create_station(staff, "phone-csrf", training["id"])
    phone, _ = _join(client, join_url)
    form_url = f"/kiosk/{training['id']}/form/{person['id']}"
    filled = _filled(phone.get(form_url).text)

    for forged in ({}, {"csrf_token": "x" * 43}, {"csrf_token": staff.csrf}):
        refused = phone.post(form_url, data={**filled, **forged}, follow_redirects=False,
                             headers={"X-CSRF-Token": ""})
        assert refused.status_code == 403 and "来自其他网站" in refused.text, forged
    assert _stored(node_instance, person["id"]) == []
    assert phone.form(form_url, filled).status_code == 201


def test_a_station_tied_to_another_session_is_refused_its_forms(node_instance, client, staff):
    training, person, other = _training(node_instance)
    join_url, _ = create_station(staff, "phone-elsewhere", other["id"])
    phone, bearer = _join(client, join_url)
    form_url = f"/kiosk/{training['id']}/form/{person['id']}"
    filled = _filled(staff.get(form_url).text)

    for path in (form_url, f"/kiosk/{training['id']}/walk-in"):
        page = phone.get(path + "?lang=en", follow_redirects=False)
        assert page.status_code == 403 and "set up for another session" in page.text, path
        assert phone.form(path, {**filled, "name": "王外场"}).status_code == 403, path
    json_answer = phone.get(form_url, headers={"Accept": "application/json"})
    assert json_answer.json["error"]["code"] == "station_session_forbidden"
    by_api = phone.post("/api/v1/submissions", headers=bearer, json={
        "form": "training_assessment", "session": training["id"], "person": person["id"],
        "answers": {"result": "fail"}})
    assert by_api.status_code == 403 and by_api.json["error"]["code"] == "station_session_forbidden"
    assert _stored(node_instance, person["id"]) == []
    assert phone.get(f"/kiosk/{other['id']}/walk-in").status_code == 200   # its own session's are open


def test_a_station_registers_a_walk_in_in_its_own_name(node_instance, client, staff):
    training, _, _ = _training(node_instance)
    join_url, _ = create_station(staff, "手机2", training["id"])
    phone, _ = _join(client, join_url)
    path = f"/kiosk/{training['id']}/walk-in"
    page = phone.get(path, follow_redirects=False)
    assert page.status_code == 200 and 'name="birth_year"' in page.text
    submission_id = re.search(r'name="submission_id" value="([0-9A-Z]{26})"', page.text).group(1)

    saved = phone.form(path, {"submission_id": submission_id, "version": "1", "name": "司马现场",
                              "gender": "male", "birth_year": "1971"})
    assert saved.status_code == 201, saved.text
    with open_store(node_instance / "fieldsync.db") as store:
        [person] = store.query("SELECT id FROM people WHERE name = '司马现场'")
        scans = store.query("SELECT session_id, method, station FROM checkins WHERE person_id = ?", [person["id"]])
    assert [tuple(s.values()) for s in scans] == [(training["id"], "walk-in", "手机2")]
    assert _stored(node_instance, person["id"]) == [(submission_id, "walk_in_registration", training["id"], "手机2")]


def test_a_revoked_station_is_refused_at_once(node_instance, client, staff):
    training, person, _ = _training(node_instance)
    join_url, station_id = create_station(staff, "phone-lost", training["id"])
    phone, _ = _join(client, join_url)
    form_url = f"/kiosk/{training['id']}/form/{person['id']}"
    filled = _filled(phone.get(form_url).text)
    assert phone.get(form_url, follow_redirects=False).status_code == 200

    staff.get("/kiosk/stations")
    assert staff.form(f"/kiosk/stations/{station_id}/revoke", {}, follow_redirects=False).status_code == 302
    for answer in (phone.form(form_url, filled, follow_redirects=False),
                   phone.get(form_url, follow_redirects=False),
                   phone.get(f"/kiosk/{training['id']}/walk-in", follow_redirects=False)):
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert _stored(node_instance, person["id"]) == []


def test_a_station_opens_no_staff_page(node_instance, client, staff):
    training, _, _ = _training(node_instance)
    join_url, station_id = create_station(staff, "phone-nosy", training["id"])
    phone, _ = _join(client, join_url)
    assert phone.get(f"/kiosk/{training['id']}").status_code == 200
    for path in ("/people", "/sessions", "/forms", "/forms/training_assessment", "/kiosk/stations"):
        answer = phone.get(path, follow_redirects=False)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    revoked = phone.form(f"/kiosk/stations/{station_id}/revoke", {}, follow_redirects=False)
    assert revoked.status_code == 302 and "/login" in revoked.headers["Location"]
    with open_store(node_instance / "fieldsync.db") as store:
        assert stations.find(store, station_id) is not None
