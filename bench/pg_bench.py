"""PostgreSQL for the benches (decision 0300): a fresh database per run on a server the bench is
given (an address that may create databases), the server's settings and version for the figures'
heading, and the CPU its processes spend (a hub on PostgreSQL does part of its work there).

Run the benches against a cluster with durable settings (fsync on), not the test cluster
(.ci/postgres runs with fsync off): docs/performance.md says how.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

import psycopg

from fieldsync import config
from fieldsync.parts import open_store

SETTINGS = ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "max_wal_size", "wal_level")


def database_url(admin_url: str, name: str) -> str:
    """The address of database `name` on the server of admin_url."""
    scheme, rest = admin_url.split("://", 1)
    return f"{scheme}://" + re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", rest, count=1)


def fresh_database(admin_url: str, name: str) -> str:
    """An empty database `name` (dropped first if a bench left one); returns its address."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING UTF8 LC_COLLATE "C" LC_CTYPE "C"')
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def describe(admin_url: str) -> str:
    """The server's version and the settings a figure depends on, in one line."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        shown = [f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}" for name in SETTINGS]
    return f"PostgreSQL {version} · {' '.join(shown)}"


def postgres_cpu_seconds(admin_url: str) -> float:
    """User + system CPU of the server: the postmaster, its live backends, and those that ended
    (counted into the postmaster's children's time). Needs the server on this machine."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        data = conn.execute("SHOW data_directory").fetchone()[0]
    postmaster = int(Path(data, "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:   # a process that ended meanwhile
            continue
        pid, parent = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15]) / tick   # its own time and its reaped children's
        elif parent == postmaster:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def hub_database(instance: Path) -> str | None:
    """The PostgreSQL address in a hub's config.toml; None for a SQLite hub."""
    return config.load(instance).get("DATABASE")


def hub_query(instance: Path, sql: str, params=()) -> list[tuple]:
    """A read of a hub's database, SQLite file or PostgreSQL alike (SQLite's dialect)."""
    if hub_database(instance) is None:
        conn = sqlite3.connect(instance / "fieldsync.db")
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    with open_store(instance / "fieldsync.db") as store:
        return store.db.execute(sql, list(params)).fetchall()


def hub_write_many(instance: Path, sql: str, rows: list) -> None:
    """executemany on a hub's database in one transaction, SQLite file or PostgreSQL alike."""
    if hub_database(instance) is None:
        conn = sqlite3.connect(instance / "fieldsync.db")
        with conn:
            conn.executemany(sql, rows)
        conn.close()
        return
    with open_store(instance / "fieldsync.db") as store:
        store.write(lambda db: db.conn.executemany(sql, rows))


def copy_hub(db_file: Path, admin_url: str, name: str) -> tuple[str, float]:
    """A SQLite hub's database copied into a fresh PostgreSQL database `name` (COPY, then its
    indexes and triggers, as `fieldsync hub migrate-to` does; then ANALYZE, which autovacuum
    would do a while after a load); its address and the seconds it took."""
    from fieldsync.store import pg, pg_pool, pg_schema

    url = fresh_database(admin_url, name)
    started = time.perf_counter()
    source = sqlite3.connect(db_file)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            pg_pool.configure(conn)
            conn.execute("BEGIN")
            pg_schema.copy_database(source, pg.PgDatabase(conn))
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
    finally:
        source.close()
    return url, time.perf_counter() - started
