"""Forms in process (create_app on real SQLite files): the kiosk after a check-in,
the submissions API, and the hub's form editor with its errors per field."""

from __future__ import annotations

import html
import io
import json
import re

import openpyxl
import pytest

from fieldsync.parts import open_store
from fieldsync.records import people, sessions
from fieldsync.store import new_id
from tests.forms.conftest import FITNESS_ANSWERS
from tests.support import in_process


def _roster(instance, kind: str) -> tuple[dict, dict]:
    """A session of that kind, and someone of no level who has not come to it yet."""
    with open_store(instance / "fieldsync.db") as store:
        session = next(s for s in sessions.listing(store) if s["kind"] == kind)
        came = {row["person_id"] for row in store.query("SELECT person_id FROM checkins WHERE session_id = ?",
                                                        [session["id"]])}
        person = next(p for p in people.search(store, limit=500) if p["level"] == "none" and p["id"] not in came)
    return session, person


def _errors(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'field-error">([^<]+)<', page)]


def test_a_check_in_opens_the_session_form_and_a_pass_promotes(node_instance, trainer, staff):
    training, trainee = _roster(node_instance, "training")
    answer = trainer.post("/api/v1/checkins", json={"session": training["id"], "person": trainee["id"]})
    assert answer.status_code == 201
    form_url = answer.json["form_url"]
    assert form_url == f"/kiosk/{training['id']}/form/{trainee['id']}"
    page = trainer.get(form_url)
    assert page.status_code == 200 and 'name="certificate_no"' in page.text and trainee["name"] in page.text
    submission_id = re.search(r'name="submission_id" value="([0-9A-Z]{26})"', page.text).group(1)
    filled = {"submission_id": submission_id, "version": "1", "result": "pass", "theory_score": "101"}
    refused = trainer.form(form_url, filled)
    assert refused.status_code == 422
    assert sorted(_errors(refused.text)) == ["此项必填。", "须在0到100之间。"]
    saved = trainer.form(form_url, {**filled, "theory_score": "95", "certificate_no": "SD25-0101"})
    assert saved.status_code == 201
    promoted = staff.get(f"/api/v1/people/{trainee['id']}").json
    assert (promoted["level"], promoted["certificate_no"]) == ("level3", "SD25-0101")
    assert trainer.form(form_url, {**filled, "theory_score": "95", "certificate_no": "SD25-0101"}).status_code == 200
    listed = staff.get("/api/v1/submissions", query_string={"person": trainee["id"]}).json["submissions"]
    assert [s["id"] for s in listed] == [submission_id]
    volunteer, person = _roster(node_instance, "volunteer")  # a session without a form offers none
    answer = trainer.post("/api/v1/checkins", json={"session": volunteer["id"], "person": person["id"]})
    assert answer.status_code == 201 and answer.json["form_url"] is None
    page = trainer.get(f"/kiosk/{volunteer['id']}/form/{person['id']}")
    assert page.status_code == 404 and "此活动没有关联表单" in page.text


def test_the_submissions_api_answers_each_mistake_with_its_own_4xx(node_instance, trainer, staff):
    monitoring, person = _roster(node_instance, "monitoring")
    body = {"id": new_id(), "form": "fitness_monitoring", "session": monitoring["id"], "person": person["id"],
            "answers": FITNESS_ANSWERS}
    first = trainer.post("/api/v1/submissions", json=body)
    assert first.status_code == 201 and first.json["data"]["conditions"] == ["hypertension"]
    assert trainer.post("/api/v1/submissions", json=body).json["replay"] is True
    cases = [
        ({**body, "id": new_id(), "answers": {**FITNESS_ANSWERS, "weight_kg": 9}}, 422, "weight_kg"),
        ({**body, "id": new_id(), "answers": {**FITNESS_ANSWERS, "one_leg_stand_s": 9}}, 422, "one_leg_stand_s"),
        ({**body, "id": "not-a-ulid"}, 422, "id"),
        ({**body, "answers": [1]}, 422, "answers"),
        ({**body, "colour": "red"}, 422, "colour"),
        ({**body, "id": new_id(), "form": "no_such_form"}, 404, None),
    ]
    for sent, status, field in cases:
        answer = trainer.post("/api/v1/submissions", json=sent)
        assert answer.status_code == status, (sent, answer.text)
        error = answer.json["error"]
        assert set(error) >= {"code", "message", "fields"}
        assert field is None or field in error["fields"]
    assert trainer.post("/api/v1/submissions", data="x=1").status_code == 415
    assert trainer.get("/api/v1/submissions").status_code == 403  # answers are for staff to read
    exported = staff.get("/forms/fitness_monitoring/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(exported.data)).active
    assert body["id"] in [row[0] for row in sheet.iter_rows(values_only=True)]
    # The page shows the submission as a person reads it: the name, not the record ids of the file.
    page = staff.get("/forms/fitness_monitoring").text
    assert person["name"] in page and body["id"] not in page and person["id"] not in page
    assert "提交编号" not in page and "人员编号" not in page
    assert staff.post("/api/v1/forms", json={"id": "x"}).json["error"]["code"] == "hub_only"


@pytest.fixture
def hub_admin(hub_instance):
    with in_process(hub_instance) as hub:
        yield hub.signed_in("admin")


def test_the_hub_editor_names_each_bad_spot_then_publishes(hub_admin):
    edit = hub_admin.get("/forms/fitness_monitoring/edit")
    document = json.loads(html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", edit.text, re.DOTALL).group(1)))
    document["fields"][2]["min"] = 300
    document["fields"][3]["type"] = "weight"
    refused = hub_admin.form("/forms/save", {"definition": json.dumps(document, ensure_ascii=False)})
    assert refused.status_code == 422
    shown = html.unescape(refused.text)
    assert "fields › #4 weight_kg › type" in shown and "未知类型 'weight'" in shown
    not_json = hub_admin.form("/forms/save", {"definition": '{"id": '})
    assert not_json.status_code == 400 and "这不是 JSON" in not_json.text
    api = hub_admin.post("/api/v1/forms", json=document)
    assert api.status_code == 422 and "type" in api.json["error"]["fields"]["fields"]["3"]
    document["fields"][3]["type"] = "number"
    document["fields"][2]["min"] = 100
    upload = (io.BytesIO(json.dumps(document, ensure_ascii=False).encode()), "fitness.json", "application/json")
    saved = hub_admin.form("/forms/save", {"file": upload})
    assert saved.status_code == 200 and "第2版" in saved.text  # the new draft, as the page numbers versions
    published = hub_admin.form("/forms/fitness_monitoring/publish", {})
    assert published.status_code == 200
    assert hub_admin.get("/api/v1/forms/fitness_monitoring").json["version"] == 2
    assert hub_admin.get("/api/v1/forms/fitness_monitoring?version=1").json["definition"]["fields"][2]["min"] == 80
