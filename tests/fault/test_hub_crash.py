"""Crash at the hub: SIGKILL it again and again while a laptop scans and pushes.

After every kill the hub's file must hold whole batches only: the check-ins it
has are exactly those of the laptop's outbox up to the stream's high-water
mark. The laptop retries whatever went unanswered, so at the end the hub holds
every record exactly once.
"""

from __future__ import annotations

import random
import statistics
import threading
import time

import pytest

from fieldsync.errors import FieldsyncError
from fieldsync.sync.upstream import node as node_sync
from fieldsync.sync.upstream.push import push
from tests.fault.support import scan_many, soak
from tests.sync.conftest import TOWN_A


def hub_state(cluster, node) -> tuple[int, set[str]]:
    """(high-water of the laptop's stream, ids of the check-ins the hub holds), read from its database."""
    with cluster.hub_store() as store:
        high_water = store.db.execute("SELECT COALESCE(MAX(high_water), 0) FROM streams WHERE node_id = ?",
                                      [node.node_id]).fetchone()[0]
        return high_water, {row[0] for row in store.db.execute("SELECT id FROM checkins")}


def outbox_checkins(node, up_to: int) -> set[str]:
    return {r["record_id"] for r in node.store.query(
        "SELECT record_id FROM changes WHERE entity = 'checkins' AND seq <= ?", [up_to])}


class Pusher:
    """The laptop's sync loop: push small batches, and after any failure try again.
    `in_flight` is set while a batch is on its way, so a kill can be aimed at the merge;
    `round_trips` holds how long the answered pushes took, so the aim follows the hub's
    speed instead of a fixed guess (a faster merge must not make the kills miss)."""

    def __init__(self, node, batch: int):
        self.node, self.batch = node, batch
        self.client = node_sync.client_for(node.instance)
        self.failures, self.cut_mid_request = 0, 0
        self.round_trips: list[float] = []
        self.stop, self.in_flight = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        send = self.client.push

        def watched_push(body: bytes) -> dict:
            self.in_flight.set()
            started = time.monotonic()
            try:
                answer = send(body)
            except FieldsyncError as exc:   # counted per request: the push resends a cut batch once
                self.cut_mid_request += "refused" not in str(exc.extra.get("detail", ""))
                raise
            finally:
                self.in_flight.clear()
            self.round_trips.append(time.monotonic() - started)
            return answer

        self.client.push = watched_push

    def a_moment_inside_a_push(self) -> float:
        """A random delay that, counted from the start of a push, falls before its answer."""
        recent = self.round_trips[-20:]
        return random.uniform(0, 0.8 * statistics.median(recent)) if recent else 0.0

    def run(self) -> None:
        while not self.stop.is_set():
            self.once()
            time.sleep(0.01)

    def once(self) -> bool:
        try:
            push(self.node.store, self.client, max_changes=self.batch)
            return True
        except FieldsyncError:
            self.failures += 1
            time.sleep(0.05)
            return False


@pytest.mark.parametrize("kills,batch", [
    pytest.param(20, 200, id="20-kills"),
    pytest.param(100, 200, id="100-kills", marks=soak),
])
def test_a_hub_killed_mid_merge_keeps_whole_batches_and_the_retries_finish(cluster, kills, batch):
    node = cluster.add_node(TOWN_A)
    scan_many(node.store, 500)
    pusher, checked = Pusher(node, batch), 0
    pusher.thread.start()
    try:
        for _ in range(kills):
            scan_many(node.store, 200)
            pusher.in_flight.wait(timeout=10)
            time.sleep(pusher.a_moment_inside_a_push())   # somewhere in the hub's handling of it
            cluster.hub.kill()
            high_water, at_hub = hub_state(cluster, node)
            assert at_hub == outbox_checkins(node, high_water), "a batch was applied in part"
            checked += 1
            cluster.hub.start()
    finally:
        pusher.stop.set()
        pusher.thread.join(timeout=120)
    deadline = time.monotonic() + 120
    while not pusher.once():
        assert time.monotonic() < deadline, "the laptop could not finish pushing"
    top = node.store.query_one("SELECT MAX(seq) AS top FROM changes")["top"]
    high_water, at_hub = hub_state(cluster, node)
    local = {r["id"] for r in node.store.query("SELECT id FROM checkins")}
    assert (high_water, at_hub) == (top, local), "every check-in at the hub, once"
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM quarantine")[0]["n"] == 0
    for table in ("people", "sessions"):
        assert cluster.hub_query(f"SELECT COUNT(*) AS n FROM {table}") == node.query(
            f"SELECT COUNT(*) AS n FROM {table}")
    assert pusher.cut_mid_request >= kills // 2, "too few kills landed while a push was in flight"
    print(f"\nhub crash: {checked} SIGKILLs each left whole batches only; {len(local)} check-ins"
          f" ({top} changes) at the hub exactly once; {pusher.cut_mid_request} pushes cut mid-request,"
          f" {pusher.failures} failed attempts retried")
