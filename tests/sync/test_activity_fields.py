"""What the 临汾 notice asks of an activity, and theme days, across laptop and hub (issue 19): the new
session fields travel and merge field by field like the others; the hub's theme days reach the
laptops, which tag their activities with them."""

from __future__ import annotations

from fieldsync.records import sessions, theme_days
from fieldsync.store import clock
from tests.sync.conftest import TOWN_A
from tests.sync.test_pull import hub_staff

YEAR = clock.today().year


def test_activity_fields_travel_both_ways_and_merge_field_by_field(cluster):
    with cluster.hub_store() as hub:
        theme_days.seed(hub, YEAR, actor="test")
    a = cluster.add_node(TOWN_A, empty=True)
    a.sync()
    assert {r["id"] for r in a.query("SELECT id FROM theme_days")} == {f"{YEAR}-{code}" for code, *_ in theme_days.DEFAULTS}
    made = sessions.create(a.store, {
        "kind": "volunteer", "title": "全民健身进校园", "town": TOWN_A, "starts_at": f"{YEAR}-08-08T09:00",
        "venue_type": "campus", "groups_served": "youth", "safety_plan": True,
        "theme_day": f"{YEAR}-fitness-day"}, actor="test")
    a.sync()
    columns = "venue_type, groups_served, safety_plan, theme_day"
    query = f"SELECT {columns} FROM sessions WHERE id = ?"
    assert cluster.hub_query(query, [made["id"]]) == [
        {"venue_type": "campus", "groups_served": "youth", "safety_plan": 1, "theme_day": f"{YEAR}-fitness-day"}]
    # The hub's staff change whom it served while the laptop, offline, changes where it was held.
    answer = hub_staff(cluster).patch(f"/api/v1/sessions/{made['id']}",
                                      json={"groups_served": ["青少年/幼儿", "残疾人"], "safety_plan": False})
    assert answer.status_code == 200, answer.text
    sessions.modify(a.store, made["id"], {"venue_type": "square"}, actor="test")
    a.sync()
    merged = {"venue_type": "square", "groups_served": "disabled,youth", "safety_plan": 0,
              "theme_day": f"{YEAR}-fitness-day"}
    assert cluster.hub_query(query, [made["id"]]) == [merged]
    assert a.query(query, [made["id"]]) == [merged]
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM conflicts")[0]["n"] == 0


def test_the_hubs_edits_of_the_theme_days_reach_the_laptops(cluster):
    a = cluster.add_node(TOWN_A, empty=True)
    staff = hub_staff(cluster)
    with cluster.hub_store() as hub:
        theme_days.seed(hub, YEAR, actor="test")
        added = theme_days.save(hub, {"name": "重阳节登高", "starts_on": f"{YEAR}-10-11"}, actor="test")
        theme_days.save(hub, {"name": "全民健身日", "starts_on": f"{YEAR}-08-09"}, theme_day_id=f"{YEAR}-fitness-day")
    a.sync()
    assert a.query("SELECT name FROM theme_days WHERE id = ?", [added["id"]]) == [{"name": "重阳节登高"}]
    assert a.query("SELECT starts_on FROM theme_days WHERE id = ?", [f"{YEAR}-fitness-day"]) == [
        {"starts_on": f"{YEAR}-08-09"}]
    with cluster.hub_store() as hub:
        theme_days.delete(hub, added["id"], actor="test")
    a.sync()
    assert a.query("SELECT id FROM theme_days WHERE id = ?", [added["id"]]) == []
    # Nothing the laptop holds of the list goes back up: the hub's quarantine stays empty.
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM quarantine")[0]["n"] == 0
    assert staff.get("/hub/theme-days/").status_code == 200
