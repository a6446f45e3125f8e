"""Stations: named phones or tablets that scan for this laptop without a password.

Staff create a station and hand it a long random token through a join QR. The
laptop keeps only a SHA-256 of the token, so a copied database does not let
anyone scan. A station may be tied to one session; revoking it makes its
token worthless at once. Stations are local to the laptop and never synced.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.errors import Conflict, NotFound
from fieldsync.store import Store, new_id
from fieldsync.store.outbox import utc_now

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


COLUMNS = "id, name, session_id, created_by, created_at, revoked_at"


TOKENS = "station_tokens"


def _changed(store: Store, work) -> None:
    store.write(work)
    store.recent(TOKENS).clear()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(store: Store, name: str, *, session_id: str | None = None,
           actor: str | None = None) -> tuple[dict, str]:
    """A new station and its token (shown once: only the hash is kept)."""
    if store.query_one("SELECT 1 FROM stations WHERE name = ? AND revoked_at IS NULL", [name]):
        raise Conflict(f"A station named {name} already exists; pick another name or revoke it first.",
                       code="station_exists", fields={"name": ["Already in use."]})
    token = secrets.token_urlsafe(32)
    row = {"id": new_id(), "name": name, "token_hash": _hash(token), "session_id": session_id,
           "created_by": actor, "created_at": utc_now(), "revoked_at": None}
    _changed(store, lambda db: db["stations"].insert(row))
    return {k: v for k, v in row.items() if k != "token_hash"}, token


def new_token(store: Store, station_id: str) -> str:
    """Replace a live station's token (to show its join QR again); the old one stops working."""
    live(store, station_id)
    token = secrets.token_urlsafe(32)
    _changed(store, lambda db: db.execute("UPDATE stations SET token_hash = ? WHERE id = ?",
                                      [_hash(token), station_id]))
    return token


def by_token(store: Store, token: str) -> dict | None:
    """The live station holding this token, or None.

    Asked on every scan a phone sends, so the answer is remembered for two seconds;
    every change to a station below forgets it at once.
    """
    digest = _hash(token)
    return store.recent(TOKENS).get(digest, lambda: store.query_one(
        f"SELECT {COLUMNS} FROM stations WHERE token_hash = ? AND revoked_at IS NULL", [digest]))


def find(store: Store, station_id: str) -> dict | None:
    """The station if it is still live, else None."""
    return store.query_one(f"SELECT {COLUMNS} FROM stations WHERE id = ? AND revoked_at IS NULL",
                           [station_id])


def live(store: Store, station_id: str) -> dict:
    row = find(store, station_id)
    if row is None:
        raise NotFound("No such station, or it was revoked.", code="station_not_found")
    return row


def revoke(store: Store, station_id: str) -> dict:
    row = live(store, station_id)
    _changed(store, lambda db: db.execute("UPDATE stations SET revoked_at = ? WHERE id = ?",
                                      [utc_now(), station_id]))
    return row


def listing(store: Store) -> list[dict]:
    """Live stations first, newest first, with the session title where tied to one."""
    return store.query(
        "SELECT s.id, s.name, s.session_id, s.created_by, s.created_at, s.revoked_at,"
        " se.title AS session_title FROM stations s LEFT JOIN sessions se ON se.id = s.session_id"
        " ORDER BY s.revoked_at IS NOT NULL, s.created_at DESC LIMIT 200")
