"""Issue 15 across laptop and hub: a session's trainer and a person's pairing travel with the
session and the person; the hub's organisations reach every laptop, a pairing only its town's."""

from __future__ import annotations

from datetime import date

from fieldsync.records import people, places, sessions, trainers
from fieldsync.reports import organisations, pairings
from tests.sync.conftest import TOWN_A, TOWN_B


def test_trainers_leaders_and_pairings_travel_where_they_belong(cluster):
    with cluster.hub_store() as hub:
        club = organisations.save(hub, {"name": "威海市门球协会", "kind": "association"}, actor="city")
        village_a = places.children(hub, TOWN_A, "village")[0]["code"]
        village_b = places.children(hub, TOWN_B, "village")[0]["code"]
        ours = pairings.create(hub, {"organisation": club["id"], "village": village_a}, actor="city")
        theirs = pairings.create(hub, {"organisation": club["id"], "village": village_b}, actor="city")
    a = cluster.add_node(TOWN_A, empty=True)
    a.sync()
    assert a.query("SELECT name FROM organisations") == [{"name": "威海市门球协会"}]
    assert [r["id"] for r in a.query("SELECT id FROM pairings")] == [ours["id"]] != [theirs["id"]]
    leader = people.register(a.store, {"name": "孙秀兰", "town": TOWN_A, "village": village_a, "level": "level3",
                                       "recruited_via": ours["id"]}, actor="test")
    held = sessions.create(a.store, {"kind": "training", "title": "门球培训", "town": TOWN_A,
                                     "starts_at": f"{date.today().year}-03-10T09:00"}, actor="test")
    trainers.set_trainer(a.store, held["id"], leader["id"], actor="test")
    a.sync()
    assert cluster.hub_query("SELECT trainer_id FROM sessions WHERE id = ?", [held["id"]]) == [
        {"trainer_id": leader["id"]}]
    assert cluster.hub_query("SELECT recruited_via FROM people WHERE id = ?", [leader["id"]]) == [
        {"recruited_via": ours["id"]}]
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM quarantine")[0]["n"] == 0
