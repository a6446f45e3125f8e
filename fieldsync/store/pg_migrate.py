"""Bringing a hub's PostgreSQL database up to date (decision 0300), one process at a time: an
empty database gets the whole schema, built in an in-memory SQLite database from the migrations
and copied across (pg_schema.copy_database); an older one the migrations it has not applied yet,
run through the translation like any of the program's SQL.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.store import pg_schema
from fieldsync.store.db import _in_savepoint

SQLITE_MIGRATIONS = "_sqlite_migrations"   # the table sqlite-utils keeps applied migrations in


def migrate(db, migrations: Sequence[Migrations], lock: int, roll_back: Callable) -> None:
    """Bring db (a PgDatabase on one connection, out of any transaction) up to date under the
    session advisory lock `lock`; roll_back(conn) undoes a failed attempt."""
    conn = db._conn
    conn.execute("SELECT pg_advisory_lock(%s)", [lock])
    try:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [SQLITE_MIGRATIONS]).fetchone()[0]
        conn.execute("BEGIN")
        try:
            if not exists:
                fresh = sqlite3.connect(":memory:", isolation_level=None)
                fresh.execute("PRAGMA foreign_keys = ON")
                for each in migrations:
                    each.apply(Database(fresh))
                pg_schema.copy_database(fresh, db)
                fresh.close()
            else:
                conn.execute(pg_schema.functions_sql())
                _apply_pending(db, migrations)
            conn.execute("COMMIT")
        except BaseException:
            roll_back(conn)
            raise
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", [lock])


def _apply_pending(db, sets: Sequence[Migrations]) -> None:
    applied = {(row[0], row[1]) for row in db.execute(f"SELECT migration_set, name FROM {SQLITE_MIGRATIONS}")}
    for migrations in sets:
        for migration in migrations._migrations:   # sqlite-utils keeps them in order here
            if (migrations.name, migration.name) in applied:
                continue
            _in_savepoint(db, migration.fn)
            db.execute(f"INSERT INTO {SQLITE_MIGRATIONS} (migration_set, name, applied_at) VALUES (?, ?, ?)",
                       [migrations.name, migration.name, time.strftime("%Y-%m-%d %H:%M:%S+00:00", time.gmtime())])
