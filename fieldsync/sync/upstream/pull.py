"""Node: pull what the hub publishes for this town and apply it.

Each page applies in one transaction together with its cursor, merges against
unpushed local edits field by field by HLC, and writes no outbox rows
(failure case 13). A 410 (cursor from before a hub restore, or older than the
hub keeps tombstones) starts a full scoped snapshot; at its end the node drops
the town records the hub no longer sends, except those with unpushed edits
(failure case 4). A change of a kind this version cannot read stops the pull
just before it, so the cursor never passes it (failure case 9). A change of a known
kind that fails here (a value this version refuses, a broken constraint) is held in
quarantine, in the transaction that moves the cursor past it: nothing is skipped
unrecorded, staff see it on the home page, and `retry_held` applies it after an upgrade.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import ValidationError
from sqlite_utils import Database

from fieldsync.errors import FieldsyncError, HubError, HubUnreachable, NeedsUpgrade
from fieldsync.i18n import _
from fieldsync.records import badges, mutable
from fieldsync.store import Store
from fieldsync.store.outbox import utc_now
from fieldsync.sync import chain, entities, hublog, published, quarantine
from fieldsync.sync.entities import MUTABLE
from fieldsync.sync.link import Pacing
from fieldsync.sync.protocol import PULL_PAGE
from fieldsync.sync.upstream.client import HubClient
from fieldsync.sync.upstream.push import forget_pull_cursor


@dataclass
class PullResult:
    pulled: int = 0
    held: int = 0             # changes the hub sent that failed here: held in quarantine
    dropped: int = 0          # records dropped after a full snapshot
    snapshot: bool = False


def pull(store: Store, client: HubClient, *, progress: Callable[[int], None] | None = None,
         result: PullResult | None = None, pacing: Pacing | None = None) -> PullResult:
    """Pull every page after this laptop's cursor; `result` adds to the figures of a try before,
    `pacing` asks for smaller pages after a cut one."""
    result = result if result is not None else PullResult()
    pacing = pacing or Pacing()
    cursor, resync = _position(store.db)
    # A child hub passes on what it applies to its own laptops, and drops nothing after a snapshot:
    # it holds its laptops' records, which its parent may have refused (decision 0130).
    hub = chain.forwards(store.db)
    seen: dict[str, set] | None = {} if resync and not hub else None
    restarted = False
    while True:
        asked = pacing.pull_page
        try:
            page = client.pull(cursor, asked)
        except HubUnreachable:
            pacing.page_cut(asked or PULL_PAGE)
            raise
        except HubError as exc:
            if exc.status != 410 or restarted:
                raise
            restarted = True
            store.write(forget_pull_cursor)
            cursor, seen = "", (None if hub else {})
            continue
        pacing.page_answered(PULL_PAGE)
        cursor, stopped = store.write(functools.partial(_apply_page, page=page, seen=seen, result=result, hub=hub))
        _observe(store, page["changes"])
        if progress:
            progress(len(page["changes"]))
        if stopped:
            raise NeedsUpgrade(_("The hub sends records of kind %(kind)r, which this fieldsync version cannot read. "
                                 "Install the version the hub runs.", kind=stopped))
        if not page["more"]:
            break
    if seen is not None:
        result.snapshot = True
        result.dropped = store.write(lambda db: _drop_unseen(db, seen))
    elif hub and resync:
        store.write(lambda db: db.execute("DELETE FROM meta WHERE key = 'pull_resync'"))
    return result


def _position(db: Database) -> tuple[str, bool]:
    row = db.execute("SELECT pull_cursor FROM sync_state WHERE peer = 'hub'").fetchone()
    resync = db.execute("SELECT value FROM meta WHERE key = 'pull_resync'").fetchone()
    return (row[0] if row and row[0] else ""), bool(resync and resync[0] == "1")


def _apply_page(db: Database, page: dict, seen: dict | None, result: PullResult,
                hub: bool = False) -> tuple[str, str | None]:
    cursor, stopped = page["cursor"], None
    held = _held_records(db)
    for change in page["changes"]:
        entity = entities.get(change["entity"])
        if entity is None:
            stopped, cursor = change["entity"], f"{page['hub_epoch']}:{change['seq'] - 1}"
            break
        if hub and entity.name == "badge_keys":
            # Key ids are numbered by each hub for its own laptops: the parent's would overwrite them.
            continue
        failure = _failure(db, entity, change, hub)
        if failure is not None:   # held with the cursor that passes it, in this transaction
            quarantine.hold(db, None, change, *quarantine.classify(failure), pulled=True)
            held.add((entity.name, str(change["id"])))
            result.held += 1
            continue
        if (entity.name, str(change["id"])) in held:   # the hub's newer version replaces the one held
            _superseded(db, entity.name, str(change["id"]))
        result.pulled += 1
        if seen is not None and change["op"] == "upsert":
            seen.setdefault(entity.name, set()).add(str(change["id"]))
    db.execute("UPDATE sync_state SET pull_cursor = ? WHERE peer = 'hub'", [cursor])
    if page.get("hub_badge_key") and not hub:   # a child hub's anchor is its own key
        # Laptops enrolled before certificates learn the hub's key here; enrollment set it for the rest.
        db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                   [badges.HUB_KEY_META, page["hub_badge_key"]])
    return cursor, stopped


FAILURES = (FieldsyncError, ValidationError, KeyError, TypeError, ValueError, sqlite3.Error)


def _failure(db: Database, entity: entities.Entity, change: dict, hub: bool) -> Exception | None:
    """Apply one pulled change under its own savepoint: None, or what it failed with (undone)."""
    db.execute("SAVEPOINT pulled")
    try:
        if apply_pulled(db, entity, change) and hub:
            hublog.publish(db, entity, change["id"], change["op"])
    except FAILURES as exc:
        db.execute("ROLLBACK TO pulled")
        return exc
    finally:
        db.execute("RELEASE pulled")
    return None


def _held_records(db: Database) -> set[tuple[str, str]]:
    return {(entity, record_id) for entity, record_id in db.execute(
        "SELECT entity, record_id FROM quarantine WHERE pulled = 1 AND resolved_at IS NULL")}


def _superseded(db: Database, name: str, record_id: str) -> None:
    db.execute("UPDATE quarantine SET resolved_at = ?, resolved_by = 'pull', resolution = 'superseded'"
               " WHERE pulled = 1 AND resolved_at IS NULL AND entity = ? AND record_id = ?",
               [utc_now(), name, record_id])


def held(store: Store, *, limit: int = 200) -> list[dict]:
    """What pulls held here, newest first, worded in the reader's language."""
    return quarantine.worded(store.query(
        "SELECT * FROM quarantine WHERE pulled = 1 AND resolved_at IS NULL ORDER BY id DESC LIMIT ?", [limit]))


def held_count(store: Store) -> int:
    return store.query_one("SELECT COUNT(*) AS n FROM quarantine WHERE pulled = 1 AND resolved_at IS NULL")["n"]


def retry_held(store: Store, *, actor: str) -> int:
    """Apply the held changes again, oldest first (after an upgrade, or once what they need has
    arrived). Returns how many went in; the rest stay held, one more try counted."""
    def work(db: Database) -> int:
        hub, applied = chain.forwards(db), 0
        for quarantine_id, text in db.execute("SELECT id, change FROM quarantine WHERE pulled = 1"
                                              " AND resolved_at IS NULL ORDER BY id").fetchall():
            change = json.loads(text)
            entity = entities.get(change.get("entity"))
            ok = entity is not None and _failure(db, entity, change, hub) is None
            quarantine.tried(db, quarantine_id, ok, by=actor)
            applied += ok
        return applied
    return store.write(work)


def apply_pulled(db: Database, entity: entities.Entity, change: dict) -> bool:
    """Apply one pulled change; False when it changed nothing here (a mutable record as new here)."""
    if change["op"] != "upsert":
        db.execute(f"DELETE FROM {entity.name} WHERE {entity.key} = ?", [change["id"]])
        if entity.kind == MUTABLE:   # its history holds the same personal data
            db.execute("DELETE FROM history WHERE entity = ? AND record_id = ?", [entity.name, change["id"]])
        return True
    if entity.kind == MUTABLE:
        values = entity.schema().load(change["fields"], partial=True)
        hlcs = hublog.field_hlcs(change)
        outcomes = mutable.apply_remote(db, entity.name, change["id"], values, {k: hlcs[k] for k in values}, None,
                                        origin=change.get("origin"), action="pull", actor="hub")
        return any(o.applied for o in outcomes)
    if entity.apply:
        entity.apply(db, entity.schema().load(change["fields"]))
    elif entity.name == "badge_revocations":
        badges.apply_revocation(db, entity.schema().load(change["fields"]))
    else:
        published.upsert_newer(db, entity, entity.schema().load(change["fields"]))
    return True


def _observe(store: Store, changes: list[dict]) -> None:
    """Later local edits must sort after what the hub sent (the HLC ignores stamps far ahead)."""
    stamps = [h for c in changes for h in hublog.field_hlcs(c).values()]
    if stamps:
        store.hlc.observe(max(stamps))


def _drop_unseen(db: Database, seen: dict[str, set]) -> int:
    """After a snapshot: drop town records the hub no longer sends, keeping unpushed local edits."""
    acked = db.execute("SELECT last_acked_seq FROM sync_state WHERE peer = 'hub'").fetchone()[0]
    dropped = 0
    for entity in entities.pulled():
        if entity.scope != "town":
            continue
        kept = json.dumps(sorted(seen.get(entity.name, ())))
        gone = [r[0] for r in db.execute(
            f"SELECT {entity.key} FROM {entity.name} WHERE {entity.key} NOT IN (SELECT value FROM json_each(?))"
            f" AND {entity.key} NOT IN (SELECT record_id FROM changes WHERE entity = ? AND seq > ?)",
            [kept, entity.name, acked])]
        for record_id in gone:
            apply_pulled(db, entity, {"op": "evict", "id": record_id})
        dropped += len(gone)
    db.execute("DELETE FROM meta WHERE key = 'pull_resync'")
    return dropped
