"""Hub merge: apply one pushed batch's changes, each kind as entities.py says.

Runs inside the writer's transaction for the batch (receive.py). Immutable
records go in by id in bulk; mutable ones merge field by field and leave
conflicts for review; published ones take the newest. Each change applies
under its own SAVEPOINT: one that fails validation or breaks a constraint goes
to quarantine with its reason and never blocks the batch (failure case 8).
Quarantined changes are retried on every merge (failure case 10).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta

from marshmallow import ValidationError
from sqlite_utils import Database

from fieldsync.errors import FieldsyncError, Refused
from fieldsync.records import badges, mutable, people
from fieldsync.store import Store, clock
from fieldsync.store.clock import utc_now
from fieldsync.sync import chain, entities, hublog, published, quarantine
from fieldsync.sync.downstream import inserts, policy
from fieldsync.sync.downstream.restamp import restamp_if_ahead
from fieldsync.sync.downstream.senders import Sender, sender_of
from fieldsync.sync.entities import MUTABLE, PUBLISHED
from fieldsync.sync.protocol import ChangeSchema, MutablePayload
from fieldsync.sync.quarantine import Rejected

RETRY_PER_MERGE = 20


@dataclass
class MergeResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)   # [{seq, reason}]
    conflicts: int = 0
    restamped: int = 0
    flagged: int = 0
    refused: dict[str, list[str]] = field(default_factory=dict)   # policy code -> ["entity/id"]

    def reject(self, seq, reason: str) -> None:
        self.rejected.append({"seq": seq, "reason": reason})

    def refuse(self, code: str, entity, record_id) -> None:
        self.refused.setdefault(code, []).append(f"{entity}/{record_id}")


# -- the batch ------------------------------------------------------------------------
def apply_batch(db: Database, store: Store, sender: Sender, changes: list[dict],
                blocks: list[inserts.Block]) -> MergeResult:
    result = MergeResult()
    batch = policy.Batch(blocks)
    # Row-wise changes first: a person registered in this batch is known to its check-ins. Sessions
    # lead them: a walk-in from another town is vouched for by a check-in at one of the laptop's
    # sessions, which may be new in this same batch (sync/downstream/policy.py).
    for change in sorted(changes, key=lambda c: not (isinstance(c, dict) and c.get("entity") == "sessions")):
        apply_change(db, store, sender, change, result, batch=batch)
    for block in blocks:
        inserts.insert_immutable(db, store, sender, block, result)
    retry_quarantine(db, store, result)
    return result


def apply_change(db: Database, store: Store, sender: Sender, change: dict, result: MergeResult,
                 *, quarantine_on_failure: bool = True, batch: policy.Batch | None = None) -> bool:
    """One row-wise change under its own savepoint. True when it was applied or known."""
    db.execute("SAVEPOINT change")
    try:
        outcome = _apply_change(db, store, sender, change, result, batch or policy.Batch())
    except (Rejected, FieldsyncError, ValidationError, sqlite3.Error, ValueError, KeyError, TypeError) as exc:
        db.execute("ROLLBACK TO change")
        db.execute("RELEASE change")
        if quarantine_on_failure:
            code, params = quarantine.classify(exc)
            quarantine.hold(db, sender.node_id, change, code, params)
            result.reject(change.get("seq") if isinstance(change, dict) else None, quarantine.wire_reason(code, params))
            if isinstance(exc, Refused):
                result.refuse(code, change.get("entity"), change.get("record_id"))
        return False
    db.execute("RELEASE change")
    if outcome == "duplicate":
        result.duplicates += 1
    else:
        result.accepted += 1
    return True


def _apply_change(db: Database, store: Store, sender: Sender, raw: dict, result: MergeResult,
                  batch: policy.Batch) -> str:
    change = ChangeSchema().load(raw)
    entity = entities.get(change["entity"])
    if entity is None:
        raise Rejected("unknown_entity", entity=change["entity"])
    if not policy.goes_up(entity):
        if sender.hub:   # a child hub's own list for its laptops (theme days it seeded, its forms):
            return "duplicate"   # in its outbox beside what goes up; this hub keeps its own
        raise Rejected("not_pushed", entity=entity.name)
    if db.execute("SELECT 1 FROM received_changes WHERE change_id = ?", [change["change_id"]]).fetchone():
        return "duplicate"
    if change["op"] == "delete":
        policy.delete(db, sender, entity, change["record_id"])
        delete(db, entity, change["record_id"], hlc=change["hlc"], actor=f"node:{sender.name}")
        if chain.forwards(db):
            chain.forward(db, entity.name, change["record_id"], "delete", change["hlc"], change["payload"])
    elif entity.kind == MUTABLE:
        _merge_mutable(db, store, sender, entity, change, result, batch)
    elif entity.kind == PUBLISHED:
        _merge_published(db, store, sender, entity, change, result)
    else:
        inserts.insert_one(db, store, sender, entity, change, result)
    db.execute("INSERT INTO received_changes (change_id) VALUES (?)", [change["change_id"]])
    return "applied"


# -- mutable -------------------------------------------------------------------------------
def _merge_mutable(db, store, sender, entity, change, result, batch) -> None:
    payload = MutablePayload().load(change["payload"])
    values = entity.schema().load(payload["fields"], partial=True)
    missing = set(values) - set(payload["hlcs"])
    if missing:
        raise Rejected("missing_hlcs", fields=sorted(missing))
    hlcs = {k: restamp_if_ahead(store, payload["hlcs"][k], result) for k in values}
    record_id = change["record_id"]
    if _refused_as_deleted(db, entity, record_id, payload["action"], sender, change, values, hlcs, result):
        return
    if "town" in values:
        _require_town(db, values["town"])
    policy.mutable(db, sender, entity, record_id, values, batch)
    origin = payload["origin"] or sender.origin
    if not sender.speaks_for(origin) and mutable.load(db, entity.name, record_id) is None:
        raise Rejected("other_origin", origin=origin)
    outcomes = mutable.apply_remote(db, entity.name, record_id, values, hlcs, payload["base"],
                                    origin=origin, action=payload["action"], actor=f"node:{sender.name}")
    queued = set(payload["queued"]) if sender.hub else set()   # already queued below: chain.py
    for outcome in outcomes:
        if outcome.field in queued:
            continue
        if outcome.concurrent or _takes_a_held_certificate(db, entity, record_id, outcome):
            kept, lost = ((outcome.remote_value, outcome.remote_hlc), (outcome.local_value, outcome.local_hlc)) \
                if outcome.applied else ((outcome.local_value, outcome.local_hlc),
                                         (outcome.remote_value, outcome.remote_hlc))
            record_conflict(db, entity.name, record_id, outcome.field, kept, lost, sender.node_id,
                            change["change_id"])
            result.conflicts += 1
            queued.add(outcome.field)
    if any(o.applied for o in outcomes):
        hublog.publish(db, entity, record_id)
        if chain.forwards(db):
            chain.forward_merged(db, entity, record_id, outcomes, payload["action"], queued)
        if entity.name == "people":
            _known_at_last(db, record_id)


def _takes_a_held_certificate(db: Database, entity, record_id: str, outcome) -> bool:
    """A certificate number another person holds is kept, but goes to review (one holder each)."""
    return (entity.name == "people" and outcome.field == "certificate_no" and outcome.applied
            and people.certificate_holder(db, outcome.remote_value, record_id) is not None)


def _require_town(db: Database, town: str) -> None:
    if not db.execute("SELECT 1 FROM places WHERE code = ? AND kind = 'town'", [town]).fetchone():
        raise Rejected("unknown_town", town=town)


def _refused_as_deleted(db, entity, record_id, action, sender, change, values, hlcs, result) -> bool:
    """An upsert to a deleted id is a conflict for review, unless it is an explicit restore."""
    gone = db.execute("SELECT hlc FROM tombstones WHERE entity = ? AND record_id = ?",
                      [entity.name, record_id]).fetchone()
    if gone is None:
        return False
    if action == "restore":
        db.execute("DELETE FROM tombstones WHERE entity = ? AND record_id = ?", [entity.name, record_id])
        return False
    record_conflict(db, entity.name, record_id, "_deleted", (None, gone[0]),
                    (values, max(hlcs.values(), default=None)), sender.node_id, change["change_id"])
    result.conflicts += 1
    return True


def record_conflict(db: Database, entity: str, record_id: str, field_name: str, kept: tuple, lost: tuple,
                    node_id: str | None, change_id: str | None) -> None:
    db["conflicts"].insert({
        "entity": entity, "record_id": record_id, "field": field_name,
        "kept_value": json.dumps(kept[0], ensure_ascii=False), "kept_hlc": kept[1],
        "lost_value": json.dumps(lost[0], ensure_ascii=False), "lost_hlc": lost[1],
        "node_id": node_id, "change_id": change_id, "created_at": utc_now()})


def _known_at_last(db: Database, person_id: str) -> None:
    """Scans that arrived before their person stop being flagged once the person is here."""
    db.execute("UPDATE checkins SET flags = trim(replace(',' || flags || ',', ',unknown_person,', ','), ',')"
               " WHERE person_id = ? AND ',' || flags || ',' LIKE '%,unknown_person,%'", [person_id])


# -- published ------------------------------------------------------------------------------
def _merge_published(db, store, sender, entity, change, result) -> None:
    row = entity.schema().load(change["payload"])
    if "hlc" in row:
        row["hlc"] = restamp_if_ahead(store, row["hlc"], result)
    policy.published(db, sender, entity, row)
    if entity.name == "badge_revocations":
        badges.apply_revocation(db, row)   # only ever tightens
    else:
        published.upsert_newer(db, entity, row)
    if entity.scope is not None:
        hublog.publish(db, entity, row[entity.key])
    if entity.upward and chain.forwards(db):
        chain.forward(db, entity.name, str(row[entity.key]), "upsert", change["hlc"], row)


def delete(db: Database, entity: entities.Entity, record_id: str, *, hlc: str | None, actor: str | None) -> None:
    """Delete a record and keep its id forever as a tombstone that pulls carry to the nodes."""
    db.execute(f"DELETE FROM {entity.name} WHERE {entity.key} = ?", [record_id])
    db.execute("INSERT OR REPLACE INTO tombstones (entity, record_id, hlc, deleted_at, deleted_by)"
               " VALUES (?, ?, ?, ?, ?)", [entity.name, record_id, hlc, utc_now(), actor])
    if entity.scope is not None:
        hublog.publish(db, entity, record_id, op="delete")


# -- quarantine ---------------------------------------------------------------------------------
def retry_quarantine(db: Database, store: Store, result: MergeResult, *, limit: int = RETRY_PER_MERGE,
                     only_id: int | None = None) -> int:
    """Try quarantined changes again (the hub may know more now). Returns how many went in.
    Each goes through the policy again as its own laptop's (sender_of): a refused change goes in
    only once that laptop may make it. Moves (review.apply_move) and edits of a period locked by an
    accepted filing (decision 0150) wait for an admin."""
    recently = utc_now_minus(60)
    rows = db.execute(
        "SELECT id, node_id, change FROM quarantine WHERE resolved_at IS NULL AND pulled = 0"
        + (" AND id = ?" if only_id else f" AND COALESCE(code, '') NOT IN {policy.FOR_AN_ADMIN} AND last_tried_at < ?"
                                         " ORDER BY id LIMIT ?"),
        [only_id] if only_id else [recently, limit]).fetchall()
    applied = 0
    for quarantine_id, node_id, text in rows:
        change = json.loads(text)
        sender = sender_of(db, node_id)
        if "row" in change:   # an immutable row from a columnar block
            change = {"seq": change["seq"], "change_id": change["row"].get("id") or "", "entity": change["entity"],
                      "record_id": change["record_id"] or "", "op": "upsert",
                      "hlc": change["row"].get("hlc") or "", "payload": change["row"]}
        ok = apply_change(db, store, sender, change, MergeResult(), quarantine_on_failure=False)
        quarantine.tried(db, quarantine_id, ok)
        applied += ok
    return applied


def utc_now_minus(seconds: int) -> str:
    return clock.utc_text(clock.now() - timedelta(seconds=seconds))
