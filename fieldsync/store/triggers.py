"""Triggers on either backend (decision 0300): list them, set some aside for a bulk insert and
put them back, create them from SQLite's CREATE TRIGGER text. SQLite drops a trigger and
creates it again from the text it kept; PostgreSQL disables and enables it. Either way it
happens inside the caller's transaction: a rollback puts the triggers back as they were.
"""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.store import ddl


def on_postgres(db) -> bool:
    return getattr(db, "dialect", "sqlite") == "postgresql"


def names(db: Database, prefix: str, only: str | None = None) -> list[tuple[str, str]]:
    """(name, table) of the enabled triggers whose names start with prefix (or the one named)."""
    if on_postgres(db):
        return [tuple(row) for row in db.native(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()"
            " WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND starts_with(t.tgname, %s)"
            " AND (%s::text IS NULL OR t.tgname = %s) ORDER BY t.tgname", [prefix, only, only]).fetchall()]
    return [tuple(row) for row in db.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, length(?)) = ?"
        " AND (? IS NULL OR name = ?) ORDER BY name", [prefix, prefix, only, only]).fetchall()]


def set_aside(db: Database, prefix: str, only: str | None = None) -> list[str]:
    """Take the triggers out of play; return the statements that bring them back (`restore`)."""
    if on_postgres(db):
        found = names(db, prefix, only)
        for name, table in found:
            db.native(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
        return [f"ALTER TABLE {table} ENABLE TRIGGER {name}" for name, table in found]
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, length(?)) = ?"
                      " AND (? IS NULL OR name = ?)", [prefix, prefix, only, only]).fetchall()
    for name, _ in rows:
        db.execute(f"DROP TRIGGER {name}")
    return [sql for _, sql in rows]


def restore(db: Database, statements: list[str]) -> None:
    """Run what set_aside returned, or SQLite CREATE TRIGGER statements."""
    for sql in statements:
        if on_postgres(db) and sql.lstrip().upper().startswith("CREATE TRIGGER"):
            for each in ddl.trigger_ddl(sql):
                db.native(each)
        else:
            db.execute(sql)


def database_name(db: Database) -> str:
    """Which database this is (a file's path, a PostgreSQL address), to key what is kept per database."""
    return db.name if on_postgres(db) else db.execute("PRAGMA database_list").fetchone()[2]
