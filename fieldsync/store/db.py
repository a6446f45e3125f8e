"""Open the instance database and write to it through one group-committing writer.

Every acknowledged write must survive power loss (DESIGN §3), so the database
runs in WAL mode with synchronous=FULL: each COMMIT waits for an fsync. One
fsync per scan caps a laptop at a few hundred scans a second, so writes go
through a single writer thread that runs every write queued meanwhile, each in
its own SAVEPOINT, and commits them together. A caller returns only after the
COMMIT that holds its write: group commit, as in PostgreSQL and InnoDB. One
failing write rolls back to its savepoint and fails alone.

The hottest write, a scan, goes further (`write_many`): the writer hands every
scan queued meanwhile to one handler, which reads and writes them with a few
statements for the whole group. Each sqlite3 call gives up the GIL, and with
fifty request threads waiting for it, getting it back is what a call costs;
statements per group, not per scan, is what lets one core keep up (decision 0004).

Work that can wait (folding synced check-ins into the report rollups) is handed to
`when_idle`: the writer does it in transactions of its own once nothing has been
queued for IDLE_SECONDS, a chunk at a time, so it never stands between a caller and
its commit (decision 0016). A hub's writer also leaves the WAL checkpoint to those
quiet moments, and keeps a page cache big enough for a merged block.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from ulid import ULID

from fieldsync import i18n
from fieldsync.store.hlc import HLC

MAX_GROUP = 256
_WAKE = ("wake",)    # queued to end the writer's wait without work (when_idle)
IDLE_SECONDS = 0.2   # quiet this long before the writer does the work that can wait
# A hub's writer (decision 0016): a merged block's pages stay in memory for the whole
# transaction instead of spilling into the WAL and being read back, and the WAL is copied
# into the database when the writer is idle, or once it holds HUB_WAL_PAGES, instead of
# every ~1,000 pages: a page rewritten by several blocks is then copied once.
HUB_CACHE_KIB = 64 * 1024
HUB_WAL_PAGES = 16_384            # 64 MB of 4 KiB pages
HUB_WAL_KEPT_BYTES = 64 * 1024 * 1024   # the WAL file is cut back to this after a checkpoint
# handler(db) -> True while it has more to do; it runs in a transaction of its own
IdleTask = Callable[[Database], bool]
log = logging.getLogger(__name__)
# handler(store, db, items) -> one result per item; a result that is an exception is raised to its caller
BatchHandler = Callable[["Store", Database, list], list]


def new_id() -> str:
    """A ULID as 26 characters: time-ordered, made offline, unique across laptops."""
    return str(ULID())


def last_clock_sync(db: Database) -> tuple[int, int]:
    """(how many syncs measured the hub's clock, the offset the last one found), as any process
    syncing this database stored them (sync/upstream/node.py)."""
    row = db.execute("SELECT clock_syncs, clock_offset_ms FROM sync_state WHERE peer = 'hub'").fetchone()
    return (row[0], row[1]) if row else (0, 0)


def keep_private(path: Path) -> None:
    """The database holds people's names and phones: only its owner may read it. SQLite gives
    the -wal, -shm and journal files the database file's mode, so a file made 0600 before
    SQLite first opens it covers them too; an older, looser instance is tightened."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if os.name != "posix":
        return   # Windows: the per-user folder's ACL guards it; chmod cannot
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if each.exists() and each.stat().st_mode & 0o077:
            each.chmod(0o600)


def connect(path: str | Path, *, synchronous: str = "FULL") -> Database:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Deleted rows (pruned outbox payloads, erased people) are overwritten, not left in free
    # pages: some SQLite builds do this by default, the one in Python for Windows does not.
    conn.execute("PRAGMA secure_delete = ON")
    return Database(conn, execute_plugins=False)


class Shared:
    """What a store is on either backend (a SQLite file here, PostgreSQL in store/pg.py): its
    identity and clock, meta values, short-lived memories, dict-shaped reads."""

    path: Path
    db: Database

    def write(self, work: Callable[[Database], Any]) -> Any:
        raise NotImplementedError

    def _start_clock(self, db: Database | None = None) -> None:
        db = db or self.db
        self._recent: dict[str, Recent] = {}
        self.node_id = self.get_meta("node_id", db=db)
        last = db.execute("SELECT MAX(hlc) FROM changes").fetchone()[0]
        seen, offset = last_clock_sync(db)
        self.hlc = HLC(self.node_id, offset_ms=offset, last=last)
        self.hlc.follow(lambda: last_clock_sync(self.db), seen)

    def get_meta(self, key: str, default: str | None = None, *, db: Database | None = None) -> str | None:
        row = (db or self.db).execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        self.write(lambda db: db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value]))

    def recent(self, name: str, seconds: float = 2.0) -> Recent:
        """A short-lived memory of answers read from this database (see Recent)."""
        memory = self._recent.get(name)
        if memory is None:
            memory = self._recent.setdefault(name, Recent(seconds))
        return memory

    def query(self, sql: str, params=()) -> list[dict]:
        # Straight to the connection: the check-in path reads on every scan, and
        # sqlite-utils' query() wraps each read in a savepoint of its own.
        cursor = self.db.conn.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def query_one(self, sql: str, params=()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Store(Shared):
    """The instance database: parallel readers, one group-committing writer."""

    def __init__(self, path: str | Path, *, migrate: Callable[[Database], None], hub: bool = False):
        """Open (and create) the database at path and bring it up to date with migrate(db), which
        the program's assembly passes down (fieldsync/parts.py: open_store)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keep_private(self.path)
        self._writer_db = connect(self.path)
        self._checkpoint_when_idle = hub
        if hub:
            for pragma in (f"cache_size = -{HUB_CACHE_KIB}", f"wal_autocheckpoint = {HUB_WAL_PAGES}",
                           f"journal_size_limit = {HUB_WAL_KEPT_BYTES}"):
                self._writer_db.conn.execute(f"PRAGMA {pragma}")
        migrate(self._writer_db)
        self._start_clock(self._writer_db)
        self._local = threading.local()
        self._readers: list[Database] = []
        self._readers_lock = threading.Lock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._idle_tasks: list[IdleTask] = []
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

    def own_reader(self) -> Database:
        """A read connection of its own, for a thread that reads a lot and closes it (`.conn`)."""
        return connect(self.path)

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
        self._queue.put((None, i18n.speaking(i18n.language(), work), future))   # messages in our language
        return future.result()

    def write_many(self, handler: BatchHandler, item: Any) -> Any:
        """Queue item for handler(store, db, items) and return its result once committed.

        The writer gives the handler every item for it queued meanwhile, in queue
        order, in one call. If that call raises, each item is run again alone, so
        one bad item fails alone, as with write().
        """
        if self._closed:
            raise RuntimeError("store is closed")
        if threading.current_thread() is self._thread:
            return _unwrap(_in_savepoint(self._writer_db, lambda db: handler(self, db, [item]))[0])
        future: Future = Future()
        self._queue.put((handler, item, future))
        return future.result()

    def when_idle(self, task: IdleTask, wanted: bool = True) -> None:
        """Have the writer run task(db) when nothing has been queued for IDLE_SECONDS, each time in
        a transaction of its own, again at once while it returns True and nothing is queued; or,
        wanted False, no longer. Its first run is at the writer's first quiet moment; after that,
        after each quiet moment that follows a write. A task that raises is logged and waits for
        the next write."""
        tasks = [t for t in self._idle_tasks if t != task]
        self._idle_tasks = [*tasks, task] if wanted else tasks
        if wanted:
            self._queue.put(_WAKE)   # the writer may be waiting with no idle work to time out for

    def _run(self) -> None:
        db = self._writer_db
        idle_due, wait = True, IDLE_SECONDS   # idle work may be waiting: from before this process
        while True:
            try:
                quiet_work = self._idle_tasks or self._checkpoint_when_idle
                item = self._queue.get(timeout=wait) if idle_due and quiet_work else self._queue.get()
            except queue.Empty:
                idle_due = self._run_idle(db)
                wait = 0   # more to do and still quiet: go on at once, a chunk at a time
                continue
            idle_due, wait = True, IDLE_SECONDS
            if item is _WAKE:
                continue
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
                if nxt is not _WAKE:
                    group.append(nxt)
            self._commit_group(db, group)

    def _run_idle(self, db: Database) -> bool:
        """Run each idle task once; True if one of them has more to do. Then, once none has,
        checkpoint a hub's WAL."""
        more = False
        for task in list(self._idle_tasks):
            future: Future = Future()
            self._commit_group(db, [(None, task, future)])
            if future.exception() is not None:
                log.error("idle work %r failed", task, exc_info=future.exception())
                continue
            more = more or bool(future.result())
        if not more and self._checkpoint_when_idle:
            try:
                # PASSIVE: readers go on; what they still read is copied at the next quiet moment.
                db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                log.exception("WAL checkpoint failed")
        return more

    def _commit_group(self, db: Database, group: list) -> None:
        outcomes: list[tuple[Future, Any]] = []   # a result, or _Failed with the exception to raise
        try:
            db.conn.execute("BEGIN IMMEDIATE")
            for handler, items, futures in _runs(group):
                outcomes.extend(zip(futures, self._apply(db, handler, items)))
            db.conn.execute("COMMIT")
        except BaseException as exc:  # noqa: BLE001 -- the COMMIT failed: every caller in the group gets it
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            for _, _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, value in outcomes:
            if isinstance(value, _Failed):
                future.set_exception(value.error)
            else:
                future.set_result(value)

    def _apply(self, db: Database, handler: BatchHandler | None, items: list) -> list:
        """Results (or _Failed) of one run of the group: plain writes one by one, a batch in one call."""
        if handler is None:
            return [_outcome(db, work) for work in items]
        if len(items) > 1:
            results = _outcome(db, lambda d: handler(self, d, items))
            if not isinstance(results, _Failed):
                return [_Failed(r) if isinstance(r, BaseException) else r for r in results]
            # Something in the batch failed as a whole: each item runs again alone to find it.
        return [_outcome(db, lambda d, item=item: _unwrap(handler(self, d, [item])[0])) for item in items]

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


SQLITE_MAX_VARIABLES = 32766


def insert_rows(db: Database, table: str, columns: tuple[str, ...], rows: list[tuple]) -> int | None:
    """INSERT many rows with one statement per 32,766 values (SQLite's limit on ? marks);
    returns the rowid of the last row.

    One statement, not executemany: executemany steps (and gives up the GIL) once per
    row, and on the writer thread each of those is a wait behind the request threads.
    """
    per_statement = SQLITE_MAX_VARIABLES // len(columns)
    row_marks = "(" + ", ".join("?" * len(columns)) + ")"
    last = None
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        last = db.conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row_marks] * len(chunk))}",
            [value for row in chunk for value in row]).lastrowid
    return last


class Recent:
    """Answers read from the database, kept for a few seconds (a station's token, a
    badge key): the request threads of a busy kiosk then make no SQLite call of their
    own. The code that changes such a row in this process clears the memory; a change
    made by another process is seen within `seconds`. Nothing decisive is kept here:
    the writer reads what it decides on in its own transaction.
    """

    LIMIT = 4096

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._items: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if len(self._items) >= self.LIMIT:
            self._items.clear()
        self._items[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        self._items.clear()


def _runs(group: list) -> list[tuple[BatchHandler | None, list, list[Future]]]:
    """Cut the group, in order, into runs of the same handler (None: plain writes)."""
    runs: list[tuple[BatchHandler | None, list, list[Future]]] = []
    for handler, item, future in group:
        if runs and runs[-1][0] is handler:
            runs[-1][1].append(item)
            runs[-1][2].append(future)
        else:
            runs.append((handler, [item], [future]))
    return runs


class _Failed:
    """What a write raised, kept apart from what a write returns (which may be an exception object)."""
    __slots__ = ("error",)

    def __init__(self, error: BaseException):
        self.error = error


def _outcome(db: Database, work: Callable[[Database], Any]) -> Any:
    """work's result in its own savepoint, or _Failed with the exception it raised (its caller
    re-raises it)."""
    try:
        return _in_savepoint(db, work)
    except BaseException as exc:  # noqa: BLE001 -- one bad write fails alone
        return _Failed(exc)


def _unwrap(value: Any) -> Any:
    """A batch handler's result for one item: an exception stands for that item's failure."""
    if isinstance(value, BaseException):
        raise value
    return value


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
