"""An instructor's correction request reaches their town's laptop, whose staff decide it there; the
decision and the change it approves come back to the hub (decision 0250). A laptop cannot decide
another town's request, nor change what was asked, nor decide twice."""

from __future__ import annotations

from fieldsync.records import people, profile_requests
from fieldsync.store.outbox import record_change
from tests.sync.conftest import TOWN_A, TOWN_B


def _asked_at_the_hub(cluster, person_id: str, value: str) -> str:
    with cluster.hub_store() as hub:
        return profile_requests.ask(hub, people.get(hub, person_id), "phone", value, "换号了")["id"]


def test_town_staff_decide_on_their_laptop_and_the_hub_learns_it(cluster):
    a = cluster.add_node(TOWN_A)
    person = a.query("SELECT id, phone FROM people WHERE status = 'active' ORDER BY name LIMIT 1")[0]
    a.sync()
    request_id = _asked_at_the_hub(cluster, person["id"], "13912345678")
    a.sync()
    a.serve()
    page = a.staff.get("/requests/").text
    assert "13912345678" in page and "换号了" in page
    assert "指导员信息更正申请待处理：1 条" in a.staff.get("/").text
    assert a.query("SELECT phone FROM people WHERE id = ?", [person["id"]])[0]["phone"] == person["phone"]
    assert a.staff.form(f"/requests/{request_id}", {"decision": "approve"}).status_code == 200
    assert 'id="person-requests"' in a.staff.get(f"/people/{person['id']}").text   # the decision in its history
    a.sync()
    hub_row = cluster.hub_query("SELECT status, decided_by FROM profile_requests WHERE id = ?", [request_id])[0]
    assert (hub_row["status"], hub_row["decided_by"]) == ("approved", "staff")
    assert cluster.hub_query("SELECT phone FROM people WHERE id = ?", [person["id"]])[0]["phone"] == "13912345678"
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM quarantine")[0]["n"] == 0


def _forge(node, row: dict) -> None:
    row = {**row, "hlc": node.store.hlc.now(), "origin": node.store.hlc.node}

    def write(db):
        db["profile_requests"].upsert(row, pk="id")
        record_change(db, "profile_requests", row["id"], "upsert", row["hlc"], row)

    node.store.write(write)


def test_a_laptop_may_not_decide_another_towns_request_nor_change_what_was_asked(cluster):
    a = cluster.add_node(TOWN_A)
    person = a.query("SELECT id FROM people WHERE status = 'active' ORDER BY name LIMIT 1")[0]["id"]
    a.sync()
    request_id = _asked_at_the_hub(cluster, person, "13912345678")
    a.sync()
    pulled = a.query("SELECT * FROM profile_requests WHERE id = ?", [request_id])[0]
    b = cluster.add_node(TOWN_B)
    _forge(b, {**pulled, "status": "approved", "decided_by": "intruder"})           # another town's
    b.sync()
    _forge(a, {**pulled, "value": "13000000000", "status": "approved", "decided_by": "staff"})   # the value changed
    a.sync()
    assert cluster.hub_query("SELECT status, value FROM profile_requests WHERE id = ?", [request_id])[0] == {
        "status": "pending", "value": "13912345678"}
    assert [r["code"] for r in cluster.hub_query(
        "SELECT code FROM quarantine WHERE entity = 'profile_requests' ORDER BY id")] == ["not_your_record"] * 2
    with cluster.hub_store() as hub:     # decided at the hub first: the laptop's later decision is refused
        profile_requests.decide(hub, request_id, False, actor="协会", reason="号码不对")
    _forge(a, {**pulled, "status": "approved", "decided_by": "staff"})
    a.sync()
    assert cluster.hub_query("SELECT status FROM profile_requests WHERE id = ?", [request_id])[0]["status"] == "rejected"
