"""The hub's review queues (conflicts, quarantine) and their counts on the dashboard are confined
to an account's units, by the one rule of records/scope.py: a conflict is of its record's town, a
quarantined change of the sending laptop's town. In process, on a copy of the hand-computed city."""

from __future__ import annotations

import pytest

from fieldsync.parts import open_store
from fieldsync.records import scope, users
from fieldsync.reports import attention
from fieldsync.sync import enrollment
from tests.reports import fixture
from tests.reports.conftest import city_instance, ids  # noqa: F401
from tests.support import signed_in

PASSWORD = "town-one-staff-pw"


@pytest.fixture
def queues(city_instance, ids):   # noqa: F811
    """One open conflict and one quarantined change in T1, and one of each in T3."""
    with open_store(city_instance / "fieldsync.db") as store:
        users.create(store, "staff-t1", PASSWORD, "staff", units=[fixture.T1])
        laptops = {town: enrollment.add_node(store, town, f"laptop-{town}", actor="test")[0]["id"]
                   for town in (fixture.T1, fixture.T3)}

        def seed(db):
            for person, town in (("p1", fixture.T1), ("p7", fixture.T3)):
                db["conflicts"].insert({"entity": "people", "record_id": ids[person], "field": "phone",
                                        "kept_value": '"13800000001"', "lost_value": '"13800000002"',
                                        "node_id": laptops[town], "created_at": "2024-05-01T00:00:00Z"})
                db["quarantine"].insert({"entity": "people", "record_id": f"quarantined-{town}", "change": "{}",
                                         "node_id": laptops[town], "reason": f"refused from {town}",
                                         "created_at": "2024-05-01T00:00:00Z"})
        store.write(seed)

        conflicts = {row["record_id"]: row["id"] for row in store.query("SELECT id, record_id FROM conflicts")}
        quarantined = {row["record_id"]: row["id"] for row in store.query("SELECT id, record_id FROM quarantine")}

    return city_instance, conflicts, quarantined


def test_staff_of_one_town_sees_and_decides_only_its_towns_entries(queues, ids):   # noqa: F811
    instance, conflicts, quarantined = queues
    with signed_in(instance, "staff-t1", PASSWORD) as staff:
        page = staff.get("/hub/conflicts?lang=en").text
        assert f'data-conflict="{conflicts[ids["p1"]]}"' in page
        assert f'data-conflict="{conflicts[ids["p7"]]}"' not in page
        page = staff.get("/hub/quarantine?lang=en").text
        assert "refused from " + fixture.T1 in page and "refused from " + fixture.T3 not in page
        # Deciding another town's entry by its number is refused, as a record of that town is.
        answer = staff.form(f"/hub/conflicts/{conflicts[ids['p7']]}", {"choice": "keep"}, follow_redirects=False)
        assert answer.status_code == 403
        answer = staff.form(f"/hub/quarantine/{quarantined['quarantined-' + fixture.T3]}/dismiss", {"note": "x"}, follow_redirects=False)
        assert answer.status_code == 403
        # Its own town's entries it decides.
        assert staff.form(f"/hub/conflicts/{conflicts[ids['p1']]}", {"choice": "keep"}, follow_redirects=False).status_code in (302, 303)
    with open_store(instance / "fieldsync.db") as store:
        # The dashboard's strip counts what the lists show: T1's quarantined change, no conflict left.
        scope.set_units(store, [fixture.T1])
        try:
            counts = attention.needs_attention(store.db)
        finally:
            scope.set_units(store, None)
        assert (counts["conflicts"], counts["quarantine"]) == (0, 1)
        assert store.query_one("SELECT resolved_at FROM conflicts WHERE id = ?", [conflicts[ids["p7"]]])[
            "resolved_at"] is None
    with signed_in(instance, "staff", fixture.PASSWORD) as whole_city:
        assert f'data-conflict="{conflicts[ids["p7"]]}"' in whole_city.get("/hub/conflicts?lang=en").text
        assert "refused from " + fixture.T3 in whole_city.get("/hub/quarantine?lang=en").text
        # The association decides T3's entries: their trail is T3's too.
        whole_city.form(f"/hub/conflicts/{conflicts[ids['p7']]}", {"choice": "keep"}, follow_redirects=False)
        whole_city.form(f"/hub/quarantine/{quarantined['quarantined-' + fixture.T3]}/dismiss", {"note": "石岛镇的"}, follow_redirects=False)
        assert "赵敏" in whole_city.get("/hub/conflicts?lang=en").text.split('id="conflict-trail"')[1]
    with signed_in(instance, "staff-t1", PASSWORD) as staff:
        trail = staff.get("/hub/conflicts?lang=en").text.split('id="conflict-trail"')[1]
        assert fixture.PEOPLE["p1"]["name"] in trail and "赵敏" not in trail
        assert "石岛镇的" not in staff.get("/hub/quarantine?lang=en").text
