"""Making a hub's PostgreSQL schema (decision 0300): SQLite migration scripts as PostgreSQL
statements, the fs_ functions the translated SQL calls, and the copy of a whole SQLite database
(tables, rows with their rowids, indexes, views, triggers, sequence counters) that both a new
PostgreSQL hub and `fieldsync hub migrate-to` are made with.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from importlib import resources

from fieldsync.store import ddl, dialect


def schema_statements(sql: str) -> list[str]:
    """A script of SQLite DDL and DML (a migration) as PostgreSQL statements."""
    out: list[str] = []
    for statement in dialect.split(sql):
        head = " ".join(statement.split()[:3]).upper()
        if head.startswith(("CREATE TABLE", "CREATE TEMP")):
            table, _, foreign = ddl.table_ddl(statement)
            out.extend([table, *foreign])
        elif head.startswith("CREATE TRIGGER"):
            out.extend(ddl.trigger_ddl(statement))
        elif head.startswith("ALTER TABLE") and " ADD " in statement.upper():
            out.append(ddl.add_column(statement))
        elif head.startswith("DROP TRIGGER"):
            out.append(ddl.drop_trigger(statement))
        else:
            out.append(dialect.postgres(statement, params=False))
    return out


def functions_sql() -> str:
    return resources.files("fieldsync.store").joinpath("pg_functions.sql").read_text(encoding="utf-8")


# -- copying a SQLite database -----------------------------------------------------------------

def copy_database(source: sqlite3.Connection, target, *, progress: Callable[[str, int], None] | None = None
                  ) -> dict[str, int]:
    """Create every table, index, view and trigger of `source` in the (empty) PostgreSQL database
    and copy every row, rowids and sequence counters included, in one transaction of the
    caller's. The triggers are made after the rows are in, so the copied rollups are not added
    to again. Returns the number of rows copied per table."""
    target.native(functions_sql())
    objects = source.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
                             " AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
    own_rowid: dict[str, bool] = {}
    foreign: list[str] = []
    for kind, name, _, sql in objects:
        if kind == "table":
            table, own_rowid[name], keys = ddl.table_ddl(sql)
            target.native(table)
            foreign.extend(keys)
    counts = {}
    for name, rowid in own_rowid.items():
        counts[name] = _copy_rows(source, target, name, rowid)
        if progress:
            progress(name, counts[name])
    for statement in foreign:
        target.native(statement)
    for kind, _, _, sql in objects:
        if kind == "index":
            target.native(dialect.postgres(sql, params=False))
    for kind, _, _, sql in objects:
        if kind == "view":
            target.native(dialect.postgres(sql, params=False))
    for kind, _, _, sql in objects:
        if kind == "trigger":
            for statement in ddl.trigger_ddl(sql):
                target.native(statement)
    sequences = dict(source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()) if any(
        row[1] == "sqlite_sequence" for row in source.execute("SELECT type, name FROM sqlite_master")) else {}
    for table, column in target.native(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall():
        top = target.execute(f"SELECT COALESCE(MAX({column}), 0) FROM {table}").fetchone()[0]
        top = max(top, sequences.get(table, 0) if column != "rowid" else 0)
        target.native(f"SELECT setval(pg_get_serial_sequence(%s, %s), %s::bigint, {'true' if top else 'false'})",
                      [table, column, max(top, 1)])
    return counts


def _copy_rows(source: sqlite3.Connection, target, table: str, rowid: bool) -> int:
    columns = [(row[1], (row[2] or "").upper()) for row in source.execute(f"PRAGMA table_xinfo({table})")
               if row[6] == 0]   # not a generated column
    names = [name for name, _ in columns]
    integers = [i for i, (_, kind) in enumerate(columns) if kind.startswith("INT")]
    select = ", ".join(["rowid", *names] if rowid else names)
    into = ", ".join(["rowid", *names] if rowid else names)
    count = 0

    def copy(conn):
        nonlocal count
        with conn.cursor().copy(f"COPY {table} ({into}) FROM STDIN") as out:
            for row in source.execute(f"SELECT {select} FROM {table}"):
                if integers:
                    row = list(row)
                    for i in integers:
                        at = i + rowid
                        if isinstance(row[at], float) and row[at].is_integer():
                            row[at] = int(row[at])
                out.write_row(row)
                count += 1
    target._run(copy)
    return count
