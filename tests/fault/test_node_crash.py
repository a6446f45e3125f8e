"""Crash: SIGKILL a node again and again while stations scan; every acknowledged scan is there, once.

The stations behave like the kiosk's queue: a scan that got no answer is sent
again with the same id until it is answered. So after the last kill the
database must hold exactly the scans that were acknowledged: none lost (the
commit reached the disk before the answer left), none doubled (a resent scan
whose first try was committed is answered as a replay, not stored twice).
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict

import pytest

from fieldsync.parts import open_store
from tests.fault.support import ScanningStation, make_roster, soak
from tests.support import LiveServer


def kill_repeatedly(server: LiveServer, kills: int, stop: threading.Event, longest_gap: float) -> None:
    """SIGKILL at a random moment after each start, while the stations keep scanning."""
    for _ in range(kills):
        stop.wait(random.uniform(0.02, longest_gap))
        server.kill()
        server.start()
    stop.wait(longest_gap)


def stored_state(instance) -> dict:
    with open_store(instance / "fieldsync.db") as store:  # opening replays the WAL, as a restart does
        return {
            "checkins": store.query("SELECT id, person_id, direction, session_id FROM checkins ORDER BY hlc"),
            "outbox": store.query("SELECT record_id, COUNT(*) AS copies FROM changes"
                                  " WHERE entity = 'checkins' GROUP BY record_id"),
            "integrity": store.db.execute("PRAGMA integrity_check").fetchone()[0],
        }


@pytest.mark.parametrize("kills,station_count,longest_gap", [
    pytest.param(20, 6, 0.5, id="20-kills"),
    pytest.param(200, 20, 1.0, id="200-kills", marks=soak),
])
def test_every_acknowledged_scan_survives_repeated_sigkill(node_instance, kills, station_count, longest_gap):
    roster = make_roster(node_instance, station_count)
    server = LiveServer(node_instance).start()
    stop = threading.Event()
    crew = [ScanningStation(server.url, token, roster.session_id, roster.badges[i::station_count], stop)
            for i, token in enumerate(roster.tokens)]
    try:
        for station in crew:
            station.thread.start()
        kill_repeatedly(server, kills, stop, longest_gap)
    finally:
        stop.set()
        for station in crew:
            station.thread.join(timeout=90)
        server.kill()

    assert not [w for s in crew for w in s.wrong], "a scan was refused or never answered"
    acked = {cid: scan for s in crew for cid, scan in s.acked.items()}
    state = stored_state(node_instance)
    mine = [row for row in state["checkins"] if row["session_id"] == roster.session_id]
    stored = {row["id"] for row in mine}
    assert len(stored) == len(mine)
    assert set(acked) - stored == set(), "acknowledged scans were lost"
    assert stored - set(acked) == set(), "scans nobody was told about were stored"
    assert {r["record_id"]: r["copies"] for r in state["outbox"] if r["record_id"] in stored} == \
        dict.fromkeys(stored, 1), "each check-in must have exactly one outbox change"
    assert state["integrity"] == "ok"
    directions = defaultdict(list)
    for row in mine:
        directions[row["person_id"]].append(row["direction"])
    assert all(seq == ["in", "out"] * (len(seq) // 2) + ["in"] * (len(seq) % 2) for seq in directions.values())
    assert len(acked) > kills, "too few scans between kills to prove anything"
    print(f"\nnode crash: {kills} SIGKILLs, {len(acked)} acknowledged scans all present once,"
          f" {sum(s.replays for s in crew)} answered as replays after a lost answer,"
          f" {sum(s.retries for s in crew)} retries")
