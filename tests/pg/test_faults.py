"""A hub's store on PostgreSQL when things go wrong (decision 0300): a write that fails leaves
nothing behind and its connection clean for the next; a lost server connection is an error to
the caller, not a hang; once the server takes connections again the store works again.

Connections are cut as a restarted or failing server cuts them: pg_terminate_backend from an
admin connection.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
import requests

from fieldsync import config
from fieldsync.parts import open_store
from fieldsync.server.errors import RETRY_AFTER_SECONDS
from tests import backends
from tests.backends import postgres_url
from tests.support import LiveServer


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A hub's store on a PostgreSQL database of its own (made as every hub's is)."""
    hub = open_store(tmp_path_factory.mktemp("pg") / "fieldsync.db", hub=True, database=postgres_url())
    yield hub
    hub.close()


def put(key: str, value: str = "v"):
    return lambda db: db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [key, value])


def value_of(store, key: str):
    return store.get_meta(key)


def cut_every_connection(store) -> int:
    """Terminate every server process serving the store's database: what a server restart does
    to the pool's connections. Returns how many there were."""
    name = store.url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(backends.ADMIN_URL, autocommit=True) as admin:
        return len(admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                 " WHERE datname = %s AND pid <> pg_backend_pid()", [name]).fetchall())


@contextmanager
def database_away(url: str):
    """The database refusing connections, its sessions ended: a restart or failover, as its
    clients see it, until the block ends."""
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(backends.ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_a_write_that_raises_leaves_nothing_and_every_connection_clean(store):
    def fails(db):
        put("raised")(db)
        raise RuntimeError("the work failed")

    for _ in range(20):   # more than the pool holds: each connection came back clean
        with pytest.raises(RuntimeError):
            store.write(fails)
        assert value_of(store, "raised") is None
    store.write(put("after raising"))
    assert value_of(store, "after raising") == "v"


def test_a_statement_error_rolls_back_that_write_and_no_other(store):
    store.write(put("kept"))

    def duplicate(db):
        put("half done")(db)
        put("kept")(db)   # the primary key is taken

    with pytest.raises(sqlite3.IntegrityError):
        store.write(duplicate)
    assert (value_of(store, "kept"), value_of(store, "half done")) == ("v", None)
    store.write(put("next write"))
    assert value_of(store, "next write") == "v"


def test_a_failed_write_inside_a_write_rolls_back_only_itself(store):
    def outer(db):
        put("outer")(db)
        with pytest.raises(sqlite3.IntegrityError):
            store.write(lambda inner: (put("inner")(inner), put("outer")(inner)))
        put("outer goes on")(db)   # the transaction is not left aborted

    store.write(outer)
    assert [value_of(store, k) for k in ("outer", "inner", "outer goes on")] == ["v", None, "v"]


def test_a_connection_lost_mid_write_is_an_error_to_the_caller_and_the_next_write_works(store):
    inside, cut = threading.Event(), threading.Event()

    def interrupted(db):
        put("lost")(db)
        inside.set()
        assert cut.wait(30)
        put("lost too")(db)   # the server has gone away meanwhile

    outcome: list[BaseException] = []
    writer = threading.Thread(target=lambda: outcome.append(_raised(store.write, interrupted)))
    writer.start()
    assert inside.wait(30)
    assert cut_every_connection(store) >= 1
    cut.set()
    writer.join(60)
    assert not writer.is_alive(), "the write hung on a lost connection"
    assert isinstance(outcome[0], sqlite3.OperationalError), outcome
    assert value_of(store, "lost") is None
    store.write(put("after the cut"))
    assert value_of(store, "after the cut") == "v"


def _raised(call, *args) -> BaseException | None:
    try:
        call(*args)
    except BaseException as exc:   # noqa: BLE001 -- handed to the test thread to look at
        return exc
    return None


def test_after_the_server_cut_every_connection_reads_and_writes_work_at_once(store):
    # Fill the pool with idle connections, as a busy hub has them, then cut them all.
    readers = [threading.Thread(target=lambda: [store.db.execute("SELECT pg_sleep(0.05)") for _ in range(3)])
               for _ in range(6)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(30)
    assert cut_every_connection(store) >= 2
    assert store.db.execute("SELECT COUNT(*) FROM meta").fetchone()[0] >= 1
    store.write(put("after the restart"))
    assert value_of(store, "after the restart") == "v"
    assert cut_every_connection(store) >= 1
    store.write(put("a write first"))   # a write may be the first to meet the dead connections
    assert value_of(store, "a write first") == "v"


def test_writers_waiting_their_turn_do_not_starve_the_reads_of_the_one_writing(store, tmp_path):
    """Writes wait for their turn without holding a pooled connection: the write whose turn it is
    may read through the store's pool (as the program's writes do) while others queue."""
    from fieldsync.parts import MIGRATION_SETS
    from fieldsync.store.pg import PgStore

    small = PgStore(store.url, tmp_path / "fieldsync.db", migrations=MIGRATION_SETS, pool_size=3)
    try:
        def reads_then_writes(n):
            return lambda db: (small.get_meta("kept"), put(f"queued {n}")(db))

        failures: list[BaseException] = []
        writers = [threading.Thread(target=lambda n=n: failures.append(_raised(small.write, reads_then_writes(n))))
                   for n in range(8)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(120)
        assert failures == [None] * 8
        assert all(value_of(small, f"queued {n}") == "v" for n in range(8))
    finally:
        small.close()


def test_a_hub_whose_database_is_away_answers_503_with_retry_after_then_recovers(tmp_path):
    """A served hub whose server refuses connections (a restart, a failover) answers every request
    503 database_unavailable with a Retry-After, within the address's connect_timeout, never a
    500 or a hang; once the server takes connections again, so does the hub, within the wait the
    503 asked for."""
    url = postgres_url() + "?connect_timeout=2"
    config.save(tmp_path / "hub", mode="hub", database=url)
    open_store(tmp_path / "hub" / "fieldsync.db").close()
    server = LiveServer(tmp_path / "hub", hub=True).start()

    def pull():
        return requests.get(f"{server.url}/api/v1/sync/pull", headers={"Authorization": "Bearer not-a-laptop"},
                            timeout=60)

    try:
        assert pull().status_code == 401   # the token looked up in the database: none such
        with database_away(url):
            answers = [pull() for _ in range(2)]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "database_unavailable"
            assert int(answer.headers["Retry-After"]) > 0
            assert answer.elapsed.total_seconds() < 15
        deadline = time.monotonic() + RETRY_AFTER_SECONDS   # what the 503 told the caller to wait
        while (status := pull().status_code) == 503 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status == 401, "the hub did not come back with its database"
        assert "Traceback" not in server.log_path.read_text(encoding="utf-8")
    finally:
        server.stop()


def test_idle_work_that_finds_the_database_away_logs_one_line_and_runs_once_it_is_back(tmp_path, caplog):
    """The hub's idle work (its folds) meeting a server that refuses connections logs a warning,
    not a traceback (a log an operator reads, and the served hub's log the test above checks),
    and is not dropped: it runs again once a write finds the server back."""
    url = postgres_url() + "?connect_timeout=1"
    hub = open_store(tmp_path / "fieldsync.db", hub=True, database=url)
    runs: list[float] = []
    back = threading.Event()

    def task(db):
        runs.append(time.monotonic())
        db.execute("SELECT COUNT(*) FROM meta")
        back.set()
        return False   # nothing more to do

    try:
        with caplog.at_level(logging.WARNING, logger="fieldsync"):
            with database_away(url):
                hub.when_idle(task)
                deadline = time.monotonic() + 15
                while "idle work waits for the database" not in caplog.text and time.monotonic() < deadline:
                    time.sleep(0.1)
                back.clear()
            assert "idle work waits for the database" in caplog.text
            assert not back.is_set()
            deadline = time.monotonic() + 30   # the pool may be between its attempts to reconnect
            while _raised(hub.write, put("the server is back")) is not None and time.monotonic() < deadline:
                time.sleep(0.5)
            assert value_of(hub, "the server is back") == "v"   # and the write wakes the waiting idle work
            assert back.wait(15), "the idle work did not run again once the database was back"
        assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    finally:
        hub.close()
