"""Node: cut the outbox into contiguous batches and encode them for the wire.

A push and a USB bundle send the very same batches. Rows are read a batch at a
time (never the whole outbox: 1M check-ins push in under 100 MB). Immutable
records are read from their own table, already in columns, rather than by
parsing each outbox payload: the row is the payload, and it is several times
faster. Everything else travels row-wise as the outbox holds it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync import PROTOCOL_VERSION
from fieldsync.store import new_id
from fieldsync.sync import columnar, entities
from fieldsync.sync.entities import IMMUTABLE


@dataclass
class Batch:
    from_seq: int
    to_seq: int
    count: int
    body: dict     # the push request, without the per-send fields (epoch, acked_to)


def read_batch(db: Database, after: int, *, max_changes: int, max_bytes: int, replica: str) -> Batch | None:
    """The outbox rows after seq `after`, up to max_changes rows or max_bytes of payload."""
    rows = db.execute(
        "SELECT seq, change_id, entity, record_id, op, hlc, length(payload) FROM changes"
        " WHERE seq > ? ORDER BY seq LIMIT ?", [after, max_changes]).fetchall()
    if not rows:
        return None
    total, cut = 0, len(rows)
    for i, row in enumerate(rows):
        total += row[6]
        if total > max_bytes and i > 0:
            cut = i
            break
    rows = rows[:cut]
    first, last = rows[0][0], rows[-1][0]
    immutable = {e.name: e for e in entities.all_entities() if e.kind == IMMUTABLE}
    blocks, row_wise, by_entity = {}, [], {}
    for seq, change_id, name, record_id, op, hlc, _ in rows:
        if name in immutable and op == "upsert":
            by_entity.setdefault(name, []).append(seq)
        else:
            row_wise.append(seq)
    for name, seqs in by_entity.items():
        blocks[name] = _block(db, immutable[name], seqs, first, last)
    return Batch(first, last, len(rows), {
        "protocol": PROTOCOL_VERSION, "replica": replica, "batch_id": new_id(),
        "from_seq": first, "to_seq": last, "blocks": blocks, "changes": _row_wise(db, row_wise)})


def _block(db: Database, entity: entities.Entity, seqs: list[int], first: int, last: int) -> dict:
    columns = list(entity.columns)
    selected = ", ".join(f"t.{c}" for c in columns)
    found = db.execute(
        f"SELECT c.seq, {selected} FROM changes c JOIN {entity.name} t ON t.id = c.record_id"
        " WHERE c.seq BETWEEN ? AND ? AND c.entity = ? AND c.op = 'upsert' ORDER BY c.seq",
        [first, last, entity.name]).fetchall()
    if len(found) != len(seqs):
        found = _with_payloads(db, entity, columns, seqs, found)
    values = list(zip(*found)) if found else [[] for _ in range(len(columns) + 1)]
    return columnar.encode(list(values[0]), dict(zip(columns, map(list, values[1:]))), entity.columns)


def _with_payloads(db: Database, entity, columns: list[str], seqs: list[int], found: list) -> list:
    """Rows missing from the table (never expected for immutable records) come from the outbox."""
    have = {row[0] for row in found}
    missing = [seq for seq in seqs if seq not in have]
    extra = []
    for seq, payload in db.execute("SELECT seq, payload FROM changes WHERE seq IN (SELECT value FROM json_each(?))",
                                   [json.dumps(missing)]):
        row = json.loads(payload)
        extra.append((seq, *[row.get(c) for c in columns]))
    return sorted(list(found) + extra)


def _row_wise(db: Database, seqs: list[int]) -> list[dict]:
    if not seqs:
        return []
    return [{"seq": seq, "change_id": change_id, "entity": name, "record_id": record_id, "op": op,
             "hlc": hlc, "payload": json.loads(payload)}
            for seq, change_id, name, record_id, op, hlc, payload in db.execute(
                "SELECT seq, change_id, entity, record_id, op, hlc, payload FROM changes"
                " WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq", [json.dumps(seqs)])]


def pending(db: Database, after: int) -> int:
    """Changes not yet acknowledged. Seqs are contiguous (AUTOINCREMENT, rolled-back writes give
    theirs back), so this is a subtraction, not a count over a million rows on every page."""
    top = db.execute("SELECT MAX(seq) FROM changes").fetchone()[0]
    return max((top or 0) - after, 0)
