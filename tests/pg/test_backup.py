"""A hub's PostgreSQL database kept as a bureau keeps one (issue 18): a logical backup made with
pg_dump restores (pg_restore) into an empty database and the hub serves the same figures from it; the
server's own upkeep (autovacuum's ANALYZE) reads every index and generated column.

Both run our functions with an empty search_path, as pg_dump's restore and autovacuum do: an
index on fs_substr(…), or the generated minutes column through fs_julianday, must not depend on
whose search_path evaluates them.
"""

from __future__ import annotations

import sqlite3
import subprocess
from contextlib import closing

import psycopg
import pytest

from fieldsync import config, hub_move
from fieldsync.parts import open_store
from fieldsync.reports import fingerprint, rollup
from tests.backends import new_database, postgres_url
from tests.reports import fixture


@pytest.fixture(scope="module")
def city_on_postgres(tmp_path_factory) -> str:
    """The reports' city (people, sessions, check-ins, rollups), built in a SQLite hub and copied
    into PostgreSQL as `hub migrate-to` copies one; its database's address."""
    url = postgres_url()
    path = tmp_path_factory.mktemp("city")
    config.save(path, mode="hub")
    fixture.fill_instance(path)
    with closing(sqlite3.connect(path / "fieldsync.db")) as lite:
        hub_move.copy_into(lite, url)
    return url


def figures(url: str, folder) -> dict:
    with open_store(folder / "fieldsync.db", hub=True, database=url) as store:
        rollup.current(store)
        return fingerprint.figures(store.db)


def test_a_dump_of_a_hub_restores_into_an_empty_database_with_the_same_figures(city_on_postgres, tmp_path):
    before = figures(city_on_postgres, tmp_path / "before")
    dump = tmp_path / "hub.dump"   # as the hub guide says to make and restore one
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), city_on_postgres], capture_output=True, check=True, timeout=120)
    restored = new_database()
    loaded = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", restored, str(dump)], check=False,
                            capture_output=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr.decode()
    with psycopg.connect(restored) as conn:
        assert conn.execute("SELECT COUNT(*) FROM checkins").fetchone()[0] > 0
    after = figures(restored, tmp_path / "after")
    assert fingerprint.differences(before, after) == []


@pytest.mark.parametrize("table", ["people", "rollup_attendance", "checkins"])
def test_the_servers_upkeep_reads_every_index_and_generated_column(city_on_postgres, table):
    """ANALYZE as autovacuum runs it, with an empty search_path: it evaluates the expression
    indexes (people's fs_substr tail), and the generated minutes column is read back."""
    with psycopg.connect(city_on_postgres, autocommit=True) as conn:
        conn.execute("SET search_path = ''")
        conn.execute(f"ANALYZE public.{table}")
        assert conn.execute("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s",
                            [table]).fetchone()[0]
        conn.execute("UPDATE public.rollup_attendance SET last_out = last_out")   # minutes computed again
