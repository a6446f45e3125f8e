"""Push: exactly once under retries, replays, gaps, a connection dropped mid-response, clones."""

from __future__ import annotations

import gzip
import time

import pytest
import requests

from fieldsync.sync import batches
from fieldsync.sync.upstream import push as push_mod
from fieldsync.sync.upstream.client import HubClient, HubError, HubUnreachable
from tests.backends import copy_instance
from tests.support import eventually
from tests.sync.conftest import TOWN_A
from tests.sync.proxy import Fault, FaultProxy


def hub_counts(cluster) -> dict:
    rows = cluster.hub_query("SELECT (SELECT COUNT(*) FROM checkins) AS checkins,"
                             " (SELECT COUNT(*) FROM people) AS people,"
                             " (SELECT COUNT(*) FROM sessions) AS sessions,"
                             " (SELECT COUNT(*) FROM quarantine) AS quarantine")
    return rows[0]


def local_counts(node) -> dict:
    return node.query("SELECT (SELECT COUNT(*) FROM checkins) AS checkins,"
                      " (SELECT COUNT(*) FROM people) AS people,"
                      " (SELECT COUNT(*) FROM sessions) AS sessions, 0 AS quarantine")[0]


def test_first_sync_carries_everything_once_and_a_second_sync_nothing(cluster):
    node = cluster.add_node(TOWN_A)
    first = node.sync()
    assert first["pushed"] > 0 and first["rejected"] == []
    assert hub_counts(cluster) == local_counts(node)
    again = node.sync()
    assert again["pushed"] == 0
    assert hub_counts(cluster) == local_counts(node)
    assert "pushed" in first["summary"] and "batch" in first["summary"]


def scan_everyone(node, session_index: int = 0, limit: int = 30) -> int:
    """Check in people at today's training on this laptop; returns how many scans were recorded."""
    from fieldsync.records import checkins

    store = node.store
    session = store.query("SELECT id FROM sessions ORDER BY starts_at DESC")[session_index]
    people = store.query("SELECT id FROM people ORDER BY id LIMIT ?", [limit])
    for person in people:
        checkins.check_in(store, session_id=session["id"], person_id=person["id"], station=node.name)
    return len(people)


def client_of(node) -> HubClient:
    from fieldsync.sync import enrollment

    creds = enrollment.credentials(node.instance)
    return HubClient(creds.hub_url, creds.token)


def first_batch(node, max_changes: int = 50) -> bytes:
    stream = push_mod.load_stream(node.store.db)
    batch = batches.read_batch(node.store.db, stream.acked, max_changes=max_changes, max_bytes=4 << 20,
                               replica=stream.replica)
    return push_mod.encode(batch, stream)


def test_a_replayed_batch_gets_the_same_acknowledgement_and_writes_nothing(cluster):
    node = cluster.add_node(TOWN_A)
    client, body = client_of(node), first_batch(node)
    first = client.push(body)
    before = hub_counts(cluster)
    second = client.push(body)
    assert second["replay"] and not first["replay"]
    assert {k: second[k] for k in ("acked_to", "accepted", "duplicates", "batch_id")} == \
        {k: first[k] for k in ("acked_to", "accepted", "duplicates", "batch_id")}
    assert hub_counts(cluster) == before
    # The node never got the answer: its next sync sends the batch again, harmlessly.
    node.sync()
    assert hub_counts(cluster) == local_counts(node)


def test_a_gap_answers_409_with_expected_from_and_the_node_rewinds(cluster):
    node = cluster.add_node(TOWN_A)
    client = client_of(node)
    client.push(first_batch(node, max_changes=20))           # the hub has 1-20, the node does not know
    node.store.write(lambda db: db.execute("UPDATE sync_state SET last_acked_seq = 40 WHERE peer = 'hub'"))
    with pytest.raises(HubError) as refused:
        client.push(first_batch(node))                        # starts at 41
    assert refused.value.status == 409 and refused.value.code == "gap"
    assert refused.value.extra["expected_from"] == 21
    node.sync()                                                # rewinds to 21 and carries on
    assert hub_counts(cluster) == local_counts(node)
    assert cluster.hub_query("SELECT high_water FROM streams")[0]["high_water"] == \
        node.store.query_one("SELECT MAX(seq) AS top FROM changes")["top"]


@pytest.mark.parametrize("fault", [Fault.reset_response(after=12), Fault.truncate_response(after=80),
                                   Fault.drop_request(), Fault.reset_request(after=300)],
                         ids=["reset-mid-response", "truncated-response", "dropped-request", "half-sent-request"])
def test_exactly_once_when_the_connection_fails(cluster, fault):
    answer_lost = fault.kind.endswith("_response")     # the hub committed, the node never heard
    with FaultProxy(cluster.hub.port) as proxy:
        node = cluster.add_node(TOWN_A, via=proxy)
        proxy.plan(fault, fault)                              # the batch, and the one resend it gets
        with pytest.raises(HubUnreachable):
            node.sync()
        assert proxy.faults_applied == 2
        assert (hub_counts(cluster)["people"] > 0) == answer_lost
        assert node.sync()["result"].push.replays == int(answer_lost)
        scan_everyone(node)
        proxy.plan(None, fault)                               # this time the pull fails
        with pytest.raises(HubUnreachable):
            node.sync()
        node.sync()
    assert hub_counts(cluster) == local_counts(node)
    accepted = cluster.hub_query("SELECT SUM(CAST(json_extract(ack, '$.accepted') AS INTEGER)) AS n FROM batches")[0]["n"]
    assert accepted == node.store.query_one("SELECT MAX(seq) AS n FROM changes")["n"]


def test_a_cloned_laptop_gets_409_divergent_takes_a_new_replica_and_loses_nothing(cluster, tmp_path):
    original = cluster.add_node(TOWN_A, name="original")
    original.sync()
    original.close_store()
    clone_dir = tmp_path / "clone"
    copy_instance(original.instance, clone_dir)
    from tests.sync.conftest import Node

    clone = Node(cluster, clone_dir, "clone", TOWN_A, original.node_id)
    scan_everyone(original, limit=10)
    scan_everyone(clone, session_index=1, limit=12)           # same seqs, other scans
    original.sync()
    report = clone.sync()
    assert "new replica" in report["summary"]
    assert len(cluster.hub_query("SELECT * FROM streams")) == 2
    assert clone.store.node_id != original.query("SELECT value FROM meta WHERE key = 'node_id'")[0]["value"]
    expected = {r["id"] for r in original.query("SELECT id FROM checkins")} | \
        {r["id"] for r in clone.query("SELECT id FROM checkins")}
    assert {r["id"] for r in cluster.hub_query("SELECT id FROM checkins")} == expected
    clone.close_store()


def test_413_halves_the_batch_until_it_fits(cluster):
    from fieldsync import config

    cluster.hub.stop()
    config.save(cluster.hub.instance, sync_max_body=20000)   # the rest kept: its database among them
    cluster.hub.start()
    node = cluster.add_node(TOWN_A)
    node.sync()
    assert hub_counts(cluster) == local_counts(node)
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM batches")[0]["n"] > 3


def test_a_poisoned_change_goes_to_quarantine_and_never_blocks_the_batch(cluster):
    node = cluster.add_node(TOWN_A)
    person = node.store.query_one("SELECT id FROM people LIMIT 1")
    poison = {"fields": {"phone": "not a phone", "name": "<script>x</script>"},
              "hlcs": {"phone": node.store.hlc.now(), "name": node.store.hlc.now()}, "base": {}}
    from fieldsync.store.outbox import record_change

    node.store.write(lambda db: record_change(db, "people", person["id"], "upsert", node.store.hlc.now(), poison))
    node.store.write(lambda db: record_change(db, "mystery", "x1", "upsert", node.store.hlc.now(), {"a": 1}))
    scan_everyone(node, limit=5)
    result = node.sync()
    assert len(result["rejected"]) == 2
    unknown, invalid = sorted(r["reason"] for r in result["rejected"])   # sorted: "This ..." before "invalid:"
    assert invalid.startswith("invalid:") and "“mystery”" in unknown
    quarantined = cluster.hub_query("SELECT entity, reason, change FROM quarantine ORDER BY id")
    assert [q["entity"] for q in quarantined] == ["people", "mystery"]
    assert "phone" in quarantined[0]["reason"]
    hub = hub_counts(cluster)
    assert hub["checkins"] == local_counts(node)["checkins"]
    assert node.sync()["pushed"] == 0                         # acknowledged: not sent again


def test_stamps_more_than_5_minutes_ahead_are_restamped_and_the_node_flagged(cluster):
    node = cluster.add_node(TOWN_A)
    node.store.hlc.synced(24 * 3600 * 1000)                  # a laptop stamping a day ahead
    scan_everyone(node, limit=3)
    node.sync()
    flagged = cluster.hub_query("SELECT restamped FROM nodes")[0]["restamped"]
    assert flagged == 3
    newest = cluster.hub_query("SELECT MAX(hlc) AS h FROM checkins")[0]["h"]

    assert int(newest[:16]) < (time.time() + 300) * 1000


def test_sync_api_refuses_bad_requests_with_specific_4xx(cluster):
    url = cluster.hub.url + "/api/v1/sync"
    proto = {"Fieldsync-Protocol": "1"}
    node = cluster.add_node(TOWN_A)
    auth = {**proto, "Authorization": "Bearer " + client_of(node).token}
    gz = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    cases = [
        (requests.post(url + "/push", headers=proto, json={}), 401, "node_token_required"),
        (requests.post(url + "/push", headers={**proto, "Authorization": "Bearer nope"}, json={}), 401, "bad_token"),
        (requests.post(url + "/push", headers={"Authorization": auth["Authorization"]}, json={}), 426,
         "protocol_unsupported"),
        (requests.post(url + "/push", headers={**auth, "Fieldsync-Protocol": "99"}, json={}), 426,
         "protocol_unsupported"),
        (requests.post(url + "/push", headers=auth, data=b"x"), 415, "not_json"),
        (requests.post(url + "/push", headers={**auth, **gz}, data=b"not gzip"), 400, "bad_gzip"),
        (requests.post(url + "/push", headers={**auth, **gz}, data=gzip.compress(b"{" * 10)), 400, "bad_json"),
        (requests.post(url + "/push", headers=auth, json={"protocol": 1}), 422, "validation_failed"),
        (requests.post(url + "/push", headers=auth, json={
            "protocol": 1, "replica": "00" * 8, "batch_id": "01" + "A" * 24, "from_seq": 1, "to_seq": 3,
            "changes": [{"seq": 1}]}), 400, "batch_not_contiguous"),
        (requests.post(url + "/push", headers=auth, json={
            "protocol": 1, "replica": "00" * 8, "batch_id": "01" + "A" * 24, "from_seq": 1, "to_seq": 1,
            "blocks": {"checkins": {"n": 1, "seq": [1], "cols": {}}}}), 400, "bad_block"),
        (requests.post(url + "/push", headers=auth, json={
            "protocol": 1, "replica": "00" * 8, "batch_id": "01" + "A" * 24, "from_seq": 1, "to_seq": 90000}),
         413, "batch_too_large"),
        (requests.post(url + "/push", headers={**auth, **gz},
                       data=gzip.compress(b" " * (65 * 1024 * 1024))), 413, "body_too_large"),
        (requests.get(url + "/pull", headers=auth, params={"cursor": "zzz"}), 410, "cursor_invalid"),
        (requests.get(url + "/pull", headers=auth, params={"limit": "0"}), 422, "validation_failed"),
        (requests.post(url + "/enroll", headers=proto, json={"code": "AAAA-BBBB-CCCC-DDDD", "protocol": 1,
                                                             "origin": "x", "badge_public_key": "A" * 44,
                                                             "bundle_public_key": "A" * 44}), 403,
         "bad_enrollment_code"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
        assert response.headers["Fieldsync-Server-Time"].isdigit()
    spec = requests.get(cluster.hub.url + "/api/v1/openapi.json").json()
    for path in ("/api/v1/sync/push", "/api/v1/sync/pull", "/api/v1/sync/enroll"):
        assert path in spec["paths"]
    assert "409" in spec["paths"]["/api/v1/sync/push"]["post"]["responses"]


def test_pushed_checkins_fold_into_the_hub_rollups_exactly_as_a_rebuild_would(cluster, tmp_path):
    """The merge notes each block of check-ins; the hub's writer folds them into the report
    rollups, many blocks in one statement, as soon as it is idle (decision 0016)."""
    from fieldsync.parts import open_store
    from fieldsync.reports import rollup

    node = cluster.add_node(TOWN_A)
    node.sync()
    scan_everyone(node, 0), scan_everyone(node, 1, limit=12)
    assert node.sync()["rejected"] == []
    tables = ("rollup_attendance", "rollup_daily", "rollup_person_year")

    def snapshot(instance):
        with open_store(instance / "fieldsync.db") as store:
            return {t: sorted(store.db.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}

    def waiting() -> int:
        return cluster.hub_query("SELECT COUNT(*) AS n FROM rollup_pending")[0]["n"]

    assert eventually(lambda: waiting() == 0, 10)   # no page asks for them: the idle writer folds on its own
    served = snapshot(cluster.hub.instance)
    cluster.hub.stop()
    copy = copy_instance(cluster.hub.instance, tmp_path / "rebuilt")
    with open_store(copy / "fieldsync.db") as store:
        rollup.keep_live(store, False)
        rollup.keep_live(store, True)  # drop, then rebuild every rollup from the raw check-ins
    assert served["rollup_attendance"] and snapshot(copy) == served
