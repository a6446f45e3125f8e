"""Submissions on real SQLite files: outbox, retries, promotion, versions, the hub's check, wire."""

from __future__ import annotations

import json

import pytest
from marshmallow import ValidationError

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.forms import catalogue, submissions, wire
from fieldsync.records import people, sessions
from fieldsync.store import new_id
from tests.forms.conftest import FITNESS_ANSWERS, fitness_v2


def _session(store, kind: str) -> dict:
    return next(s for s in sessions.listing(store) if s["kind"] == kind)


def _person(store, level: str = "none") -> dict:
    return next(p for p in people.search(store, limit=500) if p["level"] == level)


def test_a_submission_is_written_with_its_outbox_row_and_a_retry_returns_it(store):
    session, person, client_id = _session(store, "monitoring"), _person(store), new_id()
    first = submissions.submit(store, "fitness_monitoring", session["id"], person["id"], FITNESS_ANSWERS,
                               client_id)
    again = submissions.submit(store, "fitness_monitoring", session["id"], person["id"], FITNESS_ANSWERS,
                               client_id)
    assert (first.replay, again.replay) == (False, True)
    assert again.submission == first.submission
    stored = store.query("SELECT * FROM submissions WHERE id = ?", [client_id])
    outbox = store.query("SELECT * FROM changes WHERE entity = 'submissions' AND record_id = ?", [client_id])
    assert len(stored) == 1 and len(outbox) == 1
    assert json.loads(outbox[0]["payload"]) == stored[0]
    assert json.loads(stored[0]["data"])["height_cm"] == 171.5 and stored[0]["form_version"] == 1


def test_passing_the_assessment_promotes_to_level3_in_the_same_write(store):
    training, trainee = _session(store, "training"), _person(store, "none")
    answers = {"result": "pass", "theory_score": 88, "practical_score": 91, "certificate_no": "SD25-0042"}
    done = submissions.submit(store, "training_assessment", training["id"], trainee["id"], answers, new_id(),
                              actor="trainer")
    promoted = people.get(store, trainee["id"])
    assert (promoted["level"], promoted["certificate_no"]) == ("level3", "SD25-0042")
    assert done.promoted["level"] == "level3"
    last = people.history(store, trainee["id"])[-1]
    assert last["action"] == "promote" and last["changes"]["level"] == ["none", "level3"]
    assert store.query_one("SELECT COUNT(*) AS n FROM changes WHERE entity = 'people' AND record_id = ?"
                           " AND hlc > ?", [trainee["id"], trainee["hlc"]])["n"] == 1


def test_a_fail_or_a_higher_level_promotes_nobody(store):
    training = _session(store, "training")
    failed, senior = _person(store, "none"), _person(store, "level2")
    submissions.submit(store, "training_assessment", training["id"], failed["id"], {"result": "fail"})
    submissions.submit(store, "training_assessment", training["id"], senior["id"],
                       {"result": "pass", "certificate_no": "SD25-0043"})
    assert people.get(store, failed["id"])["level"] == "none"
    assert people.get(store, senior["id"])["level"] == "level2"


def test_a_pass_must_name_its_certificate_and_its_person(store):
    training, trainee = _session(store, "training"), _person(store, "none")
    with pytest.raises(ValidationFailed) as caught:
        submissions.submit(store, "training_assessment", training["id"], trainee["id"], {"result": "pass"})
    assert "certificate_no" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        submissions.submit(store, "training_assessment", training["id"], None,
                           {"result": "pass", "certificate_no": "SD1"})
    assert "person" in caught.value.fields
    assert store.query_one("SELECT COUNT(*) AS n FROM submissions WHERE form_id = 'training_assessment'")["n"] == 0


def test_unknown_form_or_session_is_404(store):
    with pytest.raises(NotFound) as caught:
        submissions.submit(store, "no_such_form", None, None, {})
    assert caught.value.code == "form_not_found"
    with pytest.raises(NotFound) as caught:
        submissions.submit(store, "fitness_monitoring", "no-such-session", None, FITNESS_ANSWERS)
    assert caught.value.code == "session_not_found"


def test_drafts_take_the_next_version_and_publishing_writes_the_outbox(hub_store):
    first = catalogue.save_draft(hub_store, fitness_v2(hub_store), actor="staff")
    second = catalogue.save_draft(hub_store, fitness_v2(hub_store), actor="staff")
    assert first["version"] == second["version"] == 2 and first["published_at"] is None
    assert catalogue.get(hub_store, "fitness_monitoring")["version"] == 1  # drafts are not served
    published = catalogue.publish(hub_store, "fitness_monitoring", actor="admin")
    assert published["version"] == 2 and published["ref"] == "fitness_monitoring:2"
    change = hub_store.query_one("SELECT * FROM changes WHERE entity = 'forms'")
    assert change["record_id"] == "fitness_monitoring:2"
    with pytest.raises(Conflict):
        catalogue.publish(hub_store, "fitness_monitoring")


def test_a_new_version_never_breaks_old_submissions(hub_store):
    old = submissions.submit(hub_store, "fitness_monitoring", None, None, FITNESS_ANSWERS, new_id())
    catalogue.save_draft(hub_store, fitness_v2(hub_store))
    catalogue.publish(hub_store, "fitness_monitoring")
    submissions.check_remote(hub_store.db, old.submission | {"data": json.dumps(old.submission["data"])})
    with pytest.raises(ValidationFailed) as caught:  # sit-ups are gone from version 2
        submissions.submit(hub_store, "fitness_monitoring", None, None, FITNESS_ANSWERS)
    assert "sit_ups" in caught.value.fields
    by_version_1 = submissions.submit(hub_store, "fitness_monitoring", None, None, FITNESS_ANSWERS, version=1)
    assert by_version_1.submission["form_version"] == 1


def test_the_hub_refuses_answers_their_version_refuses(hub_store):
    row = {"id": new_id(), "form_id": "fitness_monitoring", "form_version": 1, "session_id": None,
           "person_id": None, "data": json.dumps({**FITNESS_ANSWERS, "height_cm": 900}),
           "submitted_at": "2025-05-20T08:00:00.000Z", "hlc": "0001748000000000-00000-x", "node": "n1",
           "actor": None, "flags": ""}
    with pytest.raises(ValidationFailed) as caught:
        submissions.check_remote(hub_store.db, row)
    assert "height_cm" in caught.value.fields
    with pytest.raises(NotFound) as caught:
        submissions.check_remote(hub_store.db, {**row, "form_version": 7})
    assert caught.value.code == "form_not_found"
    assert wire.SubmissionWire().load(row)["data"] == row["data"]
    with pytest.raises(ValidationError) as shape:
        wire.SubmissionWire().load({**row, "data": "[1, 2]"})
    assert "data" in shape.value.messages


def test_a_pulled_form_is_checked_whole(hub_store):
    catalogue.save_draft(hub_store, fitness_v2(hub_store))
    row = hub_store.query_one("SELECT * FROM forms WHERE ref = ?",
                              [catalogue.publish(hub_store, "fitness_monitoring")["ref"]])
    assert wire.FormWire().load(row)["ref"] == "fitness_monitoring:2"
    broken = json.loads(row["definition"])
    broken["fields"][2]["min"] = 500
    with pytest.raises(ValidationError) as caught:
        wire.FormWire().load({**row, "definition": json.dumps(broken)})
    assert caught.value.messages["definition"]["fields"]["2"]["min"]
    with pytest.raises(ValidationError) as caught:
        wire.FormWire().load({**row, "ref": "fitness_monitoring:1"})
    assert "definition" in caught.value.messages


def test_a_pass_neither_promotes_a_cancelled_person_nor_takes_a_certificate_someone_holds(store):
    training, trainee = _session(store, "training"), _person(store, "none")
    other = next(p for p in people.search(store, limit=500) if p["id"] != trainee["id"])
    people.modify(store, other["id"], {"certificate_no": "SD25-0500"})
    with pytest.raises(Conflict) as caught:
        submissions.submit(store, "training_assessment", training["id"], trainee["id"],
                           {"result": "pass", "certificate_no": "SD25-0500"})
    assert caught.value.code == "certificate_taken" and other["name"] in caught.value.message
    people.cancel(store, trainee["id"])
    with pytest.raises(Conflict) as caught:
        submissions.submit(store, "training_assessment", training["id"], trainee["id"],
                           {"result": "pass", "certificate_no": "SD25-0501"})
    assert caught.value.code == "person_cancelled"
    assert people.get(store, trainee["id"])["level"] == trainee["level"]
    assert store.query_one("SELECT COUNT(*) AS n FROM submissions WHERE form_id = 'training_assessment'")["n"] == 0
