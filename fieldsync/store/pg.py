"""A hub's database on PostgreSQL (decision 0300).

The program speaks to its database through the few calls sqlite-utils gives it (`execute`,
`executescript`, `query`, `db[table].insert/upsert/update`, `db.conn.execute/executemany`).
`PgDatabase` answers the same calls on a psycopg 3 connection, passing every statement
through `dialect.postgres`; its errors are raised as the sqlite3 errors the program already
handles. `PgStore` is the Store of such a database: reads take a pooled connection per
statement (store/pg_pool.py: a pool that outlives a server restart); a write is a transaction of
its own that first takes one advisory lock, so the writes of every thread and every hub process
run one at a time, as SQLite's one writer runs them, and an exactly-once push stays exactly once
across processes (the lock is the database's, not Python's).

A new PostgreSQL database is made by building the schema in an in-memory SQLite database from
the same migrations and copying it across (`copy_database`): the tables, their rows, indexes,
views and triggers. `fieldsync hub migrate-to` copies an existing hub the same way. Migrations
added later run on PostgreSQL through the same translation.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.store import dialect, pg_migrate, pg_pool, pg_schema
from fieldsync.store.db import IDLE_SECONDS, IdleTask, Shared, _in_savepoint, _unwrap
from fieldsync.store.pg_pool import check_database

log = logging.getLogger(__name__)
WRITER_LOCK = 0x6669656C64   # pg_advisory_xact_lock key every write takes ("field")
MIGRATION_LOCK = WRITER_LOCK + 1
AWAY_RETRY_SECONDS = 30      # idle work that found the server away tries again after this (as the pool does)


def _as_sqlite_error(exc: psycopg.Error) -> sqlite3.Error:
    kind = sqlite3.IntegrityError if isinstance(exc, psycopg.errors.IntegrityError) else sqlite3.OperationalError
    error = kind(str(exc).strip())
    error.sqlstate, error.unavailable = exc.sqlstate, pg_pool.unavailable(exc)
    return error


class Shape:
    """What the dialect needs of a table: its unique keys (primary first) and writable columns."""

    def __init__(self):
        self.keys: list[list[str]] = []
        self.columns: list[str] = []


_shapes: dict[str, Shape] = {}


def _load_shapes(conn: psycopg.Connection) -> None:
    """Read every table's keys and columns (every hub has the same schema; read once a process)."""
    found: dict[str, Shape] = {}
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND is_generated = 'NEVER' ORDER BY table_name, ordinal_position").fetchall():
        found.setdefault(table, Shape()).columns.append(column)
    for table, primary, columns in conn.execute(
            "SELECT c.relname, i.indisprimary, array_agg(a.attname ORDER BY k.n) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indrelid"
            " JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = current_schema()"
            " JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON TRUE"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
            " WHERE i.indisunique AND i.indpred IS NULL GROUP BY c.relname, i.indexrelid, i.indisprimary"
            " ORDER BY c.relname, i.indisprimary DESC, i.indexrelid").fetchall():
        if table in found:
            found[table].keys.append(list(columns))
    _shapes.clear()
    _shapes.update(found)


def shape_of(table: str) -> Shape | None:
    return _shapes.get(table.strip('"'))


def primary_key(table: str) -> list[str]:
    """The primary key columns of a table."""
    shape = shape_of(table)
    return shape.keys[0] if shape and shape.keys else []


class _Cursor:
    """What a sqlite3 cursor gives the program: rows as tuples, rowcount, description."""

    def __init__(self, rows: list[tuple] | None, description, rowcount: int):
        self._rows = rows or []
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = None

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def fetchall(self):
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self):
        return iter(self.fetchall())


_SELECT_LIST = re.compile(r"^(.*?)\bFROM\b", re.IGNORECASE | re.DOTALL)
_ROWID = re.compile(r"\browid\b", re.IGNORECASE)


def _without_hidden_rowid(text: str, rows: list[tuple], description, rowcount: int) -> _Cursor:
    """SQLite's rowid is hidden: `SELECT *` leaves it out, so a row read whole and sent on (a
    record on the wire, a form's fields) never carries it. PostgreSQL's rowid column (ddl.py) is
    a column like any other, so it is dropped from the answer unless the select list names it."""
    hidden = [i for i, column in enumerate(description) if column.name == "rowid"]
    if hidden:
        head = _SELECT_LIST.match(text)
        if not _ROWID.search(head.group(1) if head else text):
            kept = [i for i in range(len(description)) if i not in hidden]
            rows = [tuple(row[i] for i in kept) for row in rows]
            description = [description[i] for i in kept]
    return _Cursor(rows, description, rowcount)


class _Connection:
    """db.conn: execute and executemany as sqlite3's connection has them."""

    def __init__(self, db: PgDatabase):
        self._db = db

    def execute(self, sql: str, params=()):
        return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Iterable]):
        return self._db.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def close(self) -> None:
        pass


_PLAIN_INSERT = re.compile(r"\s*INSERT\s+INTO\s+(\w+)\s*\(([^()]*)\)\s*VALUES\s*\(\s*\?(?:\s*,\s*\?)*\s*\)\s*$", re.IGNORECASE)


class PgDatabase:
    """sqlite-utils' Database, as much of it as the program uses, on one PostgreSQL connection
    (or on the store's pool, a connection per statement, when `conn` is None)."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection | None, pool: ConnectionPool | None = None, name: str = ""):
        self._conn, self._pool, self.name = conn, pool, name
        self.conn = _Connection(self)

    def _run(self, work: Callable[[psycopg.Connection], Any]) -> Any:
        try:
            if self._conn is not None:
                return work(self._conn)
            return pg_pool.pooled(self._pool, work)
        except psycopg.Error as exc:
            raise _as_sqlite_error(exc) from exc

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and self._conn.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params=None) -> _Cursor:
        """Run a statement written for SQLite (DDL too: a migration's CREATE TABLE or TRIGGER,
        ALTER TABLE … ADD, DROP TRIGGER, as executescript runs them)."""
        head = sql.lstrip()[:14].upper()
        if head.startswith(("CREATE TABLE", "CREATE TRIGGER", "CREATE TEMP", "ALTER TABLE", "DROP TRIGGER")):
            if params:
                raise ValueError("DDL takes no parameters")
            self.executescript(sql)
            return _Cursor(None, None, -1)
        values = params if isinstance(params, dict) else list(params) if params is not None else []
        return self.native(dialect.postgres(sql, shape_of=shape_of), values)

    def native(self, text: str, values=None) -> _Cursor:
        """Run a statement written for PostgreSQL (values None: no parameters, `%` is itself)."""

        read = self._conn is None and pg_pool.is_read(text)   # a read on a cut connection runs again

        def run(conn):
            cur = pg_pool.first(conn, text, values) if read else conn.execute(text, values)
            if not cur.description:
                return _Cursor(None, None, cur.rowcount)
            return _without_hidden_rowid(text, cur.fetchall(), cur.description, cur.rowcount)
        return self._run(run)

    def executemany(self, sql: str, rows: Iterable[Iterable]) -> _Cursor:
        plain = _PLAIN_INSERT.match(sql)
        if plain:   # a bulk insert: COPY, many times faster than INSERTs one by one
            table, columns = plain.group(1), plain.group(2)

            def copy(conn):
                count = 0
                with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as out:
                    for row in rows:
                        out.write_row(row)
                        count += 1
                return _Cursor(None, None, count)
            return self._run(copy)
        text = dialect.postgres(sql, shape_of=shape_of)

        def many(conn):
            cur = conn.cursor()
            cur.executemany(text, [list(r) for r in rows])
            return _Cursor(None, None, cur.rowcount)
        return self._run(many)

    def executescript(self, sql: str) -> None:
        for statement in pg_schema.schema_statements(sql):
            self.native(statement)

    def query(self, sql: str, params=None):
        cursor = self.execute(sql, params)
        names = [c.name for c in cursor.description or ()]
        yield from (dict(zip(names, row)) for row in cursor.fetchall())

    def __getitem__(self, name: str) -> _Table:
        return _Table(self, name)

    def close(self) -> None:
        pass


class _Table:
    """db[table]: insert, insert_all, upsert, upsert_all, update: what sqlite-utils' Table does."""

    def __init__(self, db: PgDatabase, name: str):
        self.db, self.name = db, name
        self.last_pk = None

    def insert(self, row: dict, **kwargs) -> _Table:
        return self.insert_all([row], **kwargs)

    def insert_all(self, rows: Iterable[dict], *, pk=None, ignore: bool = False, replace: bool = False,
                   **_) -> _Table:
        """last_pk, as sqlite-utils has it: the last inserted row's key (its rowid where the table
        has no key of its own; a tuple for a key of several columns; None when ignored)."""
        key = [pk] if isinstance(pk, str) else list(pk or primary_key(self.name) or ["rowid"])
        for row in rows:
            names = list(row)
            verb = "INSERT OR IGNORE" if ignore else "INSERT OR REPLACE" if replace else "INSERT"
            found = self.db.execute(f"{verb} INTO {self.name} ({', '.join(names)})"
                                    f" VALUES ({', '.join('?' * len(names))}) RETURNING {', '.join(key)}",
                                    [row[n] for n in names]).fetchone()
            self.last_pk = None if found is None else found[0] if len(key) == 1 else tuple(found)
        return self

    def upsert(self, row: dict, *, pk=None, **_) -> _Table:
        return self.upsert_all([row], pk=pk)

    def upsert_all(self, rows: Iterable[dict], *, pk=None, **_) -> _Table:
        key = [pk] if isinstance(pk, str) else list(pk or primary_key(self.name))
        for row in rows:
            names = list(row)
            sets = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n not in key)
            self.db.execute(f"INSERT INTO {self.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
                            f" ON CONFLICT ({', '.join(key)}) DO " + (f"UPDATE SET {sets}" if sets else "NOTHING"),
                            [row[n] for n in names])
        return self

    def update(self, pk_values, updates: dict | None = None, **_) -> _Table:
        key = primary_key(self.name)
        values = pk_values if isinstance(pk_values, (list, tuple)) else [pk_values]
        if updates:
            self.db.execute(f"UPDATE {self.name} SET {', '.join(f'{n} = ?' for n in updates)}"
                            f" WHERE {' AND '.join(f'{k} = ?' for k in key)}", [*updates.values(), *values])
        return self


# -- the store ---------------------------------------------------------------------------------

class PgStore(Shared):
    """The instance database on PostgreSQL: pooled readers, writes one at a time across processes."""

    def __init__(self, url: str, path: str | Path, *, migrations: Sequence[Migrations], hub: bool = True,
                 pool_size: int = 16):
        self.url = url
        self.path = Path(path)   # the instance folder's database path: keys live beside it
        self.path.parent.mkdir(parents=True, exist_ok=True)
        check_database(url)
        self.pool = pg_pool.open_pool(url, pool_size)
        self._local = threading.local()
        # Writers queue here, not on the advisory lock with a pooled connection each: they would
        # leave none for the reads of the write whose turn it is.
        self._turn = threading.Lock()
        self._idle_tasks: list[IdleTask] = []
        self._idle_wanted = threading.Event()
        self._closed = False
        try:
            with self.pool.connection() as conn:
                pg_migrate.migrate(PgDatabase(conn), migrations, MIGRATION_LOCK, _roll_back)
                _load_shapes(conn)
        except psycopg.Error as exc:
            self.pool.close()
            raise _as_sqlite_error(exc) from exc
        self._reader = PgDatabase(None, self.pool, name=url)
        self._start_clock()
        self._idle = threading.Thread(target=self._run_idle, name="fieldsync-idle", daemon=True)
        self._idle.start()

    @property
    def db(self) -> PgDatabase:
        return self._reader

    def own_reader(self) -> PgDatabase:   # as Store.own_reader: the pooled reader serves any thread
        return self._reader

    def write(self, work: Callable[[Database], Any]) -> Any:
        """Run work(db) in a transaction of its own, after every other write of every process
        (one advisory lock); return once it is committed. A write inside a write joins it."""
        if self._closed:
            raise RuntimeError("store is closed")
        db = getattr(self._local, "writing", None)
        if db is not None:
            return _in_savepoint(db, work)
        try:
            with self._turn:
                result = pg_pool.pooled(self.pool, lambda conn: self._transaction(conn, work))
        except psycopg.Error as exc:   # the lock, the commit, a lost connection, no connection in time
            raise _as_sqlite_error(exc) from exc
        if not getattr(self._local, "idle", False):   # the idle work's own writes are not new work
            self._idle_wanted.set()
        return result

    def _transaction(self, conn: psycopg.Connection, work: Callable[[Database], Any]) -> Any:
        # READ COMMITTED whatever the database's default: each statement after the lock then sees
        # what the write before committed; a repeatable-read snapshot would be taken by the lock
        # statement itself, before that write's commit (a batch not seen, a 500). A connection the
        # server cut is swapped here, before anything is done.
        pg_pool.first(conn, "BEGIN ISOLATION LEVEL READ COMMITTED")
        db = PgDatabase(conn, name=self.url)
        self._local.writing = db
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITER_LOCK])
            result = work(db)
            conn.execute("COMMIT")
            return result
        except BaseException:
            _roll_back(conn)
            raise
        finally:
            self._local.writing = None

    def write_many(self, handler, item: Any) -> Any:
        return self.write(lambda db: _unwrap(handler(self, db, [item])[0]))

    def when_idle(self, task: IdleTask, wanted: bool = True) -> None:
        tasks = [t for t in self._idle_tasks if t != task]
        self._idle_tasks = [*tasks, task] if wanted else tasks
        if wanted:
            self._idle_wanted.set()

    def _run_idle(self) -> None:
        """Run the idle tasks once writes have paused for IDLE_SECONDS, while they have more to do."""
        self._local.idle = True
        while not self._closed:
            if not self._idle_wanted.wait(timeout=1.0):
                continue
            self._idle_wanted.clear()
            time.sleep(IDLE_SECONDS)
            if self._idle_wanted.is_set() or self._closed:
                continue   # written again meanwhile: wait for the quiet
            if self._others_writing():
                self._idle_wanted.set()   # another hub process is busy: look again after a quiet spell
                continue
            away = None
            for task in list(self._idle_tasks):
                try:
                    while not self._closed and self.write(task) and not self._idle_wanted.is_set() \
                            and not self._others_writing():
                        pass
                except Exception as exc:
                    if getattr(exc, "unavailable", False):   # the server is away: a line, not a traceback
                        away = exc
                        break
                    if not self._closed:
                        log.exception("idle work %r failed", task)
            self._idle_wanted.clear()
            if away is not None and not self._closed:   # again once the pool may reach the server
                log.warning("idle work waits for the database: %s", away)
                self._idle_wanted.wait(timeout=AWAY_RETRY_SECONDS)
                self._idle_wanted.set()

    def _others_writing(self) -> bool:
        """Whether a write holds or waits for the writer lock: another hub process on this database
        taking pushes (this process's own writes set _idle_wanted). Idle work then waits, as it
        waits for this process's writes, instead of holding the lock between their batches."""
        try:
            with self.pool.connection() as conn:
                return conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND (classid::bigint << 32 | objid::bigint) = %s)", [WRITER_LOCK]).fetchone()[0]
        except psycopg.Error:
            return False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._idle_wanted.set()
        self._idle.join(timeout=30)
        self.pool.close()


def _roll_back(conn: psycopg.Connection) -> None:
    if conn.broken or conn.closed:
        return   # the server has rolled it back already
    try:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
    except psycopg.Error:
        log.exception("rollback failed")
