"""Moving a hub's data from its SQLite file to PostgreSQL mid-life (`fieldsync hub migrate-to`,
decision 0340).

The hub must be stopped: the file is opened with an exclusive lock that a running hub (or
anything else holding the file open) makes impossible, and that keeps everyone out until the
checks are done; nothing is written through it. Its whole database goes across in one
PostgreSQL transaction (pg_schema.copy_database: rows with their rowids, sequence counters), the
copy is opened as the hub will open it (open_store: pending migrations, functions), and then
checked against the file: every table's row count, the sync state laptops rely on (hub epoch,
each stream's high-water, the outbox and hub_log counters), and every report figure
(reports/fingerprint.py). Only when all agree is the address written into config.toml; the file
stays where it was, untouched, as the way back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from fieldsync import config, parts
from fieldsync.errors import BadRequest, Conflict, Forbidden
from fieldsync.i18n import N_, _
from fieldsync.reports import fingerprint
from fieldsync.store import dialect, pg, pg_pool, pg_schema

# What laptops hold the hub to: its epoch (cursors and acks carry it), each stream's high-water
# (exactly-once pushes), the last seq of the outbox and of the log the pull cursors point into.
SYNC_STATE = {
    N_("the hub's epoch and ids (meta)"): "SELECT key, value FROM meta ORDER BY key",
    N_("the laptops' streams and their high-water"): "SELECT node_id, replica, high_water FROM streams"
                                                   " ORDER BY node_id, replica",
    N_("the enrolled laptops"): "SELECT id, token_hash, revoked_at, records_received FROM nodes ORDER BY id",
    N_("the last seq of the outbox (changes)"): "SELECT MAX(seq) FROM changes",
    N_("the last seq of the hub's log (hub_log)"): "SELECT MAX(seq) FROM hub_log",
}


@dataclass
class Moved:
    """What a move did: rows copied per table, and what differs between the file and the copy
    (empty: the address was written into config.toml)."""
    database_file: Path
    copied: dict[str, int] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)


def move(instance: Path, url: str, progress: Callable[[str, int], None] | None = None) -> Moved:
    """Copy the stopped hub in `instance` into the empty PostgreSQL database at `url`, check the
    copy and, when it is the same, make the hub use it from its next start."""
    database_file = instance / "fieldsync.db"
    _refuse_unmovable(instance, database_file, url)
    pg.check_database(url)
    _refuse_unless_empty(url)
    source = _locked(database_file)
    try:
        _refuse_pending_migrations(source)
        moved = Moved(database_file, copied=copy_into(source, url, progress))
        try:
            with parts.open_store(database_file, database=url) as store:   # applies what is pending
                moved.differences = compare(Database(source), store.db)
        except sqlite3.Error as exc:   # the copy is in, but PostgreSQL refused to open or read it
            moved.differences = [_("PostgreSQL could not open or read the copy: %(reason)s",
                                   reason=str(exc).strip().splitlines()[0])]
        if not moved.differences:
            config.save(instance, database=url)
        return moved
    finally:
        source.close()


def _refuse_unmovable(instance: Path, database_file: Path, url: str) -> None:
    settings = config.load(instance)
    if settings["MODE"] != "hub":
        raise Forbidden(_("%(path)s is a town laptop's instance: only a hub moves to PostgreSQL; a laptop keeps "
                          "its own file.", path=instance), code="hub_only")
    if dialect.is_postgres(settings["DATABASE"]):
        raise Conflict(_("This hub already keeps its data in PostgreSQL (%(url)s).",
                         url=pg_pool.without_password(settings["DATABASE"])), code="conflict")
    if not dialect.is_postgres(url):
        raise BadRequest(_("%(url)s is not a PostgreSQL address: give postgresql://user@host/name",
                           url=pg_pool.without_password(url)), code="bad_setting")
    if not database_file.exists():
        raise Conflict(_("%(path)s has no database to move.", path=instance), code="conflict")


def _refuse_unless_empty(url: str) -> None:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname")]
    if names:
        raise Conflict(_("The PostgreSQL database %(url)s already holds %(count)s tables (%(names)s): move the hub "
                         "into a new, empty database.", url=pg_pool.without_password(url), count=len(names),
                         names=", ".join(names[:3]) + (", …" if len(names) > 3 else "")), code="conflict")


def _locked(database_file: Path) -> sqlite3.Connection:
    """The file opened for reading only, with an exclusive lock held until it is closed. In WAL mode
    every open connection holds a shared lock on the file, so the lock is refused while the hub
    (or any other program) has it open, even idle."""
    conn = sqlite3.connect(database_file, isolation_level=None, timeout=0, check_same_thread=False)
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA query_only = ON")   # after the lock, which counts as a write
    except sqlite3.OperationalError:
        conn.close()
        raise Conflict(_("%(path)s is in use: stop the hub (and anything else that has its database open) before "
                         "moving it.", path=database_file), code="conflict") from None
    return conn


def _refuse_pending_migrations(source: sqlite3.Connection) -> None:
    """The file and its copy are compared table by table: they must be of this program's schema."""
    db = Database(source)
    pending = [f"{each.name}.{step.name}" for each in parts.MIGRATION_SETS for step in each.pending(db)]
    if pending:
        raise Conflict(_("The hub's database is older than this fieldsync (%(count)s updates pending): start the "
                         "hub once with this version, stop it, then move it.", count=len(pending)), code="conflict")


def copy_into(source: sqlite3.Connection, url: str, progress=None) -> dict[str, int]:
    """Every table of the file into the empty database at url, in one transaction: rows per table."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, **pg_pool.connect_options(url)) as conn:
            conn.execute("BEGIN")
            copied = pg_schema.copy_database(source, pg.PgDatabase(conn), progress=progress)
            conn.execute("COMMIT")   # an error above leaves the transaction open: closing rolls it back
    except (sqlite3.Error, psycopg.Error) as exc:
        raise Conflict(_("The copy failed, so nothing was kept in PostgreSQL and config.toml is unchanged: "
                         "%(reason)s", reason=str(exc).strip().splitlines()[0]), code="conflict") from None
    return copied


def compare(source: Database, target) -> list[str]:
    """What differs between the SQLite file and its PostgreSQL copy, one line each."""
    found = []
    for table in source.table_names():
        if table.startswith("sqlite_"):
            continue
        was, now = (db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for db in (source, target))
        if was != now:
            found.append(_("rows of %(table)s: %(was)s in the file, %(now)s in PostgreSQL", table=table, was=was, now=now))
    found += [_("next number of %(table)s: %(was)s in the file, %(now)s in PostgreSQL", table=table, was=was, now=now)
              for table, (was, now) in _next_numbers(source, target).items() if was != now]
    found += [_("%(what)s: not the same in the file and in PostgreSQL", what=_(what)) for what, sql in SYNC_STATE.items()
              if [tuple(row) for row in source.execute(sql).fetchall()]
              != [tuple(row) for row in target.execute(sql).fetchall()]]
    found += [_("report figures differ: %(where)s", where=line)
              for line in fingerprint.differences(fingerprint.figures(source), fingerprint.figures(target))]
    return found


def _next_numbers(source: Database, target) -> dict[str, tuple[int, int]]:
    """The number each AUTOINCREMENT table gives its next row, in the file and in the copy."""
    numbers = {}
    counted = dict(source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()) \
        if source["sqlite_sequence"].exists() else {}
    for (table,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                   " AND sql LIKE '%AUTOINCREMENT%' ORDER BY name").fetchall():
        last = counted.get(table, 0)
        column = target.native("SELECT column_name FROM information_schema.columns WHERE table_schema ="
                               " current_schema() AND table_name = %s AND is_identity = 'YES'", [table]).fetchone()[0]
        sequence = target.native("SELECT pg_get_serial_sequence(%s, %s)", [table, column]).fetchone()[0]
        value, called = target.native(f"SELECT last_value, is_called FROM {sequence}").fetchone()
        numbers[table] = (last + 1, value + 1 if called else value)
    return numbers
