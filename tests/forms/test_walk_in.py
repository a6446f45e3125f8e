"""The built-in walk-in registration form registers the person and checks them in, as the kiosk's
walk-in dialog does: in process, the page and the submissions API."""

from __future__ import annotations

import re

from fieldsync.parts import open_store
from fieldsync.records import places, sessions
from fieldsync.store import new_id


def _session(instance) -> tuple[dict, str]:
    """A session on the demo laptop and one village of its town."""
    with open_store(instance / "fieldsync.db") as store:
        session = next(s for s in sessions.listing(store) if s["status"] == "active")
        return session, places.children(store, session["town"], "village")[0]["code"]


def _registered(instance, name: str) -> list[dict]:
    with open_store(instance / "fieldsync.db") as store:
        return store.query("SELECT id, name, phone, village, town, gender, birth_year, status FROM people"
                           " WHERE name = ?", [name])


def _walk_ins(instance, person_id: str) -> list[tuple]:
    with open_store(instance / "fieldsync.db") as store:
        checkins = store.query("SELECT session_id, direction, method FROM checkins WHERE person_id = ?", [person_id])
        forms = store.query("SELECT form_id, session_id FROM submissions WHERE person_id = ?", [person_id])
    return [tuple(row.values()) for row in checkins + forms]


def test_the_form_page_registers_and_checks_in(node_instance, trainer):
    session, village = _session(node_instance)
    page = trainer.get(f"/kiosk/{session['id']}/walk-in?lang=en")
    assert page.status_code == 200 and "saving registers this person" in page.text
    for field in ("name", "phone", "village", "gender", "birth_year"):
        assert f'name="{field}"' in page.text
    submission_id = re.search(r'name="submission_id" value="([0-9A-Z]{26})"', page.text).group(1)
    filled = {"submission_id": submission_id, "version": "1", "name": "欧阳表单", "phone": "13912345670",
              "village": village, "gender": "female", "birth_year": "1968"}

    saved = trainer.form(f"/kiosk/{session['id']}/walk-in", filled)
    assert saved.status_code == 201 and "欧阳表单 is registered and checked in." in saved.text
    [person] = _registered(node_instance, "欧阳表单")
    assert person == {**person, "phone": "13912345670", "village": village, "town": session["town"],
                      "gender": "female", "birth_year": 1968, "status": "active"}
    assert _walk_ins(node_instance, person["id"]) == [(session["id"], "in", "walk-in"),
                                                      ("walk_in_registration", session["id"])]
    attendees = trainer.get(f"/api/v1/sessions/{session['id']}/attendees").json["attendees"]
    assert person["id"] in {a["person_id"] for a in attendees}

    again = trainer.form(f"/kiosk/{session['id']}/walk-in", filled)   # a double press: nobody twice
    assert again.status_code == 200 and len(_registered(node_instance, "欧阳表单")) == 1
    assert len(_walk_ins(node_instance, person["id"])) == 2


def test_a_bad_answer_or_a_cancelled_session_registers_nobody(node_instance, trainer, staff):
    session, village = _session(node_instance)
    page = trainer.get(f"/kiosk/{session['id']}/walk-in?lang=en")
    filled = {"submission_id": new_id(), "version": "1", "name": "错号码", "phone": "12345", "village": village}
    refused = trainer.form(f"/kiosk/{session['id']}/walk-in", filled)
    assert refused.status_code == 422 and 'value="错号码"' in refused.text and "field-error" in refused.text
    assert _registered(node_instance, "错号码") == []

    staff.get("/sessions")
    assert staff.form(f"/sessions/{session['id']}/cancel", {}).status_code == 200
    stopped = trainer.form(f"/kiosk/{session['id']}/walk-in", {**filled, "phone": "13912345671"})
    assert stopped.status_code == 409 and "cancelled" in stopped.text
    assert _registered(node_instance, "错号码") == [] and page.status_code == 200


def test_the_submissions_api_does_the_same(node_instance, trainer):
    session, village = _session(node_instance)
    body = {"id": new_id(), "form": "walk_in_registration", "session": session["id"],
            "answers": {"name": "接口新人", "phone": "13912345672", "village": village}}
    answer = trainer.post("/api/v1/submissions", json=body)
    assert answer.status_code == 201, answer.text
    done = answer.json
    [person] = _registered(node_instance, "接口新人")
    assert done["person"]["id"] == person["id"] and done["checkin"]["status"] == "ok"
    assert _walk_ins(node_instance, person["id"]) == [(session["id"], "in", "walk-in"),
                                                      ("walk_in_registration", session["id"])]
    assert trainer.post("/api/v1/submissions", json=body).status_code == 200
    assert len(_registered(node_instance, "接口新人")) == 1
    for bad in ({**body, "id": new_id(), "person": person["id"]}, {**body, "id": new_id(), "session": None}):
        refused = trainer.post("/api/v1/submissions", json=bad)
        assert refused.status_code == 422 and refused.json["error"]["code"] == "validation_failed"
    feedback = trainer.post("/api/v1/submissions", json={"id": new_id(), "form": "activity_feedback",
                                                         "session": session["id"], "answers": {"satisfaction": "5"}})
    taken = trainer.post("/api/v1/submissions", json={**body, "id": feedback.json.get("id", new_id())})
    assert feedback.status_code == 201 and taken.status_code == 409, (feedback.text, taken.text)
    assert len(_registered(node_instance, "接口新人")) == 1
