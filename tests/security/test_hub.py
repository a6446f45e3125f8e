"""The hub against its own laptops: revoked tokens, spoofed origins, other towns' people, staff routes."""

from __future__ import annotations

import gzip
import json

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldsync import PROTOCOL_VERSION
from fieldsync.records import people
from fieldsync.server import create_app
from fieldsync.sync import enrollment
from fieldsync.sync.protocol import PROTOCOL_HEADER
from fieldsync.sync.upstream.client import HubClient, HubError
from tests.fault.support import scan_many
from tests.security.routes import routes
from tests.sync.conftest import TOWN_A, TOWN_B


def as_node(node) -> requests.Session:
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {enrollment.credentials(node.instance).token}",
                         PROTOCOL_HEADER: str(PROTOCOL_VERSION)})
    return http


def test_a_revoked_node_token_is_refused_on_every_sync_call(cluster):
    node = cluster.add_node(TOWN_A)
    node.sync()
    http = as_node(node)
    with cluster.hub_store() as hub:
        enrollment.revoke(hub, node.node_id, actor="test")
    body = gzip.compress(json.dumps({"protocol": PROTOCOL_VERSION}).encode())
    calls = [("GET", "/api/v1/sync/pull?cursor=0", None), ("POST", "/api/v1/sync/push", body)]
    for method, path, data in calls:
        answer = http.request(method, cluster.hub.url + path, data=data, timeout=10,
                              headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert answer.status_code == 401, (path, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "node_revoked" and "撤销" in error["message"]


def test_a_node_cannot_push_records_claiming_another_nodes_origin(cluster):
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_B)
    a.sync()
    b_origin = b.store.node_id
    scan_many(a.store, 10)
    person = people.register(a.store, {"name": "冒名", "town": TOWN_A})

    def tamper(db):   # a laptop rewritten to pass its records off as B's
        db.execute("UPDATE checkins SET node = ? WHERE id IN (SELECT record_id FROM changes"
                   " WHERE entity = 'checkins' AND seq > (SELECT last_acked_seq FROM sync_state))", [b_origin])
        db.execute("UPDATE changes SET payload = json_set(payload, '$.origin', ?) WHERE record_id = ?",
                   [b_origin, person["id"]])

    a.store.write(tamper)
    a.sync()
    claimed = cluster.hub_query("SELECT (SELECT COUNT(*) FROM checkins WHERE node = :o)"
                                " + (SELECT COUNT(*) FROM people WHERE origin = :o) AS n", {"o": b_origin})
    assert claimed[0]["n"] == 0, "records from A were stored as B's"
    held = cluster.hub_query("SELECT COUNT(*) AS n FROM quarantine WHERE node_id = ? AND resolved_at IS NULL",
                             [a.node_id])
    assert held[0]["n"] == 11, "the spoofed records wait in quarantine, not lost"


def test_a_laptop_cannot_enroll_under_another_laptops_origin(cluster):
    a = cluster.add_node(TOWN_A)
    _, code = cluster.enrollment_code(TOWN_B, "impostor")
    keys = {name: enrollment.public_b64(Ed25519PrivateKey.generate())
            for name in ("badge_public_key", "bundle_public_key")}
    with pytest.raises(HubError) as refused:
        HubClient(cluster.hub.url).enroll({"code": code, "origin": a.store.node_id, **keys})
    assert refused.value.status in (403, 409) and "origin" in refused.value.message


def test_a_node_token_reads_only_its_own_towns_people(cluster):
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_B)
    b.sync()
    a.sync()
    b_people = {r["id"] for r in cluster.hub_query("SELECT id FROM people WHERE town = ?", [TOWN_B])}
    assert b_people
    http = as_node(a)
    pulled, cursor = [], ""
    for _ in range(100):
        page = http.get(cluster.hub.url + "/api/v1/sync/pull", timeout=30,
                        params={"cursor": cursor, "town": TOWN_B, "limit": 1000}).json()
        pulled += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert pulled and not b_people & {c.get("id") for c in pulled}, "another town's people were pulled"
    someone = min(b_people)
    for path in ("/api/v1/people?town=" + TOWN_B, f"/api/v1/people/{someone}",
                 f"/api/v1/people/{someone}/history", "/api/v1/sessions?town=" + TOWN_B):
        answer = http.get(cluster.hub.url + path, timeout=10, allow_redirects=False)
        assert answer.status_code in (401, 403), (path, answer.status_code)
        assert someone not in answer.text


def test_a_node_token_opens_no_staff_route_of_the_hub(cluster):
    node = cluster.add_node(TOWN_A)
    app = create_app({"MODE": "hub", "AUTO_SYNC_SECONDS": 0}, instance=cluster.hub.instance)
    try:
        guarded = [r for r in routes(app) if r.role and r.role != "node"]
    finally:
        app.extensions["fieldsync.store"].close()
    http = as_node(node)
    assert len(guarded) >= 30
    for route in guarded:
        answer = http.request(route.method, cluster.hub.url + route.path, timeout=10, allow_redirects=False,
                              **({"json": {}} if route.method != "GET" else {}))
        assert answer.status_code in (302, 401, 403), (route, answer.status_code)
