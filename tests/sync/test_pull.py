"""Pull: scoped to the node's town, evictions and tombstones, 410 and snapshots, hub restores."""

from __future__ import annotations

import json
import shutil

import requests

from fieldsync.sync import enrollment, entities, hublog
from fieldsync.sync.downstream import merge
from tests.backends import copy_instance
from tests.support import WebClient, run_cli
from tests.sync.conftest import TOWN_A, TOWN_B


def hub_staff(cluster) -> WebClient:
    client = WebClient(cluster.hub.url)
    assert client.login("staff").ok
    return client


def everything_pulled(node, protocol: int = 1) -> list[dict]:
    creds = enrollment.credentials(node.instance)
    headers = {"Authorization": f"Bearer {creds.token}", "Fieldsync-Protocol": str(protocol)}
    changes, cursor = [], ""
    while True:
        page = requests.get(creds.hub_url + "/api/v1/sync/pull", headers=headers,
                            params={"cursor": cursor, "limit": 25}, timeout=10).json()
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes


def test_a_node_never_receives_another_towns_people(cluster):
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_B)
    a.sync(), b.sync(), a.sync()
    hub_towns = {r["town"] for r in cluster.hub_query("SELECT DISTINCT town FROM people")}
    assert hub_towns == {TOWN_A, TOWN_B}
    assert {r["town"] for r in a.query("SELECT DISTINCT town FROM people")} == {TOWN_A}
    assert {r["town"] for r in b.query("SELECT DISTINCT town FROM sessions")} == {TOWN_B}
    b_ids = {r["id"] for r in cluster.hub_query("SELECT id FROM people WHERE town = ?", [TOWN_B])}
    pulled = everything_pulled(a)
    assert pulled and not b_ids & {c["id"] for c in pulled}
    # Badge keys name the town they are certified for (decision 0065); no person travels with them.
    assert all(c["fields"].get("town") in (None, TOWN_A) for c in pulled
               if c["op"] == "upsert" and c["entity"] != "badge_keys")
    assert {c["entity"] for c in pulled} >= {"people", "sessions", "badge_keys"}


def test_a_protocol_2_pull_sends_a_records_shared_stamp_once_and_protocol_1_every_fields(cluster):
    a = cluster.add_node(TOWN_A)
    a.sync()
    person = a.query("SELECT id FROM people ORDER BY id LIMIT 1")[0]["id"]
    assert hub_staff(cluster).patch(f"/api/v1/people/{person}", json={"specialty": "门球"}).ok
    old = next(c for c in everything_pulled(a, 1) if c["id"] == person)
    new = next(c for c in everything_pulled(a, 2) if c["id"] == person)
    assert len(old["hlcs"]) == len(old["fields"]) > 5 and "hlc" not in old
    assert new["hlcs"] == {k: v for k, v in old["hlcs"].items() if v != new["hlc"]}
    assert "specialty" in new["hlcs"] and len(new["hlcs"]) <= 2          # most fields share one stamp
    assert hublog.field_hlcs(new) == old["hlcs"] and new["fields"] == old["fields"]
    a.sync()                                               # the laptop's own pull speaks protocol 2
    mine = a.query("SELECT specialty, field_hlcs FROM people WHERE id = ?", [person])[0]
    stamps = json.loads(mine["field_hlcs"])                # and its own fields (the sealed ID number)
    assert mine["specialty"] == "门球" and {k: stamps[k] for k in old["hlcs"]} == old["hlcs"]


def test_pull_merges_with_unpushed_local_edits_and_writes_no_outbox_rows(cluster):
    from fieldsync.records import people

    a = cluster.add_node(TOWN_A)
    a.sync()
    person = a.query("SELECT id FROM people ORDER BY id LIMIT 1")[0]["id"]
    assert hub_staff(cluster).patch(f"/api/v1/people/{person}", json={"specialty": "门球"}).ok
    people.modify(a.store, person, {"phone": "13912345678"}, actor="test")   # not pushed yet
    outbox_before = a.query("SELECT MAX(seq) AS top FROM changes")[0]["top"]
    from fieldsync.sync.upstream.client import HubClient
    from fieldsync.sync.upstream.pull import pull

    creds = enrollment.credentials(a.instance)
    result = pull(a.store, HubClient(creds.hub_url, creds.token))
    assert result.pulled >= 1
    row = a.query("SELECT phone, specialty FROM people WHERE id = ?", [person])[0]
    assert row == {"phone": "13912345678", "specialty": "门球"}
    assert a.query("SELECT MAX(seq) AS top FROM changes")[0]["top"] == outbox_before
    a.sync()
    hub_row = cluster.hub_query("SELECT phone, specialty FROM people WHERE id = ?", [person])[0]
    assert hub_row == row


def test_moving_a_person_to_another_town_evicts_them_from_the_old_towns_laptops(cluster):
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_B)
    a.sync(), b.sync()
    person = a.query("SELECT id FROM people ORDER BY id LIMIT 1")[0]["id"]
    assert a.query("SELECT COUNT(*) AS n FROM history WHERE record_id = ?", [person])[0]["n"] > 0
    assert hub_staff(cluster).patch(f"/api/v1/people/{person}", json={"town": TOWN_B, "village": None}).ok
    a.sync(), b.sync()
    assert a.query("SELECT id FROM people WHERE id = ?", [person]) == []
    assert a.query("SELECT COUNT(*) AS n FROM history WHERE record_id = ?", [person])[0]["n"] == 0
    assert b.query("SELECT town FROM people WHERE id = ?", [person]) == [{"town": TOWN_B}]


def delete_at_hub(cluster, entity: str, record_id: str) -> None:
    with cluster.hub_store() as store:
        store.write(lambda db: merge.delete(db, entities.get(entity), record_id, hlc=None, actor="test"))


def test_a_deletion_reaches_the_node_as_a_tombstone_and_an_upsert_to_it_is_a_conflict(cluster):
    from fieldsync.records import people

    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_A, name="late")
    a.sync(), b.sync()
    person = a.query("SELECT id FROM people ORDER BY id LIMIT 1 OFFSET 2")[0]["id"]
    other = a.query("SELECT id FROM people ORDER BY id LIMIT 1 OFFSET 3")[0]["id"]
    delete_at_hub(cluster, "people", person)
    people.modify(a.store, other, {"specialty": "八段锦"}, actor="test")
    a.sync()
    assert a.query("SELECT id FROM people WHERE id = ?", [person]) == []
    # A second laptop that still has the person edits them: the hub keeps the id deleted, for review.
    people.modify(b.store, person, {"specialty": "门球"}, actor="test")
    b.sync()
    assert b.query("SELECT id FROM people WHERE id = ?", [person]) == []
    conflict = cluster.hub_query("SELECT field, record_id FROM conflicts")
    assert conflict == [{"field": "_deleted", "record_id": person}]
    assert cluster.hub_query("SELECT id FROM people WHERE id = ?", [person]) == []


def test_an_expired_cursor_gets_410_and_a_snapshot_that_drops_what_the_hub_no_longer_has(cluster):
    a = cluster.add_node(TOWN_A)
    a.sync()
    gone = a.query("SELECT id FROM people ORDER BY id LIMIT 1")[0]["id"]
    delete_at_hub(cluster, "people", gone)
    with cluster.hub_store() as store:
        assert store.write(lambda db: hublog.prune(db, days=-1)) == 1      # the tombstone expires unseen
    result = a.sync()["result"]
    assert result.pull.snapshot and result.pull.dropped == 1
    assert a.query("SELECT id FROM people WHERE id = ?", [gone]) == []
    assert a.query("SELECT COUNT(*) AS n FROM people")[0]["n"] == \
        cluster.hub_query("SELECT COUNT(*) AS n FROM people WHERE town = ?", [TOWN_A])[0]["n"]


def test_a_hub_restored_from_backup_gets_everything_again_and_nodes_resync(cluster, tmp_path):
    from tests.sync.test_push import scan_everyone

    a = cluster.add_node(TOWN_A)
    a.sync()
    cluster.hub.stop()
    backup = tmp_path / "backup"
    copy_instance(cluster.hub.instance, backup)
    cluster.hub.start()
    scan_everyone(a, limit=20)
    a.sync()                                      # acknowledged, then lost with the restore
    cluster.hub.stop()
    shutil.rmtree(cluster.hub.instance)
    copy_instance(backup, cluster.hub.instance)
    cluster.hub.start()
    epoch_before = cluster.hub_query("SELECT value FROM meta WHERE key = 'hub_epoch'")[0]["value"]
    scan_everyone(a, session_index=1, limit=5)
    result = a.sync()["result"]
    assert result.pull.snapshot                   # this laptop resyncs on its own ...
    # ... without a new epoch for everyone: one laptop's word must not void the others' cursors.
    assert cluster.hub_query("SELECT value FROM meta WHERE key = 'hub_epoch'")[0]["value"] == epoch_before
    assert {r["id"] for r in cluster.hub_query("SELECT id FROM checkins")} == \
        {r["id"] for r in a.query("SELECT id FROM checkins")}
    assert cluster.hub_query("SELECT target FROM sync_audit WHERE action = 'ahead_of_hub'") == \
        [{"target": a.node_id}]


def test_an_admin_who_restored_the_hub_voids_every_laptops_cursor(cluster):
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_B)
    a.sync(), b.sync()
    assert "New hub epoch" in run_cli(cluster.hub.instance, "nodes", "restored").stdout
    assert a.sync()["result"].pull.snapshot and b.sync()["result"].pull.snapshot
    assert cluster.hub_query("SELECT actor FROM sync_audit WHERE action = 'hub_restored'")


def test_a_pull_stops_before_a_kind_of_record_this_version_cannot_read(cluster):
    from fieldsync.sync.upstream import pull as pull_mod

    a = cluster.add_node(TOWN_A)
    a.sync()
    cursor_before = a.query("SELECT pull_cursor FROM sync_state")[0]["pull_cursor"]
    epoch = cursor_before.split(":")[0]
    known = {"seq": 9001, "entity": "badge_revocations", "id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "op": "upsert",
             "fields": {"person_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "min_generation": 2, "reason": "lost",
                        "hlc": a.store.hlc.now(), "revoked_at": "2025-05-28T09:00:00.000Z"}}
    newer = {"seq": 9002, "entity": "trophies", "id": "t1", "op": "upsert", "fields": {"name": "金牌"}}
    page = {"changes": [known, newer], "cursor": f"{epoch}:9003", "more": False, "hub_epoch": epoch}
    result = pull_mod.PullResult()
    cursor, stopped = a.store.write(lambda db: pull_mod._apply_page(db, page, None, result))
    assert (cursor, stopped) == (f"{epoch}:9001", "trophies")
    assert a.query("SELECT pull_cursor FROM sync_state")[0]["pull_cursor"] == f"{epoch}:9001"
    assert a.query("SELECT min_generation FROM badge_revocations WHERE person_id = ?", [known["id"]]) == \
        [{"min_generation": 2}]
