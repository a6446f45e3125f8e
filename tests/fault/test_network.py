"""Network: thousands of records cross a loopback proxy that drops requests, cuts them half-sent,
delays, truncates and resets answers; every record arrives at the hub exactly once, and the
hub's own changes come back down the same faulty link."""

from __future__ import annotations

import random
import time

import pytest

from fieldsync.errors import FieldsyncError
from fieldsync.sync.upstream import node as node_sync
from fieldsync.sync.upstream.pull import pull
from fieldsync.sync.upstream.push import push
from tests.fault.support import scan_many, soak
from tests.sync.conftest import TOWN_A
from tests.sync.proxy import Fault, FaultProxy

FAULTS = [Fault.drop_request(), Fault.reset_request(after=200), Fault.reset_response(after=0),
          Fault.reset_response(after=40), Fault.truncate_response(after=90), Fault.delay(0.3)]


def faulty_plan(rng: random.Random, length: int, share: float) -> list:
    return [rng.choice(FAULTS) if rng.random() < share else None for _ in range(length)]


def sync_until_done(node, batch: int, attempts: int) -> int:
    """Push in small batches, then pull, as often as it takes; returns the failed attempts."""
    client = node_sync.client_for(node.instance)
    for failed in range(attempts):
        try:
            push(node.store, client, max_changes=batch)
            pull(node.store, client)
            return failed
        except FieldsyncError:
            time.sleep(0.02)
    raise AssertionError(f"no clean sync in {attempts} attempts")


@pytest.mark.parametrize("scans,batch,share", [
    pytest.param(3000, 50, 0.5, id="3000-scans"),
    pytest.param(30000, 250, 0.4, id="30000-scans", marks=soak),
])
def test_thousands_of_records_cross_a_faulty_link_exactly_once(cluster, scans, batch, share):
    rng = random.Random(scans)
    with FaultProxy(cluster.hub.port) as proxy:
        node = cluster.add_node(TOWN_A, via=proxy)
        recorded = scan_many(node.store, scans)
        with cluster.hub_store() as hub:   # something for the pull to bring back: a hub-side session
            from fieldsync.records import sessions

            sessions.create(hub, {"kind": "theme", "title": "全市健步走", "starts_at": "2025-08-08T08:30:00",
                                  "town": TOWN_A}, actor="hub")
        proxy.plan(*faulty_plan(rng, 6 * scans // batch, share))
        failed = sync_until_done(node, batch, attempts=20 * scans // batch)
        faults = proxy.faults_applied
    at_hub = {r["id"] for r in cluster.hub_query("SELECT id FROM checkins")}
    local = {r["id"] for r in node.query("SELECT id FROM checkins")}
    assert recorded == scans and at_hub == local and len(local) >= scans
    for table in ("people", "sessions"):
        assert {r["id"] for r in cluster.hub_query(f"SELECT id FROM {table} WHERE town = ?", [TOWN_A])} == \
            {r["id"] for r in node.query(f"SELECT id FROM {table}")}, table
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM quarantine")[0]["n"] == 0
    top = node.query("SELECT MAX(seq) AS top FROM changes")[0]["top"]
    assert cluster.hub_query("SELECT MAX(high_water) AS hw FROM streams")[0]["hw"] == top
    assert faults >= 10, "the link should have failed many times"
    print(f"\nnetwork: {len(local)} check-ins and {top} changes exactly once through {faults} injected faults"
          f" ({failed} failed sync attempts retried)")
