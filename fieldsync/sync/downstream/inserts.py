"""Hub merge of immutable records (check-ins, form submissions): a pushed block inserted by id in
bulk, a column at a time, and the row-wise path of an older laptop or a retried quarantine entry.
Rows that fail go to quarantine with their reason (sync/quarantine.py); the batch goes on.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlite_utils import Database

from fieldsync.errors import FieldsyncError
from fieldsync.store import Store
from fieldsync.sync import chain, entities, quarantine
from fieldsync.sync.downstream import flags, policy
from fieldsync.sync.downstream.restamp import restamp_column, restamp_if_ahead
from fieldsync.sync.downstream.senders import Sender
from fieldsync.sync.quarantine import Rejected

if TYPE_CHECKING:
    from fieldsync.sync.downstream.merge import MergeResult


@dataclass
class Block:
    """An immutable entity's part of a batch, decoded and validated (outside the writer),
    kept as columns: the merge works a column at a time and makes rows only to insert them."""
    entity: entities.Entity
    seqs: list[int]
    columns: list[list]            # one list of values per column, in entity.columns order
    bad: dict[int, str]            # row index -> reason
    why: dict[int, tuple[str, dict]] = field(default_factory=dict)   # row index -> (code, params) of a bad row
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
            self.ahead["flags"] = flags.flag_inputs(dict(zip(names, self.columns)))


def insert_immutable(db: Database, store: Store, sender: Sender, block: Block, result: MergeResult) -> None:
    """Insert a block's new records by id, a column at a time: each step below looks at single
    rows only when its whole-column test finds something (a bad row, a duplicate, a flag)."""
    entity, names = block.entity, list(block.entity.columns)
    if "node" in entity.columns:
        _refuse_other_origins(block.columns[names.index("node")], sender, block)
    for index, refusal in policy.immutable(db, sender, entity, dict(zip(names, block.columns))).items():
        if index not in block.bad:
            block.bad[index], block.why[index] = refusal.message, (refusal.code, {"detail": refusal.message})
    for index, reason in block.bad.items():
        # A row the decoder found bad (receive.prepare) carries its detail only.
        row = block.row(index)
        code, params = block.why.get(index, ("invalid_record", {"detail": reason}))
        quarantine.hold(db, sender.node_id, {"seq": block.seqs[index], "entity": entity.name,
                                             "record_id": row.get("id"), "row": row}, code, params)
        result.reject(block.seqs[index], reason)
        if code in policy.CODES:
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
        changed += restamp_column(store, columns[names.index("hlc")], result)
    if entity.name == "checkins":
        flagged = flags.flag_checkins(db, dict(zip(names, columns)), ahead.get("flags"))
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


def _refuse_other_origins(nodes: list, sender: Sender, block: Block) -> None:
    """A laptop records scans under its own database ids only."""
    if set(nodes) <= sender.origins:
        return
    for index, node in enumerate(nodes):
        if index not in block.bad and not sender.speaks_for(node):
            block.bad[index] = f"says it was made on another laptop ({node}), not on {sender.name}"
            block.why[index] = ("other_laptop", {"node": node, "sender": sender.name})


def _passing_check(db, sender, entity, names, seqs, columns, result) -> tuple[list, list]:
    """The entity's own test against the hub's data (a submission's form version)."""
    passing = []
    for i, seq in enumerate(seqs):
        record = {name: column[i] for name, column in zip(names, columns)}
        try:
            entity.check(db, record)
        except (FieldsyncError, ValueError) as exc:
            code, params = quarantine.classify(exc)
            quarantine.hold(db, sender.node_id, {"seq": seq, "entity": entity.name, "record_id": record[names[0]],
                                                 "row": record}, code, params)
            result.reject(seq, quarantine.wire_reason(code, params))
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
            code, params = quarantine.classify(exc)
            quarantine.hold(db, sender.node_id, {"seq": seq, "entity": entity.name, "record_id": row[0],
                                                 "row": dict(zip(names, row))}, code, params)
            result.reject(seq, quarantine.wire_reason(code, params))


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


def insert_one(db, store, sender, entity, change, result) -> None:
    """An immutable record sent row-wise (an older node, or a retried quarantine entry)."""
    row = entity.schema().load(change["payload"])
    columns = list(entity.columns)
    values = [row.get(c) for c in columns]
    if db.execute(f"SELECT 1 FROM {entity.name} WHERE id = ?", [values[0]]).fetchone():
        return
    if "node" in columns and not sender.speaks_for(values[columns.index("node")]):
        raise Rejected("other_laptop", node=values[columns.index("node")], sender=sender.name)
    refused = policy.immutable(db, sender, entity, {name: [value] for name, value in zip(columns, values)})
    if refused:
        raise refused[0]
    if entity.check:
        entity.check(db, dict(zip(columns, values)))
    if "hlc" in columns:
        values[columns.index("hlc")] = restamp_if_ahead(store, values[columns.index("hlc")], result)
    if entity.name == "checkins":
        one = {name: [value] for name, value in zip(columns, values)}
        result.flagged += flags.flag_checkins(db, one)
        values = [one[name][0] for name in columns]
    db.execute(f"INSERT INTO {entity.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
               values)
    if chain.forwards(db):
        chain.forward(db, entity.name, values[0], "upsert", values[columns.index("hlc")], {})
