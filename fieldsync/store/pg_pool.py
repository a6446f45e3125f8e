"""Connections to a hub's PostgreSQL database (decisions 0300, 0360): whether a database will do
(`check_database`), and a pool whose connections outlive a server restart.

psycopg_pool hands out the connections it holds without asking the server first: after a
restart (or a failover, or an administrator ending sessions) every idle one is dead, and each
would fail the next request that takes it. Checking every connection before each statement
costs a round trip per statement; instead a statement whose connection turns out to have been
cut *before it changed anything* (a SELECT, or the BEGIN of a write) runs once more on a fresh
connection, after the pool has dropped its other dead ones. A connection lost in the middle of
a write is not retried: the write is rolled back by the server and the caller gets the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg_pool import ConnectionPool

from fieldsync.errors import BadRequest
from fieldsync.i18n import _

MIN_SERVER_VERSION = 140000   # SQL-standard function bodies (pg_functions.sql, decision 0450)
CONNECT_TIMEOUT = 10   # seconds to reach the server, unless the address sets connect_timeout
# Settings of every session: times in UTC, as the program reads and writes them; and random reads
# costed as on the SSD or cache a hub's indexes live on (1.1, as PostgreSQL's manual suggests for
# such storage, against its default 4 for spinning disks): with 4 the planner read the whole
# checkins table to find one batch's sessions, 38 ms against 3 ms at 200,000 check-ins and
# growing with the table (decision 0450). An address's own `options` come after, so they win.
SESSION = "-c TimeZone=UTC -c random_page_cost=1.1"


def connect_options(url: str) -> dict:
    """What every connection to the hub's database adds to its address: the session's settings,
    a bounded wait to connect, and TCP keepalives, so a server gone silent ends a statement in an
    error rather than holding a request (and the writer's lock) for ever."""
    given = psycopg.conninfo.conninfo_to_dict(url)
    options = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
               "options": f"{SESSION} {given.get('options') or ''}".strip()}
    if "connect_timeout" not in given:
        options["connect_timeout"] = CONNECT_TIMEOUT
    return options


class _BoolAsInteger(Dumper):
    """Python booleans as 1 and 0: the program stores truth in INTEGER columns, as SQLite does."""
    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj):
        return b"1" if obj else b"0"


class _Number(Loader):
    """NUMERIC (what SUM of integers and AVG give) as int when it is whole, else float: as SQLite gives."""

    def load(self, data):
        text = bytes(data).decode()
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


class _TruthAsInteger(Loader):
    """A comparison's truth (`SELECT a = b`, `p.id IS NULL`) as 1 or 0, as SQLite gives it: the
    same in a page, a JSON answer or an export."""

    def load(self, data):
        return 1 if bytes(data) == b"t" else 0


def configure(conn: psycopg.Connection) -> None:
    """Values as SQLite gives and takes them, on every pooled connection."""
    conn.adapters.register_dumper(bool, _BoolAsInteger)
    conn.adapters.register_loader("numeric", _Number)
    conn.adapters.register_loader("bool", _TruthAsInteger)


def open_pool(url: str, size: int) -> ConnectionPool:
    """The pool; a caller waits for a connection as long as one takes to connect, then gets
    PoolTimeout (`unavailable`), not a request held for the pool's default half minute."""
    given = float(psycopg.conninfo.conninfo_to_dict(url).get("connect_timeout", CONNECT_TIMEOUT))
    return ConnectionPool(url, min_size=1, max_size=size, configure=configure, open=True, name="fieldsync",
                          timeout=given if given > 0 else 30.0,   # 0: the address says wait for ever
                          # a server down for long: the pool's reconnection waits double each time;
                          # given up after half a minute, the next request starts them again at 1 s
                          reconnect_timeout=30.0,
                          kwargs={"autocommit": True, **connect_options(url)})


# What a server that cannot be reached, or is going away, answers: connection exceptions (08),
# shutting down or starting (57P01-3), too many connections (53300). A failure to connect at all,
# or no pooled connection in time (PoolTimeout), carries no SQLSTATE.
_UNAVAILABLE = ("08", "57P01", "57P02", "57P03", "53300")


def unavailable(exc: psycopg.Error) -> bool:
    """Whether exc says the database cannot be reached just now (ask again later), not that the
    statement is wrong: the hub answers it 503 database_unavailable with a Retry-After."""
    return isinstance(exc, psycopg.OperationalError) and (exc.sqlstate is None or exc.sqlstate.startswith(_UNAVAILABLE))


class Cut(Exception):
    """The connection had been cut before a statement that changes nothing reached the server."""


def first(conn: psycopg.Connection, text: str, values=None) -> psycopg.Cursor:
    """Run a statement that changes nothing (a read, BEGIN); Cut if the connection was dead."""
    try:
        return conn.execute(text, values)
    except psycopg.OperationalError as exc:
        if conn.broken or conn.closed:
            raise Cut from exc
        raise


def pooled(pool: ConnectionPool, work: Callable[[psycopg.Connection], Any]) -> Any:
    """work(conn) on a pooled connection; once more on a fresh one when it raises Cut."""
    try:
        with pool.connection() as conn:
            return work(conn)
    except Cut:
        pool.check()   # a restart leaves every idle connection dead: drop them all at once
    with pool.connection() as conn:
        try:
            return work(conn)
        except Cut as cut:
            raise cut.__cause__ from None


def is_read(text: str) -> bool:
    """Whether a statement only reads (so running it again cannot do anything twice)."""
    return text.lstrip()[:6].upper() == "SELECT"


def check_database(url: str) -> None:
    """Refuse, in words, a database that cannot be reached, a server older than 14 (our functions'
    SQL-standard bodies, decision 0450), or a database that does not sort and fold text as
    SQLite does (collation and character type C: by code point, ASCII case only, as report
    orders, text keys and LIKE expect)."""
    try:
        with psycopg.connect(url, **connect_options(url)) as conn:
            collation, ctype, encoding = conn.execute(
                "SELECT datcollate, datctype, pg_encoding_to_char(encoding) FROM pg_database"
                " WHERE datname = current_database()").fetchone()
            version = conn.info.server_version
    except psycopg.Error as exc:
        raise BadRequest(_("Cannot open the PostgreSQL database %(url)s: %(reason)s",
                           url=without_password(url), reason=str(exc).strip().splitlines()[0]),
                         code="bad_setting") from None
    if version < MIN_SERVER_VERSION:
        raise BadRequest(_("The PostgreSQL server is version %(version)s; a hub needs PostgreSQL 14 or later.",
                           version=f"{version // 10000}.{version % 10000}"), code="bad_setting")
    wrong = next((name for name in (collation, ctype) if name not in ("C", "POSIX")), None)
    if wrong or encoding != "UTF8":
        raise BadRequest(_("The PostgreSQL database must use UTF8 and the C collation (it has %(encoding)s and "
                           "%(collation)s). Create it with: createdb -T template0 -E UTF8 --locale=C NAME",
                           encoding=encoding, collation=wrong or collation), code="bad_setting")


def without_password(url: str) -> str:
    """The address as it may be shown: a password in it, before the host or as a parameter, masked."""
    url = re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)
