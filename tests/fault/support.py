"""Helpers for the fault suites: soak switches, and scanning stations that keep going through crashes."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from fieldsync.parts import open_store
from fieldsync.records import badges, people, sessions, stations
from fieldsync.store import Store, new_id

SOAK = os.environ.get("FIELDSYNC_SOAK") == "1"
# The long variant of a test: marked `soak`, run only by `make soak` (FIELDSYNC_SOAK=1).
soak_only = pytest.mark.skipif(not SOAK, reason="long fault run: FIELDSYNC_SOAK=1 make soak")
soak = [pytest.mark.soak, soak_only]


@dataclass
class Roster:
    session_id: str
    badges: list[str]
    tokens: list[str]


def make_roster(instance: Path, station_count: int, title: str = "断电测试") -> Roster:
    """A fresh session, a badge for every demo person, and station tokens (before the server starts)."""
    with open_store(instance / "fieldsync.db") as store:
        town = store.query_one("SELECT town FROM people LIMIT 1")["town"]
        session = sessions.create(store, {"kind": "training", "title": title,
                                          "starts_at": "2025-06-01T09:00:00", "town": town})
        codes = [badges.issue(store, p) for p in people.search(store, limit=500)]
        tokens = [stations.create(store, f"{title}{i}")[1] for i in range(station_count)]
    return Roster(session["id"], codes, tokens)


@dataclass(eq=False)
class ScanningStation:
    """A phone station that scans its people in, then out, and retries each scan until answered.

    A retry sends the same client-made id, as the kiosk's queue does, so a scan whose
    answer was lost to a crash must come back as a replay of the first answer.
    """

    base_url: str
    token: str
    session_id: str
    codes: list[str]
    stop: threading.Event
    acked: dict = field(default_factory=dict)   # client id -> (badge, direction)
    replays: int = 0
    retries: int = 0
    wrong: list = field(default_factory=list)   # answers that were not "ok"

    def __post_init__(self):
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        sent = 0
        while not self.stop.is_set():
            code = self.codes[sent % len(self.codes)]
            direction = "in" if (sent // len(self.codes)) % 2 == 0 else "out"
            scan = {"id": new_id(), "session": self.session_id, "code": code, "direction": direction}
            if not self._until_answered(scan):
                return
            sent += 1

    def _until_answered(self, scan: dict, give_up_after: float = 60) -> bool:
        """Send until answered, even after stop: a scan begun must end acknowledged or reported."""
        deadline = time.monotonic() + give_up_after
        while True:
            try:
                answer = self.http.post(self.base_url + "/api/v1/checkins", json=scan, timeout=10)
            except requests.RequestException as exc:
                if time.monotonic() > deadline:
                    self.wrong.append((scan, "no answer", str(exc)))
                    return False
                self.retries += 1
                time.sleep(0.05)
                continue
            body = answer.json() if answer.headers.get("Content-Type") == "application/json" else {}
            if answer.status_code not in (200, 201) or body.get("status") != "ok":
                self.wrong.append((scan, answer.status_code, body))
                return False
            self.replays += body["replay"]
            self.acked[scan["id"]] = (scan["code"], scan["direction"])
            return True


def scan_many(store: Store, count: int, *, threads: int = 8, station: str = "fault") -> int:
    """Record `count` manual check-ins quickly: threads share the group commit, each owning its own
    (session, person) pairs so every pair alternates in, out, in. Returns how many were recorded."""
    from concurrent.futures import ThreadPoolExecutor

    from fieldsync.records import checkins

    pairs = [(s["id"], p["id"]) for s in store.query("SELECT id FROM sessions WHERE status = 'active'")
             for p in store.query("SELECT id FROM people WHERE status = 'active'")]
    last = {pair: row["direction"] for pair, row in (
        ((r["session_id"], r["person_id"]), r) for r in store.query(
            "SELECT session_id, person_id, direction FROM checkins c WHERE hlc = (SELECT MAX(hlc)"
            " FROM checkins d WHERE d.session_id = c.session_id AND d.person_id = c.person_id)"))}

    def work(lane: int) -> int:
        recorded = 0
        mine = pairs[lane::threads]
        for i in range(lane, count, threads):
            session_id, person_id = pair = mine[(i // threads) % len(mine)]
            direction = "out" if last.get(pair) == "in" else "in"
            result = checkins.check_in(store, session_id=session_id, person_id=person_id,
                                       direction=direction, station=station)
            last[pair] = direction
            recorded += result.recorded
        return recorded

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(work, range(threads)))
