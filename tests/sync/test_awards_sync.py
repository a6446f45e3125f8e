"""最美 nominations, results and consent travel like reviews of hours (decision 0240): a laptop's
nomination and consent reach the hub, the association's result reaches the laptop, and a laptop
nominating another town's person, in another unit's name, or writing a result, is refused."""

from __future__ import annotations

from fieldsync.records import awards, consents
from fieldsync.reports import public
from fieldsync.store import new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change
from tests.sync.conftest import TOWN_A, TOWN_B

YEAR = 2026


def _forge(node, table: str, row: dict) -> None:
    def write(db):
        db[table].insert(row)
        record_change(db, table, row["id"], "upsert", row["hlc"], row)

    node.store.write(write)


def _instructor(node) -> str:
    return node.query("SELECT id FROM people WHERE status = 'active' AND level != 'none' ORDER BY id LIMIT 1")[0]["id"]


def test_a_laptops_nomination_and_consent_reach_the_hub_and_the_result_comes_back(cluster):
    a = cluster.add_node(TOWN_A)
    person = _instructor(a)
    made = awards.nominate(a.store, person, YEAR, "带动全村健身", actor="staff", unit=TOWN_A)
    consents.record(a.store, person, "give", recorded_by="staff")
    a.sync()
    with cluster.hub_store() as hub:
        arrived = awards.get(hub.db, made["id"])
        assert (arrived["nominated_by"], arrived["nominator_unit"], arrived["reason"]) == ("staff", TOWN_A, "带动全村健身")
        awards.decide(hub, made["id"], "province", "事迹突出", actor="协会")
        name = hub.query("SELECT name FROM people WHERE id = ?", [person])[0]["name"]
        assert [h["name"] for h in public.honours(hub.db, YEAR)] == [name]
    a.sync()
    assert [(r["decision"], r["actor"]) for r in a.query("SELECT decision, actor FROM award_results")] == [
        ("province", "协会")]
    # The laptop refreshes its own nomination; the hub takes the new record whole.
    awards.refresh(a.store, made["id"], hub=False)
    a.sync()
    assert cluster.hub_query("SELECT hlc FROM nominations")[0]["hlc"] == a.query("SELECT hlc FROM nominations")[0]["hlc"]
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM quarantine")[0]["n"] == 0


def test_a_laptop_may_not_nominate_elsewhere_nor_write_results(cluster):
    a = cluster.add_node(TOWN_A)
    a.sync()
    b = cluster.add_node(TOWN_B)
    foreign, own = _instructor(a), _instructor(b)
    base = {"year": YEAR, "reason": "x", "nominated_by": "intruder", "hours": 99.0, "activities": 9,
            "estimated": 0, "trainings": 9, "record_at": utc_now(), "created_at": utc_now()}
    forged = [  # another town's person (as it is, and lying about the town), and in another unit's name
        ("nominations", {**base, "person_id": foreign, "town": TOWN_A, "nominator_unit": TOWN_B}),
        ("nominations", {**base, "person_id": foreign, "town": TOWN_B, "nominator_unit": TOWN_B}),
        ("nominations", {**base, "person_id": own, "town": TOWN_B, "nominator_unit": TOWN_A}),
        ("consents", {"person_id": foreign, "town": TOWN_A, "action": "give", "given_on": "2026-01-01",
                      "recorded_by": "intruder", "created_at": utc_now()}),
        ("award_results", {"nomination_id": new_id(), "town": TOWN_B, "decision": "province", "note": None,
                           "actor": "intruder", "created_at": utc_now()}),
    ]
    for table, row in forged:
        _forge(b, table, {"id": new_id(), **row, "hlc": b.store.hlc.now(), "origin": b.store.hlc.node})
    b.sync()
    for table in ("nominations", "consents", "award_results"):
        assert cluster.hub_query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == 0, table
    quarantined = sorted((r["entity"], r["code"] or "") for r in cluster.hub_query("SELECT entity, code FROM quarantine"))
    # award_results: a kind laptops do not send at all (not_pushed: it is never theirs)
    assert quarantined == [("award_results", "not_pushed"), ("consents", "not_your_record")] + [
        ("nominations", "not_your_record")] * 3
