"""Node: cut the outbox into contiguous batches and encode them for the wire.

A push and a USB bundle send the very same batches. Rows are read a batch at a
time (never the whole outbox: 1M check-ins push in under 100 MB). Immutable
records are read from their own table, already in columns, rather than by
parsing each outbox payload: the row is the payload, and it is several times
faster. Everything else travels row-wise as the outbox holds it, except, at a child hub, what
its parent never takes (policy.goes_up: its forms, theme days): a bare seq with an empty payload,
so the parent's stream stays contiguous without the record (decision 0291).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync import PROTOCOL_VERSION
from fieldsync.store import new_id
from fieldsync.sync import chain, columnar, entities, refs
from fieldsync.sync.downstream import policy
from fieldsync.sync.entities import IMMUTABLE


@dataclass
class Batch:
    from_seq: int
    to_seq: int
    count: int
    body: dict     # the push request, without the per-send fields (epoch, acked_to)


def read_batch(db: Database, after: int, *, max_changes: int, max_bytes: int, replica: str,
               hub_acked: int | None = None) -> Batch | None:
    """The outbox rows after seq `after`, up to max_changes rows or max_bytes of payload. With
    `hub_acked` (the last seq the hub acknowledged), people the hub holds travel by reference
    (sync/refs.py); a bundle, read for a later import, names everyone in full."""
    immutable = [e for e in entities.all_entities() if e.kind == IMMUTABLE]
    extent = _extent(db, "seq > ? ORDER BY seq LIMIT ?", [after, max_changes], immutable)
    if extent is None:
        return None
    first, last, total, size, counts = extent
    if size > max_bytes and total > 1:
        # Payloads past max_bytes: cut before the row that crosses it (a batch holds one row at least).
        sizes = db.execute("SELECT seq, length(payload) FROM changes WHERE seq BETWEEN ? AND ? ORDER BY seq",
                           [first, last]).fetchall()
        crossing = next(i for i, running in enumerate(itertools.accumulate(n for _, n in sizes)) if running > max_bytes)
        last = sizes[max(crossing, 1) - 1][0]
        first, last, total, size, counts = _extent(db, "seq BETWEEN ? AND ?", [first, last], immutable)
    blocks = {entity.name: _block(db, entity, count, first, last, hub_acked)
              for entity, count in zip(immutable, counts) if count}
    row_wise = _row_wise(db, first, last, [e.name for e in immutable], _kept_below(db)) if total > sum(counts) else []
    return Batch(first, last, total, {
        "protocol": PROTOCOL_VERSION, "replica": replica, "batch_id": new_id(),
        "from_seq": first, "to_seq": last, "blocks": blocks, "changes": row_wise})


def _extent(db: Database, where: str, params: list, immutable: list[entities.Entity]):
    """(first seq, last seq, rows, payload characters, upserts of each immutable entity) of the
    outbox rows `where` selects, counted by SQLite without a Python step per row; None if none."""
    counts = "".join(", SUM(op = 'upsert' AND entity = ?)" for _ in immutable)
    row = db.execute(f"SELECT COUNT(*), MIN(seq), MAX(seq), SUM(size){counts} FROM"
                     f" (SELECT seq, entity, op, length(payload) AS size FROM changes WHERE {where})",
                     [*(e.name for e in immutable), *params]).fetchone()
    if not row[0]:
        return None
    return row[1], row[2], row[0], row[3] or 0, list(row[4:])


def _block(db: Database, entity: entities.Entity, count: int, first: int, last: int,
           hub_acked: int | None) -> dict:
    columns = list(entity.columns)
    selected = ", ".join(f"t.{c}" for c in columns)
    found = db.execute(
        f"SELECT c.seq, {selected} FROM changes c JOIN {entity.name} t ON t.id = c.record_id"
        " WHERE c.seq BETWEEN ? AND ? AND c.entity = ? AND c.op = 'upsert' ORDER BY c.seq",
        [first, last, entity.name]).fetchall()
    if len(found) != count:
        found = _with_payloads(db, entity, columns, first, last, found)
    values = list(zip(*found)) if found else [[] for _ in range(len(columns) + 1)]
    by_column = dict(zip(columns, map(list, values[1:])))
    people = [by_column[name] for name, codec in entity.columns.items() if codec == "person"]
    held = refs.held_by_hub(db, [v for column in people for v in column], hub_acked) \
        if people and hub_acked is not None else None
    return columnar.encode(list(values[0]), by_column, entity.columns, held=held)


def _with_payloads(db: Database, entity, columns: list[str], first: int, last: int, found: list) -> list:
    """Rows missing from the table (never expected for immutable records) come from the outbox."""
    have = {row[0] for row in found}
    extra = []
    for seq, payload in db.execute("SELECT seq, payload FROM changes WHERE seq BETWEEN ? AND ? AND entity = ?"
                                   " AND op = 'upsert' ORDER BY seq", [first, last, entity.name]):
        if seq not in have:
            row = json.loads(payload)
            extra.append((seq, *[row.get(c) for c in columns]))
    return sorted(list(found) + extra)


def _kept_below(db: Database) -> list[str]:
    """At a child hub, the kinds its parent never takes; elsewhere none (a laptop's go to quarantine
    whole, for an admin to read)."""
    if not chain.forwards(db):
        return []
    return [e.name for e in entities.all_entities() if not policy.goes_up(e)]


def _row_wise(db: Database, first: int, last: int, immutable: list[str], bare: list[str]) -> list[dict]:
    """Every change that does not travel in a block, as the outbox holds it (`bare` kinds without it)."""
    return [{"seq": seq, "change_id": change_id, "entity": name, "record_id": record_id, "op": op,
             "hlc": hlc, "payload": json.loads(payload)}
            for seq, change_id, name, record_id, op, hlc, payload in db.execute(
                "SELECT seq, change_id, entity, record_id, op, hlc,"
                " CASE WHEN entity IN (SELECT value FROM json_each(?)) THEN '{}' ELSE payload END"
                " FROM changes WHERE seq BETWEEN ? AND ?"
                " AND NOT (op = 'upsert' AND entity IN (SELECT value FROM json_each(?))) ORDER BY seq",
                [json.dumps(bare), first, last, json.dumps(immutable)])]


def pending(db: Database, after: int) -> int:
    """Changes not yet acknowledged. Seqs are contiguous (AUTOINCREMENT, rolled-back writes give
    theirs back), so this is a subtraction, not a count over a million rows on every page."""
    top = db.execute("SELECT MAX(seq) FROM changes").fetchone()[0]
    return max((top or 0) - after, 0)
