"""The outbox: one row per change to a synced record, written in the record's own transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlite_utils import Database

from fieldsync.store.db import insert_rows, new_id

SYNCED_ENTITIES = ("people", "sessions", "checkins", "badge_revocations")


CHANGE_COLUMNS = ("change_id", "entity", "record_id", "op", "hlc", "payload", "created_at")


def record_change(db: Database, entity: str, record_id: str, op: str, hlc: str, payload: dict) -> int:
    """Append one change; returns its seq. Call inside the write that changes the record."""
    return record_changes(db, [(entity, record_id, op, hlc, payload)])


def record_changes(db: Database, changes: list[tuple[str, str, str, str, dict]]) -> int | None:
    """Append (entity, record_id, op, hlc, payload) changes in order, in one statement;
    returns the seq of the last."""
    now = utc_now()
    return insert_rows(db, "changes", CHANGE_COLUMNS, [
        (new_id(), entity, record_id, op, hlc, json.dumps(payload, ensure_ascii=False, separators=(",", ":")), now)
        for entity, record_id, op, hlc, payload in changes])


def utc_now() -> str:
    """UTC with milliseconds, ISO 8601: what every stored timestamp looks like."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
