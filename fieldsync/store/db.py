"""Open the instance database and write to it through one group-committing writer.

Every acknowledged write must survive power loss (DESIGN §3), so the database
runs in WAL mode with synchronous=FULL: each COMMIT waits for an fsync. One
fsync per scan caps a laptop at a few hundred scans a second, so writes go
through a single writer thread that runs every write queued meanwhile, each in
its own SAVEPOINT, and commits them together. A caller returns only after the
COMMIT that holds its write: group commit, as in PostgreSQL and InnoDB. One
failing write rolls back to its savepoint and fails alone.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from ulid import ULID

from fieldsync.store.hlc import HLC

MAX_GROUP = 256


def new_id() -> str:
    """A ULID as 26 characters: time-ordered, made offline, unique across laptops."""
    return str(ULID())


def connect(path: str | Path, *, synchronous: str = "FULL") -> Database:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    return Database(conn, execute_plugins=False)


class Store:
    """The instance database: parallel readers, one group-committing writer."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer_db = connect(self.path)
        from fieldsync.store.schema import migrate

        migrate(self._writer_db)
        self.node_id = self.get_meta("node_id", db=self._writer_db)
        last = self._writer_db.execute("SELECT MAX(hlc) FROM changes").fetchone()[0]
        offset = self._writer_db.execute("SELECT MAX(clock_offset_ms) FROM sync_state").fetchone()[0]
        self.hlc = HLC(self.node_id, offset_ms=offset or 0, last=last)
        self._local = threading.local()
        self._readers: list[Database] = []
        self._readers_lock = threading.Lock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="fieldsync-writer", daemon=True)
        self._thread.start()

    # -- reading -------------------------------------------------------------
    @property
    def db(self) -> Database:
        """A read connection for this thread (WAL lets readers run beside the writer)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
            with self._readers_lock:
                self._readers.append(db)
        return db

    def get_meta(self, key: str, default: str | None = None, *, db: Database | None = None) -> str | None:
        row = (db or self.db).execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        self.write(lambda db: db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value]))

    def query(self, sql: str, params=()) -> list[dict]:
        # Straight to sqlite3: the check-in path reads on every scan, and
        # sqlite-utils' query() wraps each read in a savepoint of its own.
        cursor = self.db.conn.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def query_one(self, sql: str, params=()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    # -- writing -------------------------------------------------------------
    def write(self, work: Callable[[Database], Any]) -> Any:
        """Run work(db) in a transaction; return once it is durably committed.

        work runs on the writer thread with the writer connection. It may be
        retried never; it must not keep the db object.
        """
        if self._closed:
            raise RuntimeError("store is closed")
        if threading.current_thread() is self._thread:
            # A write inside a write: join the transaction already open.
            return _in_savepoint(self._writer_db, work)
        future: Future = Future()
        self._queue.put((work, future))
        return future.result()

    def _run(self) -> None:
        db = self._writer_db
        while True:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                group.append(nxt)
            self._commit_group(db, group)

    @staticmethod
    def _commit_group(db: Database, group: list) -> None:
        outcomes = []
        try:
            db.conn.execute("BEGIN IMMEDIATE")
            for work, future in group:
                try:
                    outcomes.append((future, True, _in_savepoint(db, work)))
                except BaseException as exc:  # noqa: BLE001 -- one bad write fails alone; its caller re-raises it
                    outcomes.append((future, False, exc))
            db.conn.execute("COMMIT")
        except BaseException as exc:  # noqa: BLE001 -- the COMMIT failed: every caller in the group gets it
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)
        self._writer_db.close()
        with self._readers_lock:
            for db in self._readers:
                try:
                    db.close()
                except sqlite3.ProgrammingError:
                    pass
            self._readers.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _in_savepoint(db: Database, work: Callable[[Database], Any]) -> Any:
    db.conn.execute("SAVEPOINT w")
    try:
        result = work(db)
    except BaseException:
        db.conn.execute("ROLLBACK TO w")
        db.conn.execute("RELEASE w")
        raise
    db.conn.execute("RELEASE w")
    return result
