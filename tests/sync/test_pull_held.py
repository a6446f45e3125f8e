"""A pull never skips silently (issue 16): a change the laptop cannot apply is held in its
quarantine, in the transaction that moves the cursor past it, shown to staff on the home page
and applied again after an upgrade. Why a change is held is stored as a code and its params and
worded in the reader's language, on the laptop and on the hub."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

from fieldsync.store.outbox import record_change
from tests.sync.conftest import TOWN_A
from tests.sync.test_pull import hub_staff

# This laptop's "old version": a trigger refusing any change to one person, as an older schema
# would refuse a value a newer hub sends. Dropping it is the upgrade.
OLD_VERSION = ("CREATE TRIGGER old_version BEFORE UPDATE ON people WHEN NEW.id = '{id}'"
               " BEGIN SELECT RAISE(ABORT, 'this version cannot take it'); END")


def _laptop_sql(node, *statements: str) -> None:
    with closing(sqlite3.connect(node.instance / "fieldsync.db")) as conn, conn:
        for statement in statements:
            conn.execute(statement)


def test_a_pulled_change_the_laptop_cannot_apply_is_held_shown_and_applied_after_an_upgrade(cluster):
    a = cluster.add_node(TOWN_A)
    a.sync()
    refused, other = (r["id"] for r in a.query("SELECT id FROM people ORDER BY id LIMIT 2"))
    a.close_store()
    _laptop_sql(a, OLD_VERSION.format(id=refused))
    hub = hub_staff(cluster)
    assert hub.patch(f"/api/v1/people/{refused}", json={"specialty": "门球"}).ok
    assert hub.patch(f"/api/v1/people/{other}", json={"specialty": "太极拳"}).ok

    result = a.sync()["result"]
    assert result.pull.held == 1 and "is held" in result.text()
    # The rest of the page went in, and the cursor passed the refused change together with its record.
    assert a.query("SELECT specialty FROM people WHERE id = ?", [other]) == [{"specialty": "太极拳"}]
    assert a.query("SELECT specialty FROM people WHERE id = ?", [refused])[0]["specialty"] != "门球"
    [held] = a.query("SELECT * FROM quarantine WHERE pulled = 1")
    cursor = a.query("SELECT pull_cursor FROM sync_state WHERE peer = 'hub'")[0]["pull_cursor"]
    change = json.loads(held["change"])
    assert (held["entity"], held["record_id"], held["resolved_at"]) == ("people", refused, None)
    assert change["fields"]["specialty"] == "门球" and change["seq"] <= int(cursor.split(":")[1])
    assert held["code"] and "specialty" not in (held["params"] or "")   # a code and params, no sentence

    a.serve()
    home = a.staff.get("/?lang=en").text
    assert 'id="held-from-hub"' in home and "1 change from the hub could not be applied" in home
    listing = a.staff.get("/sync/held?lang=en").text
    assert refused in listing and "The record is incomplete or clashes" in listing
    assert "不完整" in a.staff.get("/sync/held?lang=zh_CN").text     # worded when shown, in the reader's language

    _laptop_sql(a, "DROP TRIGGER old_version")                   # the upgrade
    assert a.staff.form("/sync/held/retry", {}).status_code == 200
    assert 'id="held-from-hub"' not in a.staff.get("/").text
    a.stop()
    assert a.query("SELECT specialty FROM people WHERE id = ?", [refused]) == [{"specialty": "门球"}]
    assert a.query("SELECT resolution, resolved_by FROM quarantine WHERE pulled = 1") == \
        [{"resolution": "applied", "resolved_by": "staff"}]


def test_the_hub_words_a_held_change_in_the_readers_language(cluster):
    a = cluster.add_node(TOWN_A)
    a.store.write(lambda db: record_change(db, "mystery", "x1", "upsert", a.store.hlc.now(), {"a": 1}))
    a.sync()
    [held] = cluster.hub_query("SELECT code, params FROM quarantine WHERE entity = 'mystery'")
    assert (held["code"], json.loads(held["params"])) == ("unknown_entity", {"entity": "mystery"})
    hub = hub_staff(cluster)
    assert "does not know records of kind “mystery”" in hub.get("/hub/quarantine?lang=en").text
    assert "“mystery”" in (zh := hub.get("/hub/quarantine?lang=zh_CN").text) and "does not know" not in zh
