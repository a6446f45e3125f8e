"""The outbox: one row per change to a synced record, written in the record's own transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlite_utils import Database

from fieldsync.store.db import new_id

SYNCED_ENTITIES = ("people", "sessions", "checkins", "badge_revocations")


def record_change(db: Database, entity: str, record_id: str, op: str, hlc: str, payload: dict) -> int:
    """Append one change; returns its seq. Call inside the write that changes the record."""
    cursor = db.conn.execute(
        "INSERT INTO changes (change_id, entity, record_id, op, hlc, payload, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (new_id(), entity, record_id, op, hlc,
         json.dumps(payload, ensure_ascii=False, separators=(",", ":")), utc_now()),
    )
    return cursor.lastrowid


def utc_now() -> str:
    """UTC with milliseconds, ISO 8601: what every stored timestamp looks like."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
