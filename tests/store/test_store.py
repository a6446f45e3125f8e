"""The store: durable group commit, failures isolated, seq never reused, HLC order."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from fieldsync.parts import open_store
from fieldsync.store import HLC
from fieldsync.store.db import HUB_CACHE_KIB, IDLE_SECONDS
from fieldsync.store.hlc import MAX_AHEAD_MS, Stamp
from fieldsync.store.outbox import record_change
from tests.support import eventually, hold_the_writer, wait_until_queued


def test_pragmas_wal_and_full_sync(tmp_path):
    with open_store(tmp_path / "a.db") as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.write(lambda db: db.execute("PRAGMA synchronous").fetchone()[0]) == 2  # FULL


def test_concurrent_writes_all_commit(tmp_path):
    with open_store(tmp_path / "a.db") as store:
        def writer(n):
            for i in range(50):
                store.write(lambda db, i=i: record_change(db, "checkins", f"{n}-{i}", "upsert", store.hlc.now(), {}))
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(10)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert store.query_one("SELECT COUNT(*) AS n FROM changes")["n"] == 500
        hlcs = [r["hlc"] for r in store.query("SELECT hlc FROM changes ORDER BY seq")]
        assert hlcs == sorted(hlcs) and len(set(hlcs)) == 500  # commit order is HLC order


def test_a_failing_write_fails_alone(tmp_path):
    with open_store(tmp_path / "a.db") as store:
        barrier = threading.Barrier(3)
        results = {}

        def good(n):
            barrier.wait()
            results[n] = store.write(lambda db: db.execute("INSERT INTO meta VALUES (?, 'x')", [f"k{n}"]))

        def bad():
            barrier.wait()
            with pytest.raises(sqlite3.IntegrityError):
                store.write(lambda db: db.execute("INSERT INTO meta VALUES ('node_id', 'dup')"))
            results["bad"] = True

        threads = [threading.Thread(target=good, args=(1,)), threading.Thread(target=good, args=(2,)),
                   threading.Thread(target=bad)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert results["bad"]
        assert store.get_meta("k1") == "x" and store.get_meta("k2") == "x"


def test_outbox_seq_is_never_reused_after_deleting_the_newest(tmp_path):
    with open_store(tmp_path / "a.db") as store:
        seqs = [store.write(lambda db: record_change(db, "people", "p", "upsert", store.hlc.now(), {}))
                for _ in range(3)]
        store.write(lambda db: db.execute("DELETE FROM changes WHERE seq = ?", [seqs[-1]]))
    with open_store(tmp_path / "a.db") as store:  # reopened: migrations ran again, no-op
        nxt = store.write(lambda db: record_change(db, "people", "p", "upsert", store.hlc.now(), {}))
    assert nxt == seqs[-1] + 1


def test_reopen_keeps_identity_and_hlc_moves_forward(tmp_path):
    with open_store(tmp_path / "a.db") as store:
        node, last = store.node_id, store.hlc.now()
        store.write(lambda db: record_change(db, "people", "p", "upsert", last, {}))
    with open_store(tmp_path / "a.db") as store:
        assert store.node_id == node
        assert store.hlc.now() > last


def test_hlc_never_goes_back_when_the_wall_clock_does():
    wall = [1_000_000]
    clock = HLC("n", wall=lambda: wall[0])
    first = clock.now()
    wall[0] -= 60_000
    assert clock.now() > first


def test_hlc_ignores_stamps_too_far_ahead():
    clock = HLC("n", wall=lambda: 1_000_000)
    far = str(Stamp(1_000_000 + MAX_AHEAD_MS + 1, 0, "liar"))
    near = str(Stamp(1_000_000 + 1000, 3, "ok"))
    clock.observe(far)
    assert clock.now() < far
    clock.observe(near)
    assert clock.now() > near


def test_stamp_text_sorts_like_the_stamp():
    a, b = Stamp(5, 10, "z"), Stamp(10, 0, "a")
    assert (str(a) < str(b)) == (a < b) and Stamp.parse(str(a)) == a


def _add_all(store, db, items):
    """A batch handler: one INSERT for the whole batch; the item 'poison' breaks the statement."""
    db.execute("INSERT INTO meta (key, value) VALUES " + ", ".join(["(?, ?)"] * len(items)),
               [v for item in items for v in (f"batch-{item}", "x" if item != "poison" else None)])
    return [f"stored {item}" for item in items]


def test_write_many_hands_a_queued_group_to_one_call_and_a_bad_item_fails_alone(tmp_path):
    with open_store(tmp_path / "a.db") as store:
        store.write(lambda db: db.execute(
            "CREATE TRIGGER no_nulls BEFORE INSERT ON meta WHEN NEW.value IS NULL"
            " BEGIN SELECT RAISE(ABORT, 'poisoned'); END"))
        calls = []

        def handler(store, db, items):
            calls.append(list(items))
            return _add_all(store, db, items)

        release, holder = hold_the_writer(store)
        answers: dict[str, object] = {}

        def submit(item):
            try:
                answers[item] = store.write_many(handler, item)
            except sqlite3.DatabaseError as exc:
                answers[item] = exc

        items = [f"i{n}" for n in range(8)] + ["poison"]
        threads = [threading.Thread(target=submit, args=(item,)) for item in items]
        [t.start() for t in threads]
        wait_until_queued(store, len(items))
        release.set()
        [t.join() for t in threads]
        holder.join()
        assert len(calls[0]) == len(items), "the queued items reached the handler as one call"
        assert "poisoned" in str(answers.pop("poison"))
        assert answers == {item: f"stored {item}" for item in items if item != "poison"}
        stored = {r["key"] for r in store.query("SELECT key FROM meta WHERE key LIKE 'batch-%'")}
        assert stored == {f"batch-{item}" for item in items if item != "poison"}


def test_after_a_sync_a_laptop_clock_set_wrong_moves_neither_stamps_nor_scan_times(tmp_path):
    wall, steady = [1_000_000_000_000], [500.0]
    clock = HLC("n", wall=lambda: wall[0], steady=lambda: steady[0])
    clock.synced(offset_ms=60_000)                          # the hub is a minute ahead of this laptop
    assert clock.physical_ms() == 1_000_000_060_000
    wall[0] -= 365 * 24 * 3600 * 1000                       # the date is set a year back (dead CMOS battery)
    steady[0] += 2.5                                        # while 2.5 s really pass
    assert clock.physical_ms() == 1_000_000_062_500
    assert Stamp.parse(clock.now()).wall_ms == 1_000_000_062_500
    restarted = HLC("n", offset_ms=60_000, wall=lambda: wall[0], steady=lambda: steady[0])
    assert restarted.physical_ms() == wall[0] + 60_000       # no anchor until the next sync


def test_a_clock_takes_the_offset_a_sync_in_another_process_stored_within_a_second():
    wall, steady, stored = [1_000_000_000_000], [100.0], [(0, 0)]
    clock = HLC("n", wall=lambda: wall[0], steady=lambda: steady[0])
    clock.follow(lambda: stored[0], seen=0)
    stored[0] = (1, -420_000)               # `fieldsync sync` beside the server: this laptop is 7 min fast
    steady[0] += 0.5
    assert clock.physical_ms() == wall[0]                    # asked at most once a second
    steady[0] += 0.5
    assert clock.physical_ms() == 1_000_000_000_000 - 420_000
    wall[0] += 3600 * 1000                                   # then the clock is set an hour ahead
    steady[0] += 2
    assert Stamp.parse(clock.now()).wall_ms == 1_000_000_000_000 - 420_000 + 2_000


def test_server_stamped_scans_take_the_anchored_clock(store):
    from fieldsync.records import checkins, people, sessions

    wall, steady = [1_800_000_000_000], [10.0]
    store.hlc = HLC(store.node_id, wall=lambda: wall[0], steady=lambda: steady[0])
    store.hlc.synced(offset_ms=0)
    wall[0] += 40 * 24 * 3600 * 1000                        # someone sets the laptop 40 days ahead
    steady[0] += 3600                                       # an hour later, a scan
    session = next(s for s in sessions.listing(store) if s["kind"] == "training")
    person = people.search(store, limit=1)[0]
    result = checkins.check_in(store, session_id=session["id"], person_id=person["id"])
    assert result.checkin["scanned_at"] == "2027-01-15T09:00:00.000Z"   # 1.8e12 ms + 1 h


def test_idle_work_waits_for_a_quiet_writer_and_runs_in_its_own_transactions(tmp_path):
    with open_store(tmp_path / "a.db") as store:
        store.write(lambda db: db.execute("CREATE TABLE idle_log (n INTEGER)"))
        calls = []

        def task(db):
            calls.append(time.monotonic())
            db.execute("INSERT INTO idle_log VALUES (?)", [len(calls)])
            return len(calls) < 3   # more to do, twice

        store.when_idle(task)
        assert eventually(lambda: len(calls) == 3)
        # each committed (the third a moment after it ran)
        assert eventually(lambda: [r["n"] for r in store.query("SELECT n FROM idle_log")] == [1, 2, 3])
        written = time.monotonic()
        store.write(lambda db: db.execute("INSERT INTO idle_log VALUES (0)"))
        assert eventually(lambda: len(calls) == 4)
        assert calls[3] - written >= IDLE_SECONDS * 0.9   # not before the writer was quiet
        store.when_idle(task, False)
        store.write(lambda db: None)
        time.sleep(IDLE_SECONDS * 3)
        assert len(calls) == 4


def test_a_failing_idle_task_is_logged_and_rolled_back_and_writes_go_on(tmp_path, caplog):
    with open_store(tmp_path / "a.db") as store:
        store.write(lambda db: db.execute("CREATE TABLE idle_log (n INTEGER)"))

        def broken(db):
            db.execute("INSERT INTO idle_log VALUES (1)")
            raise ValueError("no")

        store.when_idle(broken)
        assert eventually(lambda: "idle work" in caplog.text)
        assert store.write(lambda db: db.execute("INSERT INTO idle_log VALUES (2)").rowcount) == 1
        assert [r["n"] for r in store.query("SELECT n FROM idle_log")] == [2]


def test_a_hubs_writer_checkpoints_the_wal_when_quiet_and_keeps_a_bigger_cache(tmp_path):
    def fill(store) -> None:
        store.write(lambda db: db.execute("CREATE TABLE filler (text TEXT)"))
        for _ in range(5):
            store.write(lambda db: db.conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 100))

    with open_store(tmp_path / "hub.db", hub=True) as hub, open_store(tmp_path / "node.db") as node:
        assert hub.write(lambda db: db.execute("PRAGMA cache_size").fetchone()[0]) == -HUB_CACHE_KIB
        assert node.write(lambda db: db.execute("PRAGMA cache_size").fetchone()[0]) == -2000   # SQLite's own
        fill(hub), fill(node)
        # The data reaches the database file itself once the hub's writer is quiet; a node's
        # waits in the WAL for SQLite's own checkpoint at 1,000 pages.
        assert eventually(lambda: (tmp_path / "hub.db").stat().st_size > 250_000)
        time.sleep(IDLE_SECONDS * 3)
        assert (tmp_path / "node.db").stat().st_size < 250_000
        assert node.db.execute("SELECT COUNT(*) FROM filler").fetchone()[0] == 500


def test_a_write_may_return_an_exception_object_as_its_result(tmp_path):
    with open_store(tmp_path / "a.db") as store:
        made = store.write(lambda db: ValueError("a value, not a failure"))
        assert isinstance(made, ValueError)
