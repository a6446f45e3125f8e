"""Sync over the links towns have (sync/link.py, decisions 0260-0261): a link that cuts
connections every few kilobytes, batches sized to it, a sync that keeps going by itself, and
auto-sync that pushes a scan soon after it happens. Real hub and node processes; no time asserted."""

from __future__ import annotations

import gzip
import json
import threading

from fieldsync.sync import enrollment
from fieldsync.sync.link import SMALLEST_BUDGET, KeepGoing, Pacing
from fieldsync.sync.upstream import node as node_sync
from tests.fault.support import scan_many
from tests.support import LiveServer, WebClient, eventually, run_cli
from tests.sync.conftest import TOWN_A
from tests.sync.proxy import ShapedLink
from tests.sync.test_push import client_of, hub_counts, local_counts

# Fast enough for a test, but every connection is reset after 6-15 KB.
CUTTING = {"up": 2_000_000, "down": 2_000_000, "latency": (0.0, 0.005), "cut": (6_000, 15_000)}


def _point_at(node, url: str) -> None:
    creds = node.instance / "hub_credentials.json"
    creds.write_text(json.dumps({**json.loads(creds.read_text()), "hub_url": url}))


def test_a_sync_through_a_link_that_keeps_cutting_lands_every_record_once(cluster):
    node = cluster.add_node(TOWN_A)
    scan_many(node.store, 600)
    with ShapedLink(cluster.hub.port, **CUTTING) as link:
        _point_at(node, link.url)
        client, sends, lock = client_of(node), [], threading.Lock()
        push = client.push

        def noted(body: bytes) -> dict:   # which batch went, and how big it was
            batch = json.loads(gzip.decompress(body))
            with lock:
                sends.append((batch["batch_id"], batch["to_seq"] - batch["from_seq"] + 1))
            return push(body)

        client.push = noted
        summary = node_sync.sync(node.store, node.instance, client=client, keep_going=KeepGoing())
        assert link.cuts >= 3, "the link should have cut the sync several times"
    assert hub_counts(cluster) == local_counts(node)
    top = node.store.query_one("SELECT MAX(seq) AS n FROM changes")["n"]
    assert cluster.hub_query("SELECT high_water FROM streams")[0]["high_water"] == top
    assert node_sync.status(node.store, node.instance)["waiting"] == 0
    times_sent = {}
    for batch_id, _changes in sends:
        times_sent[batch_id] = times_sent.get(batch_id, 0) + 1
    assert max(times_sent.values()) <= 2, "a cut batch goes again once at most"
    assert summary.pacing.cuts >= 1 and 1 <= summary.pacing.resent == sum(n - 1 for n in times_sent.values())
    assert "the link was cut" in summary.text()


def test_batches_shrink_after_a_cut_and_grow_back_after_answers():
    pacing = Pacing()
    assert pacing.changes(5_000, first=True) < 5_000                    # a push opens small
    assert pacing.read(200, 20_000) is None                             # 100 bytes a change
    pacing.acknowledged(20_000, seconds=0.2)
    assert pacing.changes(5_000) == 400                                 # slow start: doubles
    pacing.was_cut(40_000)
    after_cut = pacing.changes(5_000)
    assert after_cut < 400 and pacing.cuts == 1
    for _ in range(10):
        pacing.acknowledged(after_cut * 100, seconds=0.2)
    assert pacing.changes(5_000) > after_cut                            # grows back by steps
    for _ in range(20):
        pacing.was_cut(SMALLEST_BUDGET)
    assert pacing.changes(5_000) == SMALLEST_BUDGET // 100              # never below the smallest
    assert pacing.read(400, 5 * SMALLEST_BUDGET) < 400                  # a batch far past it: read smaller


def test_fieldsync_sync_keeps_going_through_cuts_and_says_so(cluster):
    node = cluster.add_node(TOWN_A)                       # the demo town's roster and sessions wait
    waiting = node_sync.status(node.store, node.instance)["waiting"]
    node.close_store()
    with ShapedLink(cluster.hub.port, **{**CUTTING, "cut": (5_000, 10_000)}) as link:
        _point_at(node, link.url)
        synced = run_cli(node.instance, "sync")
    assert synced.stdout.startswith(f"Pushed {waiting:,} records"), synced.stdout
    assert "trying again in" in synced.stderr, synced.stderr
    assert hub_counts(cluster) == local_counts(node)


def test_auto_sync_pushes_a_scan_soon_without_anyone_pressing_a_button(cluster):
    node = cluster.add_node(TOWN_A)
    session = node.query("SELECT id FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]["id"]
    person = node.query("SELECT id FROM people WHERE id NOT IN (SELECT person_id FROM checkins"
                        " WHERE session_id = ? AND person_id IS NOT NULL) LIMIT 1", [session])[0]["id"]
    assert enrollment.credentials(node.instance) is not None
    node.close_store()
    # The timer alone would wait an hour; a change is pushed within seconds.
    server = LiveServer(node.instance, env={"FIELDSYNC_AUTO_SYNC_SECONDS": "3600",
                                            "FIELDSYNC_PUSH_SOON_SECONDS": "1"}).start()
    try:
        trainer = WebClient(server.url)
        assert trainer.login("trainer").ok
        scanned = trainer.post("/api/v1/checkins", json={"session": session, "person": person})
        assert scanned.status_code == 201, scanned.text
        at_hub = "SELECT COUNT(*) AS n FROM checkins WHERE session_id = ? AND person_id = ?"
        assert eventually(lambda: cluster.hub_query(at_hub, [session, person])[0]["n"] == 1, seconds=60)
    finally:
        server.stop()
