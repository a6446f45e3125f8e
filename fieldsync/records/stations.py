"""Stations: named phones or tablets that scan for this laptop without a password.

Staff create a station and hand it a long random token through a join QR. The
laptop keeps only a SHA-256 of the token, so a copied database does not let
anyone scan. A station may be tied to one session; revoking it makes its
token worthless at once. Stations are local to the laptop and never synced.

A token expires by itself: after the lifetime staff chose when they made it, else
two hours after its session ends, else (a station for any session) after a
working day. A phone left behind at a venue stops scanning on its own.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, time, timedelta

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.errors import Conflict, NotFound
from fieldsync.i18n import _
from fieldsync.store import Store, clock, new_id
from fieldsync.store.clock import utc_now

migrations = Migrations("stations")


@migrations()
def m001_stations(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE stations (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            session_id TEXT,            -- NULL: the station may scan for any session
            created_by TEXT,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        -- Names tell stations apart in check-in rows: unique among live ones.
        CREATE UNIQUE INDEX stations_live_name ON stations(name) WHERE revoked_at IS NULL;
        """
    )


@migrations()
def m002_station_expiry(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE stations ADD COLUMN lifetime_minutes INTEGER;   -- NULL: until the session ends
        ALTER TABLE stations ADD COLUMN token_at TEXT;              -- when the current token was made
        UPDATE stations SET token_at = created_at;
        """
    )


GRACE = timedelta(hours=2)           # after the session's end: the last scans out, the forms
ANY_SESSION = timedelta(hours=12)    # a station for any session: one working day
LIFETIMES_HOURS = (1, 4, 12, 24, 72)  # what staff may choose instead

# The station with what its expiry depends on: its tied session's times.
COLUMNS = ("st.id, st.name, st.session_id, st.created_by, st.created_at, st.revoked_at, st.lifetime_minutes,"
           " st.token_at, se.starts_at AS session_starts_at, se.ends_at AS session_ends_at")
FROM = " FROM stations st LEFT JOIN sessions se ON se.id = st.session_id"


TOKENS = "station_tokens"


def _changed(store: Store, work) -> None:
    store.write(work)
    store.recent(TOKENS).clear()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(store: Store, name: str, *, session_id: str | None = None, lifetime_hours: int | None = None,
           actor: str | None = None) -> tuple[dict, str]:
    """A new station and its token (shown once: only the hash is kept)."""
    if store.query_one("SELECT 1 FROM stations WHERE name = ? AND revoked_at IS NULL", [name]):
        raise Conflict(_("A station named %(name)s already exists; pick another name or revoke it first.", name=name),
                       code="station_exists", fields={"name": [_("Already in use.")]})
    token = secrets.token_urlsafe(32)
    now = utc_now()
    row = {"id": new_id(), "name": name, "token_hash": _hash(token), "session_id": session_id,
           "created_by": actor, "created_at": now, "revoked_at": None, "token_at": now,
           "lifetime_minutes": lifetime_hours * 60 if lifetime_hours else None}
    _changed(store, lambda db: db["stations"].insert(row))
    return {k: v for k, v in row.items() if k != "token_hash"}, token


def new_token(store: Store, station_id: str) -> str:
    """Replace a live station's token (to show its join QR again); the old one stops working."""
    live(store, station_id)
    token = secrets.token_urlsafe(32)
    _changed(store, lambda db: db.execute("UPDATE stations SET token_hash = ?, token_at = ? WHERE id = ?",
                                          [_hash(token), utc_now(), station_id]))
    return token


def by_token(store: Store, token: str) -> dict | None:
    """The live station holding this token, or None.

    Asked on every scan a phone sends, so the answer is remembered for two seconds;
    every change to a station below forgets it at once.
    """
    digest = _hash(token)
    return store.recent(TOKENS).get(digest, lambda: store.query_one(
        f"SELECT {COLUMNS}{FROM} WHERE st.token_hash = ? AND st.revoked_at IS NULL", [digest]))


def find(store: Store, station_id: str) -> dict | None:
    """The station if it is still live (it may have expired: see expires_at), else None."""
    return store.query_one(f"SELECT {COLUMNS}{FROM} WHERE st.id = ? AND st.revoked_at IS NULL", [station_id])


def expires_at(station: dict) -> datetime:
    """When the station's token stops working (UTC)."""
    issued = clock.parse(station["token_at"] or station["created_at"])
    if station["lifetime_minutes"]:
        return issued + timedelta(minutes=station["lifetime_minutes"])
    ends = _session_end(station["session_ends_at"], station["session_starts_at"])
    return ends + GRACE if ends else issued + ANY_SESSION


def _session_end(ends_at: str | None, starts_at: str | None) -> datetime | None:
    """The session's end as an instant: its end, else the end of the day it starts (China's wall clock)."""
    if ends_at:
        return clock.parse(ends_at)
    if starts_at:
        return clock.parse(datetime.combine(clock.parse(starts_at).date(), time.max))
    return None


def expired(station: dict) -> bool:
    return expires_at(station) <= clock.now()


def live(store: Store, station_id: str) -> dict:
    row = find(store, station_id)
    if row is None:
        raise NotFound(code="station_not_found")
    return row


def revoke(store: Store, station_id: str) -> dict:
    row = live(store, station_id)
    _changed(store, lambda db: db.execute("UPDATE stations SET revoked_at = ? WHERE id = ?",
                                      [utc_now(), station_id]))
    return row


def listing(store: Store) -> list[dict]:
    """Live stations first, newest first, with the session title where tied to one and when the
    token expires."""
    rows = store.query(f"SELECT {COLUMNS}, se.title AS session_title{FROM}"
                       " ORDER BY st.revoked_at IS NOT NULL, st.created_at DESC LIMIT 200")
    for row in rows:
        row["expires_at"] = expires_at(row).isoformat(timespec="seconds")
        row["expired"] = expired(row)
    return rows
