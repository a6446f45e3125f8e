"""End to end: the fitness form filled on a town laptop, `fieldsync sync` run as its own process,
and the submission found in the hub's XLSX export; a pulled form version reaches the kiosk."""

from __future__ import annotations

import io
import json
import re

import openpyxl

from fieldsync.forms import catalogue, submissions
from fieldsync.store import new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change
from tests.forms.conftest import fitness_v2
from tests.support import WebClient, run_cli
from tests.sync.conftest import TOWN_A

FORM_FIELDS = {"measured_at": "2025-05-20", "age_group": "senior", "height_cm": "163.5", "weight_kg": "58",
               "grip_strength_kg": "24.6", "sit_and_reach_cm": "-4", "one_leg_stand_s": "9.5",
               "chronic_condition": "true", "conditions": ["hypertension", "joint"]}


def _fill_fitness_form(node) -> str:
    """A trainer at the kiosk: check a person in, open the form the answer points to, fill it."""
    session = node.query("SELECT id FROM sessions WHERE form_id = 'fitness_monitoring'")[0]
    person = node.query("SELECT id FROM people WHERE id NOT IN (SELECT person_id FROM checkins"
                        " WHERE session_id = ?) LIMIT 1", [session["id"]])[0]
    trainer = WebClient(node.server.url)
    assert trainer.login("trainer").ok
    checkin = trainer.post("/api/v1/checkins", json={"session": session["id"], "person": person["id"]})
    page = trainer.get(checkin.json()["form_url"])
    submission_id = re.search(r'name="submission_id" value="([0-9A-Z]{26})"', page.text).group(1)
    saved = trainer.form(checkin.json()["form_url"], {"submission_id": submission_id, "version": "1",
                                                      **FORM_FIELDS})
    assert saved.status_code == 201, saved.text
    return submission_id


def test_a_fitness_form_filled_on_a_node_is_in_the_hub_export(cluster):
    node = cluster.add_node(TOWN_A).serve()
    submission_id = _fill_fitness_form(node)
    synced = run_cli(node.instance, "sync")
    assert "push" in synced.stdout.lower(), synced.stdout
    staff = WebClient(cluster.hub.url)
    assert staff.login("staff").ok
    exported = staff.get("/forms/fitness_monitoring/export.xlsx")
    assert exported.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    header, found = rows[2], [row for row in rows if row[0] == submission_id]   # title, a line, headers
    assert len(found) == 1
    answer = dict(zip(header, found[0]))
    assert (answer["身高(cm)"], answer["坐位体前屈(cm)"], answer["闭眼单脚站立(秒)"]) == (163.5, -4, 9.5)
    assert answer["慢性病种类"] == "高血压、关节疾病" and answer["年龄组"] == "老年人（60-79岁）"
    assert len(rows) == 3 + 41  # the demo town's 40 earlier measurements came along, once
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM quarantine")[0]["n"] == 0


def test_a_version_published_at_the_hub_reaches_the_kiosk(cluster):
    with cluster.hub_store() as hub:
        catalogue.save_draft(hub, fitness_v2(hub), actor="test")
        catalogue.publish(hub, "fitness_monitoring", actor="test")
    node = cluster.add_node(TOWN_A)
    node.sync()
    assert catalogue.get(node.store, "fitness_monitoring")["version"] == 2
    assert catalogue.get(node.store, "fitness_monitoring", 1)["version"] == 1


def test_answers_the_form_refuses_go_to_quarantine_at_the_hub(cluster):
    node = cluster.add_node(TOWN_A)
    earlier = node.query("SELECT session_id, person_id FROM submissions LIMIT 1")[0]
    row = {"id": new_id(), "form_id": "fitness_monitoring", "form_version": 1, **earlier,
           "data": json.dumps({"height_cm": 900}), "submitted_at": utc_now(),
           "hlc": node.store.hlc.now(), "node": node.store.node_id, "actor": "demo", "flags": ""}

    def written_by_a_faulty_laptop(db):  # past the kiosk's checks, straight into the outbox
        db["submissions"].insert(row)
        record_change(db, "submissions", row["id"], "upsert", row["hlc"], row)

    node.store.write(written_by_a_faulty_laptop)
    node.sync()
    assert cluster.hub_query("SELECT id FROM submissions WHERE id = ?", [row["id"]]) == []
    held = cluster.hub_query("SELECT reason FROM quarantine WHERE record_id = ?", [row["id"]])
    assert len(held) == 1 and "height_cm" in held[0]["reason"]


def test_an_anonymous_survey_syncs_too(cluster):
    node = cluster.add_node(TOWN_A)
    done = submissions.submit(node.store, "activity_feedback", None, None, {"satisfaction": "5"})
    node.sync()
    assert cluster.hub_query("SELECT form_id FROM submissions WHERE id = ?", [done.submission["id"]]) \
        == [{"form_id": "activity_feedback"}]
