"""Hub review queues: conflicts (concurrent edits of one field) and quarantine (changes the
hub could not apply). The merge never waits for review; review can override it.
Every decision lands in sync_audit with who made it.

An account given units (records/scope.py) sees and decides only the entries of its towns: a
conflict belongs to the town of the record it is about, a quarantined change to the town of the
laptop that sent it (the town the hub's trust rules hold that laptop to). Entries of no town (a
record gone, a change from a child hub or a bundle without a laptop) are for unconfined accounts.
"""

from __future__ import annotations

import json
import re

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound
from fieldsync.i18n import _
from fieldsync.records import mutable, scope
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.sync import entities, quarantine
from fieldsync.sync.downstream import merge, policy
from fieldsync.sync.downstream.receive import audit

KEEP, USE_OTHER = "keep", "use_other"
# The town an entry belongs to, for the account's units (records/scope.py): a conflict's record's,
# a quarantined change's laptop's; in the audit trail, the town of the entry a decision was on
# (its target: "entity/record id", a quarantine id, "session/person").
RECORD_TOWN = ("CASE {entity} WHEN 'people' THEN (SELECT town FROM people WHERE id = {record})"
               " WHEN 'sessions' THEN (SELECT town FROM sessions WHERE id = {record}) END")
LAPTOP_TOWN = "(SELECT town FROM nodes WHERE id = {node})"
CONFLICT_TOWN = RECORD_TOWN.format(entity="{c}.entity", record="{c}.record_id")
QUARANTINE_TOWN = LAPTOP_TOWN.format(node="{q}.node_id")
_BEFORE, _AFTER = "substr({a}.target, 1, instr({a}.target, '/') - 1)", "substr({a}.target, instr({a}.target, '/') + 1)"
TRAIL_TOWN = {
    "conflict_": RECORD_TOWN.format(entity=_BEFORE, record=_AFTER),
    "quarantine_": LAPTOP_TOWN.format(node="(SELECT node_id FROM quarantine WHERE id = CAST({a}.target AS INTEGER))"),
    "double_": f"(SELECT town FROM sessions WHERE id = {_BEFORE})",
}


def in_scope(town_of: str, alias: str) -> tuple[str, list]:
    """WHERE condition keeping the entries (CONFLICT_TOWN, QUARANTINE_TOWN, a TRAIL_TOWN) of the account's towns."""
    where, params = scope.clause(town_of.format(c=alias, q=alias, a=alias))
    return where or "1", params


def conflicts(store: Store, *, resolved: bool = False, limit: int = 200) -> list[dict]:
    where, params = in_scope(CONFLICT_TOWN, "c")
    rows = store.query(
        "SELECT c.*, n.name AS node_name FROM conflicts c LEFT JOIN nodes n ON n.id = c.node_id"
        f" WHERE c.resolved_at IS {'NOT ' if resolved else ''}NULL AND {where} ORDER BY c.id DESC LIMIT ?",
        [*params, limit])
    for row in rows:
        row["kept"] = json.loads(row["kept_value"]) if row["kept_value"] else None
        row["lost"] = json.loads(row["lost_value"]) if row["lost_value"] else None
        row["record_name"] = _record_name(store, row["entity"], row["record_id"])
    return rows


def _record_name(store: Store, entity: str, record_id: str) -> str:
    column = {"people": "name", "sessions": "title"}.get(entity)
    row = store.query_one(f"SELECT {column} AS label FROM {entity} WHERE id = ?", [record_id]) if column else None
    return row["label"] if row else record_id


def resolve_conflict(store: Store, conflict_id: int, choice: str, *, actor: str) -> dict:
    """keep: the automatic merge stands. use_other: the losing value becomes a new hub edit."""
    row = store.query_one(f"SELECT *, {CONFLICT_TOWN.format(c='conflicts')} AS town FROM conflicts WHERE id = ?",
                          [conflict_id])
    if row is None:
        raise NotFound(_("No conflict %(id)s.", id=conflict_id), code="conflict_not_found")
    scope.check(row["town"])
    if row["resolved_at"]:
        raise Conflict(_("This conflict was already resolved."), code="already_resolved")

    def work(db: Database) -> None:
        if choice == USE_OTHER:
            lost = json.loads(row["lost_value"]) if row["lost_value"] else None
            if row["field"] == "_deleted":
                db.execute("DELETE FROM tombstones WHERE entity = ? AND record_id = ?",
                           [row["entity"], row["record_id"]])
                fields, action = lost or {}, "restore"
            else:
                fields, action = {row["field"]: lost}, "conflict_override"
            mutable.save_local(db, store.hlc, row["entity"], row["record_id"], fields, actor=actor, action=action)
        db.execute("UPDATE conflicts SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?",
                   [utc_now(), actor, choice, conflict_id])
        audit(db, actor, f"conflict_{choice}", f"{row['entity']}/{row['record_id']}",
              f"{row['field']}: kept {row['kept_value']}, other {row['lost_value']}")

    store.write(work)
    return store.query_one("SELECT * FROM conflicts WHERE id = ?", [conflict_id])


def quarantined(store: Store, *, resolved: bool = False, limit: int = 200) -> list[dict]:
    """What laptops and child hubs pushed that the merge holds, of the account's towns, worded in the
    reader's language (what this hub pulled and holds is the sync page's: sync/upstream/node.py)."""
    where, params = in_scope(QUARANTINE_TOWN, "q")
    return quarantine.worded(store.query(
        "SELECT q.*, n.name AS node_name FROM quarantine q LEFT JOIN nodes n ON n.id = q.node_id"
        f" WHERE q.pulled = 0 AND q.resolved_at IS {'NOT ' if resolved else ''}NULL AND {where}"
        " ORDER BY q.id DESC LIMIT ?", [*params, limit]))


def retry(store: Store, quarantine_id: int, *, actor: str) -> bool:
    """Apply a quarantined change again now (after fixing the gazetteer, upgrading the hub...)."""
    _open_quarantine(store, quarantine_id)

    def work(db: Database) -> bool:
        applied = merge.retry_quarantine(db, store, merge.MergeResult(), only_id=quarantine_id) == 1
        if applied:
            db.execute("UPDATE quarantine SET resolved_by = ? WHERE id = ?", [actor, quarantine_id])
        audit(db, actor, "quarantine_retry", str(quarantine_id), "applied" if applied else "failed again")
        return applied

    return store.write(work)


def apply_move(store: Store, quarantine_id: int, *, actor: str) -> dict:
    """An admin grants a laptop's move request (policy.MOVE_REQUEST): the change becomes the hub's
    own edit, which takes the record out of its old town's laptops and to its new town's."""
    row = _open_quarantine(store, quarantine_id)
    if row["code"] != policy.MOVE_REQUEST:
        raise Conflict(_("Only a move request is applied this way; retry or dismiss the others."),
                       code="not_a_move_request")
    change = json.loads(row["change"])
    entity = entities.get(change.get("entity"))
    fields = entity.schema().load((change.get("payload") or {}).get("fields") or {}, partial=True)

    def work(db: Database) -> dict:
        if mutable.load(db, entity.name, change["record_id"]) is None:
            raise Conflict(code="record_gone")
        saved = mutable.save_local(db, store.hlc, entity.name, change["record_id"], fields, actor=actor,
                                   action="move")
        db.execute("UPDATE quarantine SET resolved_at = ?, resolved_by = ?, resolution = 'applied' WHERE id = ?",
                   [utc_now(), actor, quarantine_id])
        audit(db, actor, "quarantine_apply_move", str(quarantine_id),
              f"{entity.name}/{change['record_id']} to {fields.get('town')}")
        return saved

    return store.write(work)


def dismiss(store: Store, quarantine_id: int, *, actor: str, note: str = "") -> None:
    """Accept that a change stays out. It is kept, marked as dismissed, with who and why."""
    _open_quarantine(store, quarantine_id)

    def work(db: Database) -> None:
        db.execute("UPDATE quarantine SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?",
                   [utc_now(), actor, ("dismissed: " + note.strip())[:300] if note.strip() else "dismissed",
                    quarantine_id])
        audit(db, actor, "quarantine_dismiss", str(quarantine_id), note[:300])

    store.write(work)


def _open_quarantine(store: Store, quarantine_id: int) -> dict:
    row = store.query_one(f"SELECT *, {QUARANTINE_TOWN.format(q='quarantine')} AS town FROM quarantine"
                          " WHERE id = ? AND pulled = 0", [quarantine_id])
    if row is None:
        raise NotFound(_("No quarantined change %(id)s.", id=quarantine_id), code="quarantine_not_found")
    scope.check(row["town"])
    if row["resolved_at"]:
        raise Conflict(_("This change was already dealt with."), code="already_resolved")
    return row


def audit_trail(store: Store, *, prefix: str, limit: int = 100) -> list[dict]:
    """The decisions of one queue, newest first: of the account's towns (TRAIL_TOWN)."""
    where, params = in_scope(TRAIL_TOWN.get(prefix, "NULL"), "a")
    return store.query(f"SELECT * FROM sync_audit a WHERE action LIKE ? AND {where} ORDER BY id DESC LIMIT ?",
                       [prefix + "%", *params, limit])


# resolve_conflict writes its decision as "<field>: kept <json>, other <json>" on "<entity>/<record id>".
DECISION = re.compile(r"(?P<field>\w+): kept (?P<kept>.*), other (?P<lost>.*)", re.DOTALL)


def conflict_decisions(store: Store, *, limit: int = 100) -> list[dict]:
    """The conflict decisions of the audit trail, newest first, with the record's name and the field
    and values each was about (None where an entry does not read as a decision)."""
    entries = audit_trail(store, prefix="conflict_", limit=limit)
    for entry in entries:
        entity, _, record_id = (entry["target"] or "").partition("/")
        found = DECISION.fullmatch(entry["detail"] or "")
        entry.update(entity=entity, record_name=_record_name(store, entity, record_id) if record_id else "",
                     field=found["field"] if found else None,
                     kept=_stored(found["kept"]) if found else None, lost=_stored(found["lost"]) if found else None)
    return entries


def _stored(text: str):
    """A conflict's value as resolve_conflict wrote it: JSON, or None for a missing value."""
    try:
        return json.loads(text)
    except ValueError:
        return None
