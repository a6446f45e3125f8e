"""The outbox: one row per change to a synced record, written in the record's own transaction."""

from __future__ import annotations

import json

from sqlite_utils import Database

from fieldsync.store.clock import utc_now
from fieldsync.store.db import insert_rows, new_id

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


# -- retention -------------------------------------------------------------------------------
# Acknowledged rows stay until the hub acknowledged them a retention period ago, so that a hub
# restored from a backup can get them again (failure case 3). One outbox_acks row per
# acknowledgement says how far the hub had acknowledged, and when.
def acknowledged(db: Database, acked_to: int, at: str) -> None:
    """The hub acknowledged every change up to acked_to at `at`."""
    db.execute("INSERT OR REPLACE INTO outbox_acks (acked_to, at) VALUES (?, ?)", [acked_to, at])


def forget_acks_after(db: Database, seq: int) -> None:
    """The changes after seq go to the hub again (a rewind, a new enrollment): their earlier
    acknowledgements must not let them be deleted before the hub acknowledges them anew."""
    db.execute("DELETE FROM outbox_acks WHERE acked_to > ?", [seq])


def prune(db: Database, acked: int, cutoff: str, *, most: int | None = None) -> int:
    """Delete the rows the hub acknowledged before cutoff, never past acked, and at most `most` of
    them; returns how many went. The acknowledgements below what went are dropped too: the next
    prune needs only the ones after."""
    # By date: acknowledgements older than the cutoff are few (each prune drops those below what it
    # deleted), while by acked_to SQLite would walk back through a whole period's newer ones.
    expired = db.execute("SELECT MAX(acked_to) FROM outbox_acks INDEXED BY outbox_acks_at WHERE at < ?",
                         [cutoff]).fetchone()[0]
    if expired is None:
        return 0
    upto = min(expired, acked)
    if most is not None:
        oldest = db.execute("SELECT MIN(seq) FROM changes").fetchone()[0]
        upto = min(upto, (oldest or 0) + most - 1)
    deleted = db.execute("DELETE FROM changes WHERE seq <= ?", [upto]).rowcount
    db.execute("DELETE FROM outbox_acks WHERE acked_to < ?", [upto])
    return deleted
