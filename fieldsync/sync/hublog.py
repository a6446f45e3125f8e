"""The hub's log that pulls read: which record changed, in which scope, in what order.

One row per (entity, record, scope), renumbered each time the record changes,
so a pull from any cursor gets the current state of every record that changed
since, once. A record's scope is its town (people, sessions) or '' (forms,
keys, revocations: every node). When a record leaves a town, that town's row
becomes an `evict` (failure case 7); deletions stay as `delete` rows. Evict and
delete rows older than the retention are pruned and `min_cursor` rises past
them: an older cursor answers 410 and the node takes a fresh snapshot
(failure case 4).
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlite_utils import Database

from fieldsync.errors import Gone
from fieldsync.records import places
from fieldsync.records.mutable import LOCAL_ONLY
from fieldsync.records.validators import whole_number_or_none
from fieldsync.store import clock, triggers
from fieldsync.store.clock import utc_now
from fieldsync.sync import entities
from fieldsync.sync.entities import MUTABLE

NOWHERE = "-"           # scope of a town-scoped record without a town: no node sees it
TOMBSTONE_DAYS = 90
INTERNAL = frozenset({"id", "hlc", "field_hlcs", "updated_at", "origin"}) | LOCAL_ONLY


# -- epoch and cursors ------------------------------------------------------------
def epoch(db: Database) -> str:
    return db.execute("SELECT value FROM meta WHERE key = 'hub_epoch'").fetchone()[0]


def new_epoch(db: Database) -> str:
    """The hub found it was restored from a backup: cursors and acks it gave are void."""
    value = secrets.token_hex(6)
    db.execute("UPDATE meta SET value = ? WHERE key = 'hub_epoch'", [value])
    return value


def last_seq(db: Database) -> int:
    """The last seq the log gave out, its rows pruned or not (AUTOINCREMENT's counter; on
    PostgreSQL the identity's sequence)."""
    if triggers.on_postgres(db):
        row = db.native("SELECT pg_sequence_last_value(pg_get_serial_sequence('hub_log', 'seq')::regclass)").fetchone()
    else:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'hub_log'").fetchone()
    return row[0] if row and row[0] is not None else 0


def min_cursor(db: Database) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'hub_min_cursor'").fetchone()
    return int(row[0]) if row else 0


def make_cursor(db: Database, seq: int) -> str:
    return f"{epoch(db)}:{seq}"


def parse_cursor(db: Database, cursor: str) -> int:
    """The seq a cursor stands for; 410 when it belongs to another epoch or was pruned past."""
    if not cursor:
        return 0
    hub_epoch, _, text = cursor.partition(":")
    seq = whole_number_or_none(text)
    if seq is None:
        raise Gone(code="cursor_invalid", extra={"min_cursor": make_cursor(db, min_cursor(db))})
    if hub_epoch != epoch(db):
        raise Gone(code="cursor_stale", extra={"min_cursor": make_cursor(db, min_cursor(db))})
    if seq < min_cursor(db):
        raise Gone(code="cursor_expired", extra={"min_cursor": make_cursor(db, min_cursor(db))})
    return seq


# -- writing ------------------------------------------------------------------------
def scope_of(db: Database, entity: entities.Entity, record_id: str) -> str:
    if entity.scope == "all":
        return ""
    if entity.scope == "place":
        return places.sync_scope(db, record_id)
    row = db.execute(f"SELECT town FROM {entity.name} WHERE {entity.key} = ?", [record_id]).fetchone()
    return (row[0] if row else None) or NOWHERE


def publish(db: Database, entity: entities.Entity, record_id, op: str = "upsert") -> None:
    """Put a record's latest change at the end of the log (call in the write that changed it)."""
    record_id = str(record_id)
    scope = scope_of(db, entity, record_id) if op == "upsert" else None
    now = utc_now()
    earlier = db.execute("SELECT scope FROM hub_log WHERE entity = ? AND record_id = ? AND op = 'upsert'",
                         [entity.name, record_id]).fetchall()
    if op in ("delete", "evict"):   # evict: a child hub passing on its parent's (chain.py)
        scopes = [s for (s,) in earlier] or ([""] if op == "delete" else [])
        for old in scopes:
            _log(db, entity.name, record_id, old, op, now)
        return
    for (old,) in earlier:
        if old != scope:
            _log(db, entity.name, record_id, old, "evict", now)
    _log(db, entity.name, record_id, scope, "upsert", now)


def _log(db: Database, entity: str, record_id: str, scope: str, op: str, at: str) -> None:
    db.execute("INSERT OR REPLACE INTO hub_log (entity, record_id, scope, op, at) VALUES (?, ?, ?, ?, ?)",
               [entity, record_id, scope, op, at])


def index_local_changes(db: Database) -> int:
    """Publish the hub's own edits (made through its pages and API, written to `changes`)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'hub_log_indexed_seq'").fetchone()
    done = int(row[0]) if row else 0
    top = db.execute("SELECT MAX(seq) FROM changes").fetchone()[0] or done
    # Only kinds that pulls carry: a child hub's outbox also holds every check-in it passes upward.
    pulled = json.dumps([e.name for e in entities.pulled()])
    rows = db.execute("SELECT seq, entity, record_id, op FROM changes WHERE seq > ? AND entity IN"
                      " (SELECT value FROM json_each(?)) ORDER BY seq", [done, pulled]).fetchall()
    for _, name, record_id, op in rows:
        publish(db, entities.get(name), record_id, op)
    done = top
    if top > int(row[0] if row else 0):
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hub_log_indexed_seq', ?)", [str(done)])
    return len(rows)


def index_badge_keys(db: Database) -> int:
    """Publish issuer keys not in the log yet (the hub's own key is made on first use)."""
    keys = [r[0] for r in db.execute(
        "SELECT key_id FROM badge_keys WHERE CAST(key_id AS TEXT) NOT IN"
        " (SELECT record_id FROM hub_log WHERE entity = 'badge_keys')")]
    for key_id in keys:
        publish(db, entities.get("badge_keys"), key_id)
    return len(keys)


def index_targets(db: Database) -> int:
    """Publish the units whose targets were set before targets travelled (reports/targets_wire.py)."""
    units = [r[0] for r in db.execute("SELECT DISTINCT unit FROM targets WHERE unit NOT IN"
                                      " (SELECT record_id FROM hub_log WHERE entity = 'targets')")]
    for unit in units:
        publish(db, entities.get("targets"), unit)
    return len(units)


def index_places(db: Database) -> int:
    """Publish the places imported or changed since the last pull (records/place_import.py)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'hub_log_places_at'").fetchone()
    changed = db.execute("SELECT code, updated_at FROM places WHERE updated_at > ? ORDER BY updated_at",
                         [row[0] if row else ""]).fetchall()
    for code, _ in changed:
        publish(db, entities.get("places"), code)
    if changed:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hub_log_places_at', ?)", [changed[-1][1]])
    return len(changed)


def before_pull(db: Database) -> None:
    """Bring the log up to date for a pull: the hub's own edits, keys and places; once a day,
    expire old tombstones."""
    index_local_changes(db)
    index_badge_keys(db)
    index_places(db)
    index_targets(db)
    today = utc_now()[:10]
    row = db.execute("SELECT value FROM meta WHERE key = 'hub_log_pruned_on'").fetchone()
    if not row or row[0] != today:
        prune(db)
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hub_log_pruned_on', ?)", [today])


def prune(db: Database, *, days: int = TOMBSTONE_DAYS) -> int:
    """Forget evict/delete rows older than `days`; cursors before them now get 410."""
    cutoff = clock.utc_text(clock.now() - timedelta(days=days))
    top = db.execute("SELECT MAX(seq) FROM hub_log WHERE op != 'upsert' AND at <= ?", [cutoff]).fetchone()[0]
    if top is None:
        return 0
    gone = db.execute("DELETE FROM hub_log WHERE op != 'upsert' AND seq <= ?", [top]).rowcount
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hub_min_cursor', ?)",
               [str(max(top + 1, min_cursor(db)))])
    return gone


# -- reading (pull) -------------------------------------------------------------------
def read_page(db: Database, town: str, after: int, limit: int, *, hub: bool = False,
              compact: bool = False) -> tuple[list[dict], int, bool]:
    """Changes visible to a node of `town` after seq `after`: (changes, last seq, more). Besides
    its town's records, it sees the places above its town (its county and city). A child hub
    (`hub`; `town` is its unit) sees every town of its unit and the counties between. `compact`
    (a protocol 2 puller): each record's field HLCs as compact_hlcs() writes them."""
    area = places.area(db, town) if hub else [town]
    rows = []
    for scope in ("", *area, *places.ancestors(db, town)):
        rows += db.execute("SELECT seq, entity, record_id, op FROM hub_log WHERE scope = ? AND seq > ?"
                           " ORDER BY seq LIMIT ?", [scope, after, limit + 1]).fetchall()
    rows.sort()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows else max(after, 0)
    if hub:   # a move between two towns of the hub's unit is no eviction from it
        rows = [row for row in rows if row[3] != "evict" or not _still_in(db, row[1], row[2], area)]
    changes = [_change(db, seq, name, record_id, op) for seq, name, record_id, op in rows]
    return [(compact_hlcs(c) if compact else c) for c in changes if c], last, more


def compact_hlcs(change: dict) -> dict:
    """A pulled record's field HLCs as protocol 2 sends them: the stamp most fields share once
    (`hlc`), and in `hlcs` only the fields stamped otherwise. A person registered at once had the
    same 50-character stamp 14 times: 44% of a pulled person's bytes after gzip."""
    hlcs = change.get("hlcs")
    if not hlcs:
        return change
    stamps = list(hlcs.values())
    common = max(set(stamps), key=stamps.count)
    out = {k: v for k, v in change.items() if k != "hlcs"}
    out["hlc"] = common
    rest = {k: v for k, v in hlcs.items() if v != common}
    return {**out, "hlcs": rest} if rest else out


def field_hlcs(change: dict) -> dict:
    """Each field's HLC of a pulled change, from either protocol's form (compact_hlcs)."""
    hlcs = change.get("hlcs") or {}
    if "hlc" not in change:
        return hlcs
    return {k: hlcs.get(k, change["hlc"]) for k in change.get("fields", {})}


def _still_in(db: Database, name: str, record_id: str, area: list[str]) -> bool:
    return db.execute("SELECT 1 FROM hub_log WHERE entity = ? AND record_id = ? AND op = 'upsert' AND scope IN"
                      " (SELECT value FROM json_each(?))", [name, record_id, json.dumps(area)]).fetchone() is not None


def _change(db: Database, seq: int, name: str, record_id: str, op: str) -> dict | None:
    entity = entities.get(name)
    if entity is None:
        return None
    change = {"seq": seq, "entity": name, "id": record_id, "op": op}
    if op != "upsert":
        return change
    state = current_change(db, name, record_id)
    return {**change, "op": "delete"} if state is None else {**change, **state}


def current_change(db: Database, name: str, record_id: str) -> dict | None:
    """A record's current state as a pull sends it: fields (and for mutable records their HLCs
    and origin); None when it is gone."""
    entity = entities.get(name)
    if entity.read:
        return {"fields": entity.read(db, record_id)}
    cursor = db.execute(f"SELECT * FROM {name} WHERE {entity.key} = ?", [record_id])
    row = cursor.fetchone()
    if row is None:
        return None
    record = dict(zip([c[0] for c in cursor.description], row))
    change: dict = {}
    if entity.kind == MUTABLE:
        hlcs = json.loads(record["field_hlcs"] or "{}")
        change["fields"] = {k: record[k] for k in hlcs if k in record and k not in INTERNAL}
        change["hlcs"] = {k: hlcs[k] for k in change["fields"]}
        change["origin"] = record.get("origin")
    else:
        change["fields"] = record
    return change
