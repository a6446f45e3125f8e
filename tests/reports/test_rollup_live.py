"""Town laptops go without the rollup triggers; asking for rollups rebuilds them from the facts.
Synced check-ins reach the rollups after their commit: folded when the hub's writer is idle,
and before any report reads them."""

from __future__ import annotations

import re
import time

import openpyxl

from fieldsync.parts import open_store
from fieldsync.records import checkins, people, sessions
from fieldsync.reports import rollup
from fieldsync.store import new_id
from fieldsync.store.db import IDLE_SECONDS
from tests.reports import fixture
from tests.support import eventually, run_cli


def _triggers(store) -> int:
    return store.query_one("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger'"
                           " AND name LIKE 'rollup!_%' ESCAPE '!'")["n"]


def _counted(store, session_id) -> int:
    return store.query_one("SELECT COUNT(*) AS n FROM rollup_attendance WHERE session_id = ?", [session_id])["n"]


def test_a_laptop_skips_rollups_while_scanning_and_rebuilds_them_when_asked(store):
    training = next(s for s in sessions.listing(store) if s["kind"] == "training")
    roster = people.search(store, limit=6)
    rollup.keep_live(store, False)
    assert _triggers(store) == 0
    for person in roster[:5]:
        checkins.check_in(store, session_id=training["id"], person_id=person["id"])
    assert _counted(store, training["id"]) == 0  # nobody kept them: no per-scan cost

    rollup.keep_live(store, True)
    assert _triggers(store) > 0 and _counted(store, training["id"]) == 5
    checkins.check_in(store, session_id=training["id"], person_id=roster[5]["id"])
    assert _counted(store, training["id"]) == 6  # live again: counted as it happens
    rollup.keep_live(store, True)  # already live: nothing rebuilt, nothing lost
    assert _counted(store, training["id"]) == 6


def _synced_block(store, session_id: str, person_id: str, scans: list[tuple[str, str]]) -> None:
    """Insert check-ins as the hub's merge does: a block whose rollup work is deferred."""
    def work(db):
        with rollup.deferred(db):
            db["checkins"].insert_all([
                {"id": new_id(), "session_id": session_id, "person_id": person_id, "direction": direction,
                 "scanned_at": at, "hlc": store.hlc.now(), "node": "town", "method": "qr"}
                for direction, at in scans])
    store.write(work)


def _waiting(store) -> int:
    return store.query_one("SELECT COUNT(*) AS n FROM rollup_pending")["n"]


def test_a_synced_block_waits_until_the_rollups_are_read(city, ids):
    before = _counted(city, ids["s3"])
    _synced_block(city, ids["s3"], ids["p9"], [("in", "2024-05-01T01:00:00.000Z"),
                                               ("out", "2024-05-01T02:00:00.000Z")])
    assert _waiting(city) == 1 and _counted(city, ids["s3"]) == before   # committed, not yet counted
    rollup.current(city)
    assert _waiting(city) == 0 and _counted(city, ids["s3"]) == before + 1
    fixture.assert_rollups_equal_a_rebuild(city)


def test_the_idle_writer_folds_synced_blocks_a_chunk_at_a_time(city, ids, monkeypatch):
    monkeypatch.setattr(rollup, "FOLD_ROWS", 2)   # one block per transaction
    people_ids = [ids[p] for p in ("p1", "p2", "p3")]
    for person_id in people_ids:
        _synced_block(city, ids["s4"], person_id, [("in", "2024-08-08T00:05:00.000Z"),
                                                   ("out", "2024-08-08T01:05:00.000Z")])
    folds = []
    city.when_idle(lambda db: folds.append(_waiting(city)) or rollup.fold(db))
    assert eventually(lambda: _waiting(city) == 0) and folds[:3] == [3, 2, 1]   # three transactions, one block each
    fixture.assert_rollups_equal_a_rebuild(city)


def test_a_report_file_counts_checkins_not_yet_folded(city_instance, ids, tmp_path):
    with open_store(city_instance / "fieldsync.db") as store:
        _synced_block(store, ids["s2"], ids["p9"], [("in", "2024-04-01T02:00:00.000Z")])
        assert _waiting(store) == 1
    target = tmp_path / "sheet.xlsx"
    run_cli(city_instance, "report", "attendance", "--session", ids["s2"], "--output", str(target))
    names = [row[1].value for row in openpyxl.load_workbook(target).active.iter_rows(min_row=4)]
    assert fixture.PEOPLE["p9"]["name"] in names


def test_a_hub_page_folds_what_waits_before_it_reads(city_instance, ids):
    from fieldsync.server import create_app

    app = create_app({"TESTING": True}, instance=city_instance)
    store = app.extensions["fieldsync.store"]
    try:
        store.when_idle(rollup.fold, False)   # here only the page may fold
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        assert client.post("/login", data={"username": "staff", "password": fixture.PASSWORD,
                                           "csrf_token": token}).status_code in (302, 303)
        before = _counted(store, ids["s2"])
        _synced_block(store, ids["s2"], ids["p9"], [("in", "2024-04-01T02:00:00.000Z")])
        time.sleep(IDLE_SECONDS * 3)
        assert _waiting(store) == 1
        assert client.get("/hub/?year=2024").status_code == 200
        assert _waiting(store) == 0 and _counted(store, ids["s2"]) == before + 1
    finally:
        store.close()
