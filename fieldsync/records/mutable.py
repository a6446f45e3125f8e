"""Mutable records (people, sessions): field-level last-writer-wins by HLC, with history.

Each field remembers the HLC of its last write (`field_hlcs`). A local edit
stamps the fields it changes and sends, for each, the HLC it was based on
(DESIGN §4 failure case 6). A remote edit wins a field only with a newer HLC;
when the base it names is not the field's current HLC, both sides changed the
field since they last agreed: the edit is *concurrent*, and the hub records a
conflict for review while the merge itself stays automatic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from fieldsync.store.clock import utc_now
from fieldsync.store.hlc import HLC
from fieldsync.store.outbox import record_change

# Written locally, never sent: the sealed ID number only this laptop's key opens.
LOCAL_ONLY = frozenset({"id_number_enc"})


@dataclass
class FieldOutcome:
    field: str
    applied: bool
    concurrent: bool
    local_value: Any
    remote_value: Any
    local_hlc: str | None
    remote_hlc: str


def load(db: Database, table: str, record_id: str) -> dict | None:
    row = db.execute(f"SELECT * FROM {table} WHERE id = ?", [record_id]).fetchone()
    if row is None:
        return None
    cols = [c[0] for c in db.execute(f"SELECT * FROM {table} LIMIT 0").description]
    return dict(zip(cols, row))


def save_local(db: Database, clock: HLC, table: str, record_id: str, fields: dict,
               *, actor: str | None, action: str) -> dict:
    """Write a local edit: changed fields only, with history and one outbox change.

    Returns the record as stored. An edit that changes nothing writes nothing.
    """
    current = load(db, table, record_id)
    field_hlcs = json.loads(current["field_hlcs"]) if current else {}
    changed = {k: v for k, v in fields.items() if current is None or current.get(k) != v}
    if not changed:
        return current
    hlc = clock.now()
    base = {k: field_hlcs.get(k) for k in changed}
    for k in changed:
        field_hlcs[k] = hlc
    row = {**(current or {}), **changed, "id": record_id, "hlc": hlc,
           "field_hlcs": json.dumps(field_hlcs), "updated_at": utc_now()}
    if current is None:
        row["origin"] = clock.node
    db[table].upsert(row, pk="id")
    history = {k: [None if current is None else current.get(k), v]
               for k, v in changed.items() if k not in LOCAL_ONLY}
    db["history"].insert({"entity": table, "record_id": record_id, "action": action,
                          "changes": json.dumps(history, ensure_ascii=False), "hlc": hlc,
                          "actor": actor, "at": utc_now()})
    synced = {k: v for k, v in changed.items() if k not in LOCAL_ONLY}
    if synced:
        record_change(db, table, record_id, "upsert", hlc, {
            "fields": synced, "hlcs": {k: hlc for k in synced},
            "base": {k: base[k] for k in synced}, "origin": row.get("origin"), "action": action,
        })
    return load(db, table, record_id)


def apply_remote(db: Database, table: str, record_id: str, fields: dict, hlcs: dict,
                 base: dict | None, *, origin: str | None, action: str = "sync",
                 actor: str | None = None) -> list[FieldOutcome]:
    """Merge a change received from a peer, field by field. Writes no outbox row."""
    current = load(db, table, record_id)
    field_hlcs = json.loads(current["field_hlcs"]) if current else {}
    base = base or {}
    outcomes, winners = [], {}
    for name, value in fields.items():
        remote_hlc = hlcs[name]
        local_hlc = field_hlcs.get(name)
        local_value = current.get(name) if current else None
        applied = local_hlc is None or remote_hlc > local_hlc
        concurrent = (current is not None and local_hlc is not None
                      and base.get(name) != local_hlc and remote_hlc != local_hlc
                      and local_value != value)
        outcomes.append(FieldOutcome(name, applied, concurrent, local_value, value,
                                     local_hlc, remote_hlc))
        if applied:
            winners[name] = value
            field_hlcs[name] = remote_hlc
    if winners:
        row = {**(current or {}), **winners, "id": record_id,
               "hlc": max(field_hlcs.values()), "field_hlcs": json.dumps(field_hlcs),
               "updated_at": utc_now()}
        if current is None:
            row["origin"] = origin
        db[table].upsert(row, pk="id")
        history = {k: [None if current is None else current.get(k), v] for k, v in winners.items()}
        db["history"].insert({"entity": table, "record_id": record_id, "action": action,
                              "changes": json.dumps(history, ensure_ascii=False),
                              "hlc": row["hlc"], "actor": actor or origin, "at": utc_now()})
    return outcomes


def history(db: Database, table: str, record_id: str) -> list[dict]:
    rows = db.execute("SELECT action, changes, hlc, actor, at FROM history"
                      " WHERE entity = ? AND record_id = ? ORDER BY id", [table, record_id]).fetchall()
    return [{"action": a, "changes": json.loads(c), "hlc": h, "actor": who, "at": at}
            for a, c, h, who, at in rows]
