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
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from marshmallow import ValidationError
from sqlite_utils import Database

from fieldsync.errors import FieldsyncError, Refused
from fieldsync.records import badges, mutable, people
from fieldsync.store import Store, clock
from fieldsync.store.clock import utc_now
from fieldsync.store.hlc import MAX_AHEAD_MS
from fieldsync.sync import chain, entities, hublog, policy
from fieldsync.sync.entities import MUTABLE, PUBLISHED
from fieldsync.sync.protocol import ChangeSchema, MutablePayload
from fieldsync.sync.senders import Sender, sender_of

RETRY_PER_MERGE = 20


class Rejected(Exception):
    """A change the hub will not apply as it stands: it goes to quarantine with this reason."""


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


@dataclass
class Block:
    """An immutable entity's part of a batch, decoded and validated (outside the writer),
    kept as columns: the merge works a column at a time and makes rows only to insert them."""
    entity: entities.Entity
    seqs: list[int]
    columns: list[list]            # one list of values per column, in entity.columns order
    bad: dict[int, str]            # row index -> reason
    codes: dict[int, str] = field(default_factory=dict)   # row index -> policy code, of the bad rows it refused
    ahead: dict = field(default_factory=dict)   # made by work_ahead(), for a block the writer takes whole

    def row(self, index: int) -> dict:
        return {name: column[index] for name, column in zip(self.entity.columns, self.columns)}

    def work_ahead(self) -> None:
        """What the writer would otherwise compute from the columns, computed before the batch
        reaches it (receive.prepare, while the writer is busy with the batch before). Used only
        if the writer takes every row as it is."""
        names, ids = list(self.entity.columns), self.columns[0]
        if self.bad or len(set(ids)) != len(ids):
            return
        self.ahead["ids"] = json.dumps(ids)
        self.ahead["oldest_id"] = min(ids, default=None)
        self.ahead["rows"] = _insert_order(names, self.columns)
        if self.entity.name == "checkins":
            self.ahead["flags"] = _flag_inputs(dict(zip(names, self.columns)))


# -- the batch ------------------------------------------------------------------------
def apply_batch(db: Database, store: Store, sender: Sender, changes: list[dict],
                blocks: list[Block]) -> MergeResult:
    result = MergeResult()
    batch = policy.Batch(blocks)
    # Row-wise changes first: a person registered in this batch is known to its check-ins. Sessions
    # lead them: a walk-in from another town is vouched for by a check-in at one of the laptop's
    # sessions, which may be new in this same batch (sync/policy.py).
    for change in sorted(changes, key=lambda c: not (isinstance(c, dict) and c.get("entity") == "sessions")):
        apply_change(db, store, sender, change, result, batch=batch)
    for block in blocks:
        insert_immutable(db, store, sender, block, result)
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
        reason = _reason(exc)
        if quarantine_on_failure:
            code = exc.code if isinstance(exc, Refused) else None
            quarantine(db, sender.node_id, change, reason, code=code)
            result.reject(change.get("seq") if isinstance(change, dict) else None, reason)
            if code:
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
        raise Rejected(f"this hub does not know records of kind {change['entity']!r}")
    if not policy.goes_up(entity):
        if sender.hub:   # a child hub's own list for its laptops (theme days it seeded, its forms):
            return "duplicate"   # in its outbox beside what goes up; this hub keeps its own
        raise Rejected(f"nodes may not send {entity.name} (only the hub writes them)")
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
        _insert_one(db, store, sender, entity, change, result)
    db.execute("INSERT INTO received_changes (change_id) VALUES (?)", [change["change_id"]])
    return "applied"


def _reason(exc: Exception) -> str:
    if isinstance(exc, FieldsyncError):
        return exc.message
    if isinstance(exc, ValidationError):
        return "invalid: " + json.dumps(exc.messages, ensure_ascii=False)[:500]
    if isinstance(exc, sqlite3.IntegrityError):
        return f"incomplete or inconsistent record ({exc}); an earlier change of it may be in quarantine"
    return str(exc)[:500] or type(exc).__name__


# -- clocks ------------------------------------------------------------------------------
def restamp_if_ahead(store: Store, hlc: str, result: MergeResult) -> str:
    """Never adopt a stamp more than 5 minutes ahead of the hub's clock (failure case 5)."""
    if int(hlc[:16]) - store.hlc.physical_ms() > MAX_AHEAD_MS:
        result.restamped += 1
        return store.hlc.now()
    store.hlc.observe(hlc)
    return hlc


# -- mutable -------------------------------------------------------------------------------
def _merge_mutable(db, store, sender, entity, change, result, batch) -> None:
    payload = MutablePayload().load(change["payload"])
    values = entity.schema().load(payload["fields"], partial=True)
    missing = set(values) - set(payload["hlcs"])
    if missing:
        raise Rejected(f"no HLC for fields {sorted(missing)}")
    hlcs = {k: restamp_if_ahead(store, payload["hlcs"][k], result) for k in values}
    record_id = change["record_id"]
    if _refused_as_deleted(db, entity, record_id, payload["action"], sender, change, values, hlcs, result):
        return
    if "town" in values:
        _require_town(db, values["town"])
    policy.mutable(db, sender, entity, record_id, values, batch)
    origin = payload["origin"] or sender.origin
    if not sender.speaks_for(origin) and mutable.load(db, entity.name, record_id) is None:
        raise Rejected(f"creates a record in the name of another laptop ({origin}); it waits until "
                       "that laptop's own change arrives")
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
        raise Rejected(f"town {town} is not in the hub's gazetteer")


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
        upsert_newer(db, entity, row)
    if entity.scope is not None:
        hublog.publish(db, entity, row[entity.key])
    if entity.upward and chain.forwards(db):
        chain.forward(db, entity.name, str(row[entity.key]), "upsert", change["hlc"], row)


def upsert_newer(db: Database, entity: entities.Entity, row: dict) -> None:
    """Take a published record whole, unless the one we hold is newer."""
    names = list(row)
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != entity.key)
    newer = f" WHERE excluded.hlc >= {entity.name}.hlc OR {entity.name}.hlc IS NULL" if "hlc" in row else ""
    db.execute(f"INSERT INTO {entity.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
               f" ON CONFLICT({entity.key}) DO UPDATE SET {updates}{newer}", [row[n] for n in names])


def delete(db: Database, entity: entities.Entity, record_id: str, *, hlc: str | None, actor: str | None) -> None:
    """Delete a record and keep its id forever as a tombstone that pulls carry to the nodes."""
    db.execute(f"DELETE FROM {entity.name} WHERE {entity.key} = ?", [record_id])
    db.execute("INSERT OR REPLACE INTO tombstones (entity, record_id, hlc, deleted_at, deleted_by)"
               " VALUES (?, ?, ?, ?, ?)", [entity.name, record_id, hlc, utc_now(), actor])
    if entity.scope is not None:
        hublog.publish(db, entity, record_id, op="delete")


# -- immutable --------------------------------------------------------------------------------
def insert_immutable(db: Database, store: Store, sender: Sender, block: Block, result: MergeResult) -> None:
    """Insert a block's new records by id, a column at a time: each step below looks at single
    rows only when its whole-column test finds something (a bad row, a duplicate, a flag)."""
    entity, names = block.entity, list(block.entity.columns)
    if "node" in entity.columns:
        _refuse_other_origins(block.columns[names.index("node")], sender, block)
    for index, refusal in policy.immutable(db, sender, entity, dict(zip(names, block.columns))).items():
        if index not in block.bad:
            block.bad[index], block.codes[index] = refusal.message, refusal.code
    for index, reason in block.bad.items():
        row, code = block.row(index), block.codes.get(index)
        quarantine(db, sender.node_id, {"seq": block.seqs[index], "entity": entity.name,
                                        "record_id": row.get("id"), "row": row}, reason, code=code)
        result.reject(block.seqs[index], reason)
        if code:
            result.refuse(code, entity.name, row.get("id"))
    ahead = block.ahead if not block.bad else {}   # origins may have found bad rows since
    good = [i for i in range(len(block.seqs)) if i not in block.bad] if block.bad else None
    ids = block.columns[0] if good is None else [block.columns[0][i] for i in good]
    known = _existing_ids(db, entity.name, ids, ahead)
    if known or len(set(ids)) != len(ids):
        good = _first_of_each(ids, good if good is not None else range(len(ids)), known)
        result.duplicates += len(ids) - len(good)
    if good is None:
        seqs, columns = block.seqs, block.columns
    else:
        seqs, columns = [block.seqs[i] for i in good], [[column[i] for i in good] for column in block.columns]
        ahead = {}
    if entity.check:
        before = len(seqs)
        seqs, columns = _passing_check(db, sender, entity, names, seqs, columns, result)
        ahead = ahead if len(seqs) == before else {}
    changed = 0
    if "hlc" in entity.columns:
        changed += _restamp_block(store, columns[names.index("hlc")], result)
    if entity.name == "checkins":
        flagged = flag_checkins(db, dict(zip(names, columns)), ahead.get("flags"))
        result.flagged += flagged
        changed += flagged
    from fieldsync.reports import rollup

    # Check-ins reach the report rollups later, with other blocks, in one statement instead of
    # a trigger per scan, once the writer has nothing else to do (decision 0016).
    after = chain.last_rowid(db, entity.name) if chain.forwards(db) else None
    with rollup.deferred(db) if entity.name == "checkins" else nullcontext():
        _insert_rows(db, sender, entity, names, seqs, columns, result, ahead.get("rows") if not changed else None)
    if after is not None:   # a child hub passes what it took on to its parent (chain.py)
        chain.forward_inserted(db, entity, after)


def _restamp_block(store: Store, stamps: list[str], result: MergeResult) -> int:
    """restamp_if_ahead for a whole column: observe only the newest stamp kept. Stamps are
    fixed-width text, so the newest is the greatest string. Returns how many were restamped."""
    if not stamps:
        return 0
    limit = store.hlc.physical_ms() + MAX_AHEAD_MS
    newest = max(stamps)
    if int(newest[:16]) <= limit:
        store.hlc.observe(newest)
        return 0
    newest, restamped = None, 0
    for i, stamp in enumerate(stamps):
        if int(stamp[:16]) > limit:
            stamps[i] = store.hlc.now()
            restamped += 1
        elif newest is None or stamp > newest:
            newest = stamp
    if newest:
        store.hlc.observe(newest)
    result.restamped += restamped
    return restamped


def _refuse_other_origins(nodes: list, sender: Sender, block: Block) -> None:
    """A laptop records scans under its own database ids only."""
    if set(nodes) <= sender.origins:
        return
    for index, node in enumerate(nodes):
        if index not in block.bad and not sender.speaks_for(node):
            block.bad[index] = f"says it was made on another laptop ({node}), not on {sender.name}"


def _passing_check(db, sender, entity, names, seqs, columns, result) -> tuple[list, list]:
    """The entity's own test against the hub's data (a submission's form version)."""
    passing = []
    for i, seq in enumerate(seqs):
        record = {name: column[i] for name, column in zip(names, columns)}
        try:
            entity.check(db, record)
        except (FieldsyncError, ValueError) as exc:
            reason = getattr(exc, "message", None) or str(exc)
            quarantine(db, sender.node_id, {"seq": seq, "entity": entity.name, "record_id": record[names[0]],
                                            "row": record}, reason)
            result.reject(seq, reason)
            continue
        passing.append(i)
    if len(passing) == len(seqs):
        return seqs, columns
    return [seqs[i] for i in passing], [[column[i] for i in passing] for column in columns]


def _first_of_each(ids: list, rows, known: set) -> list[int]:
    """Of the rows (block row numbers, one per id), those whose id is new: not at the hub, not
    earlier in the block."""
    seen, out = set(known), []
    for record_id, row in zip(ids, rows):
        if record_id not in seen:
            seen.add(record_id)
            out.append(row)
    return out


def _existing_ids(db: Database, table: str, ids: list[str], ahead: dict) -> set[str]:
    if not ids:
        return set()
    if "oldest_id" in ahead:
        # Ids are ULIDs, made in time order: a block newer than every id here holds none of them.
        top = db.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0]
        if top is None or (isinstance(top, str) and top < ahead["oldest_id"]):
            return set()
    return {row[0] for row in db.execute(
        f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))", [ahead.get("ids") or json.dumps(ids)])}


def _insert_order(names: list[str], columns: list[list]) -> list[tuple]:
    """The rows to insert, in person order when they have a person: a block's people are
    scattered over the person index, the other indexes (id, time, session) grow at their end.
    Sorted, each insert into it lands next to the one before."""
    rows = list(zip(*columns))
    if "person_id" in names:
        at = names.index("person_id")
        rows.sort(key=lambda row: row[at] or "")
    return rows


def _insert_rows(db, sender, entity, names, seqs, columns, result, rows: list[tuple] | None = None) -> None:
    """All rows with one executemany under one savepoint; only if a constraint fails, one
    savepoint per row to find and quarantine the culprits. rows: the columns' rows in insert
    order, when work_ahead() made them already."""
    sql = f"INSERT INTO {entity.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    rows = rows if rows is not None else _insert_order(names, columns)
    db.execute("SAVEPOINT block")
    try:
        with _inserting():
            db.conn.executemany(sql, rows)
        db.execute("RELEASE block")
        result.accepted += len(seqs)
        return
    except sqlite3.Error:
        db.execute("ROLLBACK TO block")
        db.execute("RELEASE block")
    for seq, row in zip(seqs, zip(*columns)):
        db.execute("SAVEPOINT one")
        try:
            db.execute(sql, row)
            db.execute("RELEASE one")
            result.accepted += 1
        except sqlite3.Error as exc:
            db.execute("ROLLBACK TO one")
            db.execute("RELEASE one")
            reason = _reason(exc)
            quarantine(db, sender.node_id, {"seq": seq, "entity": entity.name, "record_id": row[0],
                                            "row": dict(zip(names, row))}, reason)
            result.reject(seq, reason)


# executemany takes the GIL back after every row it inserts. A request thread checking the next
# batch meanwhile (pure Python, receive.prepare) holds the GIL for a whole switch interval each
# time, so the insert crawls until it is done. Checks wait for inserts to end instead and run
# while the writer folds and commits, which hold no GIL (docs/decisions/0015).
_inserts = 0
_inserts_done = threading.Condition()


@contextmanager
def _inserting():
    global _inserts
    with _inserts_done:
        _inserts += 1
    try:
        yield
    finally:
        with _inserts_done:
            _inserts -= 1
            _inserts_done.notify_all()


def wait_for_inserts(timeout: float) -> None:
    """Return when no block is being inserted, or after timeout seconds."""
    with _inserts_done:
        _inserts_done.wait_for(lambda: _inserts == 0, timeout)


def _insert_one(db, store, sender, entity, change, result) -> None:
    """An immutable record sent row-wise (an older node, or a retried quarantine entry)."""
    row = entity.schema().load(change["payload"])
    columns = list(entity.columns)
    values = [row.get(c) for c in columns]
    if db.execute(f"SELECT 1 FROM {entity.name} WHERE id = ?", [values[0]]).fetchone():
        return
    if "node" in columns and not sender.speaks_for(values[columns.index("node")]):
        raise Rejected(f"says it was made on another laptop ({values[columns.index('node')]}), not on {sender.name}")
    refused = policy.immutable(db, sender, entity, {name: [value] for name, value in zip(columns, values)})
    if refused:
        raise refused[0]
    if entity.check:
        entity.check(db, dict(zip(columns, values)))
    if "hlc" in columns:
        values[columns.index("hlc")] = restamp_if_ahead(store, values[columns.index("hlc")], result)
    if entity.name == "checkins":
        one = {name: [value] for name, value in zip(columns, values)}
        result.flagged += flag_checkins(db, one)
        values = [one[name][0] for name in columns]
    db.execute(f"INSERT INTO {entity.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
               values)
    if chain.forwards(db):
        chain.forward(db, entity.name, values[0], "upsert", values[columns.index("hlc")], {})


# -- check-in flags (scans that happened are facts: stored, flagged, never refused) --------------
DOUBLE = "double"   # scanned in to one session by two laptops; sync/doubles.py shows and reviews them


def add_flag(flags: str | None, flag: str) -> str:
    present = [f for f in (flags or "").split(",") if f]
    return ",".join(sorted(set(present) | {flag}))


def _flag_inputs(columns: dict[str, list]) -> tuple[str, str, set]:
    """From the columns, what flag_checkins asks the database about: the people (JSON), the
    sessions (JSON) and the (session, person) pairs scanned in."""
    persons, sessions, directions = columns["person_id"], columns["session_id"], columns["direction"]
    return (json.dumps(sorted({p for p in persons if p})), json.dumps(sorted(set(sessions))),
            {(session, person) for session, person, direction in zip(sessions, persons, directions)
             if direction == "in" and person})


def flag_checkins(db: Database, columns: dict[str, list], inputs: tuple | None = None) -> int:
    """Flag new check-ins in place (columns by name, the flags list is changed): unknown
    person, revoked badge, double scan from two laptops. The rows are looked at one by one
    only when the block holds one of these at all. inputs: _flag_inputs(columns), if made."""
    flags = columns["flags"]
    if not flags:
        return 0
    persons, directions = columns["person_id"], columns["direction"]
    people, sessions, pairs = inputs or _flag_inputs(columns)
    # Only the exceptions come back: people not at the hub, and revoked badges.
    unknown, revoked = set(), {}
    for person_id, missing, min_generation in db.execute(
            "SELECT j.value, p.id IS NULL, r.min_generation FROM json_each(?) j"
            " LEFT JOIN people p ON p.id = j.value LEFT JOIN badge_revocations r ON r.person_id = j.value"
            " WHERE p.id IS NULL OR r.person_id IS NOT NULL", [people]):
        if missing:
            unknown.add(person_id)
        if min_generation is not None:
            revoked[person_id] = min_generation
    seen_in = _scanned_in_by(db, sessions, pairs)
    nodes = set(columns["node"])
    if not unknown and not revoked and len(nodes) == 1 and all(nodes.issuperset(by) for by in seen_in.values()):
        return 0   # everyone known, no revoked badge, one laptop and nobody scanned in by another
    sessions, generations, node_of, ids = (columns["session_id"], columns["badge_generation"], columns["node"],
                                           columns["id"])
    flagged = 0
    for i, person in enumerate(persons):
        before = flags[i]
        if person in unknown:
            flags[i] = add_flag(flags[i], "unknown_person")
        generation = generations[i]
        if person in revoked and generation is not None and generation < revoked[person]:
            flags[i] = add_flag(flags[i], "revoked_badge")
        if directions[i] == "in" and person:
            by_node = seen_in.setdefault((sessions[i], person), {})
            if any(n != node_of[i] for n in by_node):
                flags[i] = add_flag(flags[i], DOUBLE)
                _flag_earlier(db, [checkin for n, checkins in by_node.items() if n != node_of[i]
                                   for checkin in checkins])
            by_node.setdefault(node_of[i], []).append(ids[i])
        flagged += flags[i] != before
    return flagged


def _scanned_in_by(db: Database, sessions: str, pairs: set) -> dict:
    """(session, person) -> {node: [check-in ids]} of the 'in' check-ins already at the hub for
    the block's 'in' scans (pairs). Read by session (a block holds a few, most of them new to
    the hub, given as JSON), then kept only for the pairs."""
    found: dict = {}
    for session_id, person_id, node, checkin_id in db.execute(
            "SELECT session_id, person_id, node, id FROM checkins WHERE direction = 'in'"
            " AND session_id IN (SELECT value FROM json_each(?))", [sessions]):
        if (session_id, person_id) in pairs:
            found.setdefault((session_id, person_id), {}).setdefault(node, []).append(checkin_id)
    return found


def _flag_earlier(db: Database, checkin_ids: list[str]) -> None:
    for checkin_id in checkin_ids:
        row = db.execute("SELECT flags FROM checkins WHERE id = ?", [checkin_id]).fetchone()
        if row is not None:
            db.execute("UPDATE checkins SET flags = ? WHERE id = ?", [add_flag(row[0], DOUBLE), checkin_id])


# -- quarantine ---------------------------------------------------------------------------------
def quarantine(db: Database, node_id: str | None, change, reason: str, *, code: str | None = None) -> None:
    """Keep a change the hub did not apply; `code` says why when the policy refused it."""
    change = change if isinstance(change, dict) else {"value": change}
    # Plain SQL: sqlite-utils' insert() reads the table's schema on every call, and a block
    # from a misconfigured laptop can send thousands of rows here.
    db.execute("INSERT INTO quarantine (node_id, seq, change_id, entity, record_id, change, reason, code, created_at,"
               " last_tried_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [node_id, change.get("seq") if isinstance(change.get("seq"), int) else None,
                _short(change.get("change_id")), _short(change.get("entity")), _short(change.get("record_id")),
                json.dumps(change, ensure_ascii=False, default=str), reason, code, utc_now(), utc_now()])


def _short(value) -> str | None:
    return str(value)[:64] if value is not None else None


def retry_quarantine(db: Database, store: Store, result: MergeResult, *, limit: int = RETRY_PER_MERGE,
                     only_id: int | None = None) -> int:
    """Try quarantined changes again (the hub may know more now). Returns how many went in.
    Each goes through the policy again as its own laptop's (sender_of): a refused change goes in
    only once that laptop may make it. Moves (review.apply_move) and edits of a period locked by an
    accepted filing (decision 0150) wait for an admin."""
    recently = utc_now_minus(60)
    rows = db.execute(
        "SELECT id, node_id, change FROM quarantine WHERE resolved_at IS NULL"
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
        db.execute("UPDATE quarantine SET attempts = attempts + 1, last_tried_at = ?"
                   + (", resolved_at = ?, resolved_by = 'retry', resolution = 'applied'" if ok else "")
                   + " WHERE id = ?", [utc_now(), utc_now(), quarantine_id] if ok else [utc_now(), quarantine_id])
        applied += ok
    return applied


def utc_now_minus(seconds: int) -> str:
    return clock.utc_text(clock.now() - timedelta(seconds=seconds))
