"""A stolen town laptop against the hub (issue 12): with its own token it may change only its own
town's records. Each push here is built by hand (tests/sync/forger.py) and sent to a real hub
process with the laptop's real credentials; town B's laptop then pulls from the same hub."""

from __future__ import annotations

import gzip
import json

from fieldsync.records import badges, checkins, people
from fieldsync.store import new_id
from fieldsync.store.outbox import record_change
from fieldsync.sync import bundles, enrollment
from fieldsync.sync.downstream import policy
from tests.security.test_hub import as_node
from tests.support import WebClient
from tests.sync.conftest import TOWN_A, TOWN_B
from tests.sync.forger import Forger


def token_of(node) -> str:
    return enrollment.credentials(node.instance).token


def two_towns(cluster):
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_B)
    b.sync()
    a.sync()
    return a, b


def one_of_b(cluster, table: str) -> str:
    where = {"people": "town = ?", "sessions": "town = ?",
             "checkins": "session_id IN (SELECT id FROM sessions WHERE town = ?)"}[table]
    return cluster.hub_query(f"SELECT id FROM {table} WHERE {where} ORDER BY id LIMIT 1", [TOWN_B])[0]["id"]


def refusals(cluster, node) -> list[tuple]:
    """(entity, record id, code) of what the hub refused from this laptop, by entity then id: the
    merge applies a batch's sessions before its other changes."""
    return [(r["entity"], r["record_id"], r["code"]) for r in cluster.hub_query(
        "SELECT entity, record_id, code FROM quarantine WHERE node_id = ? ORDER BY entity, record_id",
        [node.node_id])]


def audited(cluster, node, code: str) -> bool:
    return bool(cluster.hub_query("SELECT 1 FROM sync_audit WHERE action = ? AND target = ?",
                                  [f"refused_{code}", node.node_id]))


def test_a_laptop_cannot_delete_another_towns_person_session_or_another_laptops_checkin(cluster):
    a, b = two_towns(cluster)
    a2 = cluster.add_node(TOWN_A)          # a second laptop of town A
    a2.sync()
    session_a = a2.query("SELECT id FROM sessions ORDER BY id LIMIT 1")[0]["id"]
    checkins.check_in(a2.store, session_id=session_a, person_id=a2.query("SELECT id FROM people LIMIT 1")[0]["id"])
    a2.sync()
    targets = [("people", one_of_b(cluster, "people")), ("sessions", one_of_b(cluster, "sessions")),
               ("checkins", one_of_b(cluster, "checkins")),
               ("checkins", a2.query("SELECT id FROM checkins LIMIT 1")[0]["id"])]
    forger = Forger(a.store.node_id)
    for entity, record_id in targets:
        forger.delete(entity, record_id)
    ack = forger.push(cluster.hub.url, token_of(a))
    assert ack["acked_to"] == ack["rejected"][-1]["seq"] == 4 and len(ack["rejected"]) == 4
    for entity, record_id in targets:
        assert cluster.hub_query(f"SELECT 1 FROM {entity} WHERE id = ?", [record_id]), (entity, "deleted")
    assert cluster.hub_query("SELECT * FROM tombstones") == []
    assert refusals(cluster, a) == sorted((e, r, policy.NOT_YOUR_RECORD) for e, r in targets)
    assert audited(cluster, a, policy.NOT_YOUR_RECORD)
    b.sync()
    assert b.query("SELECT 1 FROM people WHERE id = ?", [targets[0][1]])
    assert b.query("SELECT 1 FROM sessions WHERE id = ?", [targets[1][1]])


def test_a_laptop_cannot_revoke_the_badges_of_another_towns_person(cluster):
    a, b = two_towns(cluster)
    person = one_of_b(cluster, "people")
    ack = Forger(a.store.node_id).revoke(person).push(cluster.hub.url, token_of(a))
    assert len(ack["rejected"]) == 1
    assert cluster.hub_query("SELECT * FROM badge_revocations WHERE person_id = ?", [person]) == []
    assert refusals(cluster, a) == [("badge_revocations", person, policy.NOT_YOUR_RECORD)]
    b.sync()
    assert b.query("SELECT * FROM badge_revocations WHERE person_id = ?", [person]) == []


def test_a_laptop_cannot_create_a_person_or_a_session_in_another_town(cluster):
    a, b = two_towns(cluster)
    person, session = new_id(), new_id()
    forger = Forger(a.store.node_id)
    forger.upsert("people", person, {"name": "假人", "town": TOWN_B, "level": "national", "status": "active",
                                     "badge_generation": 1}, action="register")
    forger.upsert("sessions", session, {"title": "假培训", "kind": "training", "mode": "offline",
                                        "town": TOWN_B, "status": "active"}, action="create")
    ack = forger.push(cluster.hub.url, token_of(a))
    assert len(ack["rejected"]) == 2
    assert cluster.hub_query("SELECT id FROM people WHERE id IN (?, ?) UNION SELECT id FROM sessions"
                             " WHERE id IN (?, ?)", [person, session, person, session]) == []
    assert refusals(cluster, a) == [("people", person, policy.NOT_YOUR_TOWN),
                                    ("sessions", session, policy.NOT_YOUR_TOWN)]
    b.sync()
    assert b.query("SELECT id FROM people WHERE id = ?", [person]) == []


def test_moving_another_towns_person_into_your_town_waits_for_an_admin(cluster):
    a, b = two_towns(cluster)
    person = one_of_b(cluster, "people")
    phone = cluster.hub_query("SELECT phone FROM people WHERE id = ?", [person])[0]["phone"]
    Forger(a.store.node_id).upsert("people", person, {"town": TOWN_A}).push(cluster.hub.url, token_of(a))
    assert refusals(cluster, a) == [("people", person, policy.MOVE_REQUEST)]
    a.sync()
    b.sync()
    assert a.query("SELECT id FROM people WHERE id = ?", [person]) == [], "B's person reached A's laptop"
    assert b.query("SELECT town FROM people WHERE id = ?", [person]) == [{"town": TOWN_B}]
    # On the quarantine page an admin grants the move: then, and only then, it happens.
    admin = WebClient(cluster.hub.url)
    assert admin.login("admin").ok
    page = admin.get("/hub/quarantine")
    assert 'data-code="move_request"' in page.text
    waiting = cluster.hub_query("SELECT id FROM quarantine WHERE code = 'move_request'")[0]["id"]
    assert admin.form(f"/hub/quarantine/{waiting}/apply-move", {}).status_code == 200
    a.sync()
    b.sync()
    assert a.query("SELECT phone FROM people WHERE id = ?", [person]) == [{"phone": phone}]
    assert b.query("SELECT id FROM people WHERE id = ?", [person]) == []


def test_edits_of_another_towns_records_and_checkins_at_its_sessions_are_refused(cluster):
    a, b = two_towns(cluster)
    person, session = one_of_b(cluster, "people"), one_of_b(cluster, "sessions")
    own = a.query("SELECT id FROM people ORDER BY id LIMIT 1")[0]["id"]
    forger = Forger(a.store.node_id)
    forger.upsert("people", person, {"phone": "13900000000"})
    forger.upsert("sessions", session, {"title": "改了"})
    forger.upsert("people", own, {"specialty": "太极拳"})          # its own: goes through
    forger.checkin(session, own)
    ack = forger.push(cluster.hub.url, token_of(a))
    assert ack["acked_to"] == 4 and [r["seq"] for r in ack["rejected"]] == [1, 2, 4]
    assert [code for *_, code in refusals(cluster, a)] == [policy.NOT_YOUR_SESSION,   # the check-in
                                                          policy.NOT_YOUR_RECORD, policy.NOT_YOUR_RECORD]
    assert cluster.hub_query("SELECT specialty FROM people WHERE id = ?", [own]) == [{"specialty": "太极拳"}]
    b.sync()
    assert b.query("SELECT phone FROM people WHERE id = ?", [person])[0]["phone"] != "13900000000"


def test_a_bundle_goes_through_the_same_policy(cluster, tmp_path):
    a, _ = two_towns(cluster)
    person = one_of_b(cluster, "people")
    a.store.write(lambda db: record_change(db, "people", person, "delete", a.store.hlc.now(), {}))
    target = tmp_path / "a.bundle"
    bundles.export(a.store, a.instance, target)
    with cluster.hub_store() as hub, target.open("rb") as source:
        summary = bundles.import_bundle(hub, source, actor="admin")
    assert summary["rejected"] == 1
    assert cluster.hub_query("SELECT 1 FROM people WHERE id = ?", [person])
    assert refusals(cluster, a) == [("people", person, policy.NOT_YOUR_RECORD)]


def test_refused_changes_are_not_retried_into_success(cluster):
    from fieldsync.sync.downstream import merge

    a, _ = two_towns(cluster)
    person = one_of_b(cluster, "people")
    Forger(a.store.node_id).delete("people", person).push(cluster.hub.url, token_of(a))
    with cluster.hub_store() as hub:
        hub.write(lambda db: db.execute("UPDATE quarantine SET last_tried_at = '2000-01-01T00:00:00.000Z'"))
        assert hub.write(lambda db: merge.retry_quarantine(db, hub, merge.MergeResult())) == 0
    assert cluster.hub_query("SELECT 1 FROM people WHERE id = ?", [person])


# -- what town laptops legitimately do across towns ------------------------------------------------
def test_a_walk_in_from_the_next_town_reaches_that_towns_laptop(cluster):
    a, b = two_towns(cluster)
    session = a.query("SELECT id FROM sessions ORDER BY id LIMIT 1")[0]["id"]
    guest = people.register(a.store, {"name": "邻镇来客", "town": TOWN_B}, actor="test")
    checkins.check_in(a.store, session_id=session, person_id=guest["id"], method="walk-in")
    assert not a.sync()["rejected"]
    b.sync()
    assert b.query("SELECT name FROM people WHERE id = ?", [guest["id"]]) == [{"name": "邻镇来客"}]


def test_another_towns_person_checked_in_at_your_session_is_counted(cluster):
    from fieldsync.reports import attendance, rollup

    a, b = two_towns(cluster)
    session = a.query("SELECT id FROM sessions ORDER BY id LIMIT 1")[0]["id"]
    person = one_of_b(cluster, "people")
    badge = badges.issue(b.store, b.query("SELECT * FROM people WHERE id = ?", [person])[0])
    assert checkins.check_in(a.store, session_id=session, code=badge).recorded    # B's badge, at A's session
    assert not a.sync()["rejected"]
    name = cluster.hub_query("SELECT name FROM people WHERE id = ?", [person])[0]["name"]
    with cluster.hub_store() as hub:
        rollup.current(hub)
        rows = list(attendance.table(hub.db, session).rows)
    assert any(name in row for row in rows)


# -- other laptops' cursors -------------------------------------------------------------------------
def test_one_laptops_cursor_or_ack_cannot_make_the_hub_void_everyones(cluster):
    a, b = two_towns(cluster)
    epoch = cluster.hub_query("SELECT value FROM meta WHERE key = 'hub_epoch'")[0]["value"]
    http = as_node(a)
    ahead = http.get(cluster.hub.url + "/api/v1/sync/pull", params={"cursor": f"{epoch}:999999"}, timeout=10)
    assert ahead.status_code == 410 and ahead.json()["error"]["code"] == "cursor_ahead"
    forger = Forger(a.store.node_id)
    forger.upsert("people", a.query("SELECT id FROM people LIMIT 1")[0]["id"], {"specialty": "门球"})
    body = {**forger.body(), "hub_epoch": epoch, "acked_to": 999999}
    pushed = http.post(cluster.hub.url + "/api/v1/sync/push", data=gzip.compress(json.dumps(body).encode()),
                       headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}, timeout=10)
    assert pushed.status_code == 409
    assert cluster.hub_query("SELECT value FROM meta WHERE key = 'hub_epoch'")[0]["value"] == epoch
    assert len(cluster.hub_query("SELECT * FROM sync_audit WHERE action = 'ahead_of_hub' AND target = ?",
                                 [a.node_id])) == 2
    result = b.sync()["result"]                   # B goes on from its cursor: no 410, no snapshot
    assert not result.pull.snapshot
