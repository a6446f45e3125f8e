"""`fieldsync hub migrate-to`: a SQLite hub with two town laptops moves to PostgreSQL mid-life and
the laptops sync on as if nothing happened (decision 0340); and the refusals, one line each.

The hub here is always a SQLite file to begin with, whatever FIELDSYNC_TEST_BACKEND says: moving
one is the point. PostgreSQL comes from tests.backends.postgres_url() (skips without a server
unless FIELDSYNC_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlite_utils import Database

from fieldsync import config, demo, hub_move
from fieldsync.parts import open_store
from fieldsync.records import checkins, people
from fieldsync.reports import fingerprint, rollup
from fieldsync.store import clock, pg
from tests.backends import postgres_url
from tests.support import LiveServer, run_cli
from tests.sync.conftest import TOWN_A, TOWN_B, Cluster


def sqlite_hub(path: Path) -> Path:
    """A hub in a SQLite file with the gazetteer and the demo accounts."""
    config.save(path, mode="hub")
    with open_store(path / "fieldsync.db") as store:
        demo.places_and_accounts(store)
    return path


def folded_figures(instance: Path) -> dict:
    """Every report figure of the (stopped) hub, its synced check-ins folded into the rollups first."""
    with open_store(instance / "fieldsync.db") as store:
        rollup.current(store)
        return fingerprint.figures(store.db)


def scan_and_edit(node, session_index: int, first: int, count: int, renamed: str) -> str:
    """Check in `count` people of the laptop's roster at one of its sessions and rename one of them."""
    store = node.store
    session = store.query("SELECT id FROM sessions ORDER BY starts_at DESC, id")[session_index]["id"]
    roster = [row["id"] for row in store.query("SELECT id FROM people ORDER BY id LIMIT ? OFFSET ?", [count, first])]
    for person in roster:
        checkins.check_in(store, session_id=session, person_id=person, station=node.name)
    people.modify(store, roster[0], {"name": renamed}, actor="test")
    return roster[0]


def cursors(node) -> dict:
    return node.query("SELECT last_acked_seq, pull_cursor, hub_epoch FROM sync_state WHERE peer = 'hub'")[0]


def ids(rows: list[dict]) -> set[str]:
    return {row["id"] for row in rows}


def sqlite_twin(hub_store, path: Path) -> dict:
    """The PostgreSQL hub's rows in a new SQLite file, its rollups rebuilt there from the raw rows:
    the report figures SQLite gives for the same data."""
    with open_store(path) as twin:
        def load(db):
            db.execute("PRAGMA defer_foreign_keys = ON")
            with rollup.bulk_load(db):
                for table in db.table_names():
                    if table.startswith("sqlite_"):
                        continue
                    columns = [row[1] for row in db.execute(f"PRAGMA table_xinfo({table})") if row[6] == 0]
                    columns = (["rowid"] if "rowid" in pg.shape_of(table).columns else []) + columns
                    rows = hub_store.db.native(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
                    db.execute(f"DELETE FROM {table}")
                    db.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
                                        f" ({', '.join('?' * len(columns))})", rows)
        twin.write(load)
        return fingerprint.figures(twin.db)


def test_a_sqlite_hub_moved_to_postgresql_keeps_its_laptops_syncing(demo_template, town_b_template,
                                                                     empty_template, tmp_path):
    url = postgres_url()
    hub = LiveServer(sqlite_hub(tmp_path / "hub"), hub=True).start()
    cluster = Cluster(tmp_path, hub, {TOWN_A: demo_template, TOWN_B: town_b_template, "empty": empty_template})
    try:
        a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_B)
        a.sync(), b.sync()
        scan_and_edit(a, 0, 0, 6, "王新名"), scan_and_edit(b, 0, 0, 4, "李新名")
        a.sync(), b.sync()
        hub.stop()
        before = folded_figures(hub.instance)
        sent = {node.name: cursors(node) for node in (a, b)}
        database_file = hub.instance / "fieldsync.db"
        file_digest = hashlib.sha256(database_file.read_bytes()).hexdigest()

        moved = run_cli(hub.instance, "hub", "migrate-to", url)
        assert "checkins:" in moved.stdout and "hub_log:" in moved.stdout   # progress per table
        assert str(database_file) in moved.stdout                          # the way back
        assert config.load(hub.instance)["DATABASE"] == url
        assert hashlib.sha256(database_file.read_bytes()).hexdigest() == file_digest
        assert folded_figures(hub.instance) == before

        hub.start()    # same folder, same port: the laptops know nothing of the move
        with cluster.hub_store() as store:
            assert store.db.dialect == "postgresql"
            person_of_a = a.query("SELECT id FROM people ORDER BY id DESC LIMIT 1")[0]["id"]
            people.modify(store, person_of_a, {"specialty": "太极拳"}, actor="hub-admin")
        renamed = {a.name: scan_and_edit(a, 1, 6, 5, "赵再改"), b.name: scan_and_edit(b, 1, 4, 3, "钱再改")}
        for node in (a, b):
            result = node.sync()["result"]
            assert result.push.pushed > 0 and result.push.duplicates == 0 and result.push.replays == 0
            assert not result.pull.snapshot                       # the pull cursor held: no resync from 0
            now = cursors(node)
            assert now["hub_epoch"] == sent[node.name]["hub_epoch"]
            assert now["last_acked_seq"] > sent[node.name]["last_acked_seq"]
            assert now["pull_cursor"] != sent[node.name]["pull_cursor"]
        assert a.query("SELECT specialty FROM people WHERE id = ?", [person_of_a]) == [{"specialty": "太极拳"}]

        hub.stop()
        with cluster.hub_store() as store:
            hub_checkins = store.query("SELECT id, session_id, person_id FROM checkins")
            assert store.query("SELECT node_id, replica, from_seq FROM batches GROUP BY node_id, replica, from_seq"
                               " HAVING COUNT(*) > 1") == []
            for node in (a, b):
                mine = node.query("SELECT id FROM checkins")
                assert ids(mine) <= ids(hub_checkins)             # nothing lost on the way up
                towns = store.query("SELECT c.id FROM checkins c JOIN sessions s ON s.id = c.session_id"
                                    " WHERE s.town = ?", [node.town])
                assert ids(towns) == ids(mine)                    # and nothing the laptop lacks
                assert store.query("SELECT name FROM people WHERE id = ?", [renamed[node.name]]) == [
                    {"name": {a.name: "赵再改", b.name: "钱再改"}[node.name]}]
            rollup.current(store)
            after = fingerprint.figures(store.db)
            assert after == sqlite_twin(store, tmp_path / "twin" / "fieldsync.db")
        assert after != before                                    # the new scans show in the figures
    finally:
        cluster.stop()


# -- refusals: one line, exit status 1, config.toml as it was ------------------------------------

def refused(instance: Path, url: str) -> str:
    toml = (instance / "config.toml").read_text(encoding="utf-8")
    result = run_cli(instance, "hub", "migrate-to", url, check=False)
    assert result.returncode == 1 and result.stdout == "", result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert (instance / "config.toml").read_text(encoding="utf-8") == toml
    return lines[0]


@pytest.fixture(scope="module")
def small_hub(tmp_path_factory) -> Path:
    return sqlite_hub(tmp_path_factory.mktemp("small-hub"))


def test_the_checks_name_each_difference_between_the_file_and_the_copy(small_hub):
    """What `migrate-to` prints when the copy is not the file: a doctored copy (the faithful one
    compares equal in the test above)."""
    url = postgres_url()
    with closing(sqlite3.connect(small_hub / "fieldsync.db")) as file:
        hub_move.copy_into(file, url)
    with open_store(small_hub / "fieldsync.db", database=url) as store, \
            closing(sqlite3.connect(small_hub / "fieldsync.db")) as file:
        store.write(lambda db: (db.execute("DELETE FROM users WHERE username = 'trainer'"),
                                db.execute("UPDATE meta SET value = 'another' WHERE key = 'hub_epoch'"),
                                db.execute("UPDATE places SET name = '改名区' WHERE code = '371002'")))
        store.db.native("SELECT setval(pg_get_serial_sequence('history', 'id'), 1000)")
        found = hub_move.compare(Database(file), store.db)
    assert found[:3] == ["rows of users: 3 in the file, 2 in PostgreSQL",
                         "next number of history: 1 in the file, 1001 in PostgreSQL",
                         "the hub's epoch and ids (meta): not the same in the file and in PostgreSQL"]
    assert f"report figures differ: dashboard 371000 {clock.today().year}: counties[0].name: 环翠区 → 改名区" in found


def test_a_town_laptop_is_not_moved(demo_template, tmp_path):
    import shutil

    laptop = Path(shutil.copytree(demo_template, tmp_path / "laptop"))
    assert "town laptop" in refused(laptop, "postgresql://nobody@127.0.0.1/none")


def test_a_hub_already_on_postgresql_is_not_moved_again(tmp_path):
    config.save(tmp_path, mode="hub", database="postgresql://fieldsync:secret@127.0.0.1:1/hub")
    line = refused(tmp_path, "postgresql://nobody@127.0.0.1/other")
    assert "already keeps its data in PostgreSQL" in line and "secret" not in line


@pytest.mark.parametrize(("url", "says"), [
    ("mysql://root@127.0.0.1/hub", "is not a PostgreSQL address"),
    ("postgresql://nobody:pw@127.0.0.1:1/hub", "Cannot open the PostgreSQL database"),
])
def test_an_address_that_is_not_a_reachable_postgresql_database_is_refused(small_hub, url, says):
    line = refused(small_hub, url)
    assert says in line and ":pw@" not in line


def test_a_database_that_already_holds_tables_is_refused(small_hub):
    import psycopg

    url = postgres_url()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE earlier (id integer)")
    assert "already holds 1 tables (earlier)" in refused(small_hub, url)


def test_a_running_hub_is_not_moved(small_hub):
    url = postgres_url()
    with open_store(small_hub / "fieldsync.db"):     # as a serving hub holds it
        assert "stop the hub" in refused(small_hub, url)
    with closing(sqlite3.connect(small_hub / "fieldsync.db")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == len(demo.ACCOUNTS)
