"""Hub: take one pushed batch exactly once. A USB bundle's batches come through here too.

A node's outbox is a stream keyed by (node, replica). In one transaction:
- the exact batch seen before (same range and digest): a replay, the same
  acknowledgement again, nothing written;
- same start but other content: `409 divergent`, the node takes a new replica
  id (a cloned or restored laptop, failure case 1);
- a start past high-water + 1: `409 gap` with `expected_from`, the node rewinds;
- otherwise every change is applied (dedup by id makes overlaps harmless) and
  high-water moves to the batch's end.
A node that holds an acknowledgement this hub no longer remembers shows the hub
was restored from a backup: a new hub_epoch voids old cursors (failure case 3).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync import PROTOCOL_VERSION
from fieldsync.errors import BadRequest, Conflict, PayloadTooLarge, UpgradeRequired
from fieldsync.i18n import _
from fieldsync.records.schemas import load
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.sync import column_checks, columnar, entities, hublog, quarantine, refs
from fieldsync.sync.downstream import inserts, merge, origins, senders
from fieldsync.sync.entities import IMMUTABLE
from fieldsync.sync.protocol import (
    MAX_BATCH_CHANGES,
    MIN_PROTOCOL,
    PushSchema,
    protocol_ok,
)


@dataclass
class Prepared:
    batch: dict
    blocks: list[inserts.Block]
    changes: list[dict]
    unknown_blocks: dict[str, list[int]]     # entity this hub cannot read -> its seqs
    digest: str
    first_key: str


def prepare(body, db: Database) -> Prepared:
    """Check a batch's envelope, decode and validate its records. Runs outside the writer; `db`
    (a read connection) finds the people a block names by reference (sync/refs.py)."""
    batch = load(PushSchema(), body)
    if not protocol_ok(batch["protocol"]):
        raise UpgradeRequired(
            _("This hub speaks sync protocol %(low)s-%(high)s; the laptop sent %(sent)s. Install the matching "
              "fieldsync version.", low=MIN_PROTOCOL, high=PROTOCOL_VERSION, sent=batch["protocol"]),
            code="protocol_unsupported",
            extra={"min_protocol": MIN_PROTOCOL, "max_protocol": PROTOCOL_VERSION})
    size = batch["to_seq"] - batch["from_seq"] + 1
    if size < 1:
        raise BadRequest(_("to_seq is before from_seq."), code="bad_range")
    if size > MAX_BATCH_CHANGES:
        raise PayloadTooLarge(_("A batch holds at most %(max)s changes; send smaller ones.", max=MAX_BATCH_CHANGES),
                              code="batch_too_large", extra={"max_changes": MAX_BATCH_CHANGES})
    blocks, unknown, keyed = [], {}, []   # keyed: (seqs, dedup keys) of each part of the batch
    for name, block in batch["blocks"].items():
        entity = entities.get(name)
        if entity is None or entity.kind != IMMUTABLE:
            seqs = columnar.undeltas(block.get("seq") if isinstance(block.get("seq"), list) else [])
            unknown[name] = seqs
            keyed.append((seqs, [f"{name}:{seq}" for seq in seqs]))
            continue
        seqs, decoded = columnar.decode(block, entity.columns)
        decoded = columnar.resolve_refs(decoded, functools.partial(refs.resolve, db))
        columns, bad = column_checks.validate(seqs, decoded, entity.schema())
        blocks.append(inserts.Block(entity, seqs, columns, bad))
        blocks[-1].work_ahead()
        ids = columns[0]
        keyed.append((seqs, [key or "" for key in ids] if None in ids or "" in ids else ids))
    if batch["changes"]:
        for change in batch["changes"]:
            if type(change.get("seq")) is not int:
                raise BadRequest(_("Every change needs an integer seq."), code="bad_change")
        keyed.append(([c["seq"] for c in batch["changes"]], [str(c.get("change_id")) for c in batch["changes"]]))
    expected = list(range(batch["from_seq"], batch["to_seq"] + 1))
    if len(keyed) == 1 and keyed[0][0] == expected:   # one block in seq order: the usual batch
        keys = keyed[0][1]
    else:
        ordered = sorted(zip(itertools.chain.from_iterable(s for s, _ in keyed),
                             itertools.chain.from_iterable(k for _, k in keyed)))
        if [seq for seq, _ in ordered] != expected:
            keys = None
        else:
            keys = [key for _, key in ordered]
    if keys is None:
        raise BadRequest(_("The batch must hold each seq from %(first)s to %(last)s once.", first=batch["from_seq"],
                           last=batch["to_seq"]),
                         code="batch_not_contiguous")
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()
    return Prepared(batch, blocks, sorted(batch["changes"], key=lambda c: c["seq"]), unknown, digest, keys[0])


def receive(store: Store, node: dict, body, *, source: str = "push",
            also: Callable[[Database], None] | None = None) -> dict:
    """Apply a batch from an enrolled node; return its acknowledgement. `also(db)` runs in the
    same transaction (the node's last-seen bookkeeping: one commit per batch, not two)."""
    with _receiving(node["id"], body) as stream:
        inserts.wait_for_inserts(INSERT_WAIT_SECONDS)
        prepared = prepare(body, store.db)

        def work(db: Database) -> tuple[str, dict]:
            if also:
                also(db)
            return _commit(db, store, node, prepared, source)

        while True:
            finished = stream.finished
            outcome, detail = store.write(work)
            if outcome != "gap" or not _wait_for_earlier(stream, finished, detail["expected_from"]):
                break
    if outcome in ("gap", "restored"):
        raise Conflict(_("Changes are missing before this batch; send again from %(seq)s.", seq=detail["expected_from"]),
                       code="gap", extra=detail)
    if outcome == "divergent":
        raise Conflict(_("This batch differs from the one the hub already has with the same numbers: "
                         "the laptop's database was copied or restored. Take a new replica id and resend."),
                       code="divergent", extra=detail)
    return detail


# -- batches of one stream arriving together --------------------------------------------------
# A laptop sends its next batch before the answer to the one before arrives (push.IN_FLIGHT),
# so they can reach the writer in any order. A batch that finds a gap waits while an
# earlier batch of its stream is being received (or may just be arriving: GAP_GRACE_SECONDS)
# and tries again once one finishes. A gap nothing in progress fills is answered then, and a
# hub found restored at once (the node rewinds). The laptop sends one batch at a time until
# the hub has answered one in this push, so a stream the hub does not know yet starts at the
# first batch, not the second, and only as many as that answer's `in_flight` says: a hub
# without this wait says nothing and gets one at a time (docs/decisions/0015).
GAP_WAIT_SECONDS = 60
GAP_GRACE_SECONDS = 3.0     # a laptop on a slow link resends a cut batch: the ones behind it wait (decision 0260)
IN_FLIGHT = 3   # batches of a stream this hub takes at once; the acknowledgement says so (`in_flight`)
INSERT_WAIT_SECONDS = 0.5   # at most, before checking a batch while the writer inserts (inserts._inserting)


@dataclass
class _Stream:
    receiving: list           # from_seq of each batch of this stream being received now
    finished: int = 0         # batches of this stream received since the entry was made


_streams: dict[tuple, _Stream] = {}
_streams_changed = threading.Condition()


@contextmanager
def _receiving(node_id: str, body):
    """Count the batch as being received from the start, before its checks: the one after it
    may be checked first and find the gap this one fills."""
    raw = body if isinstance(body, dict) else {}
    key, from_seq = (node_id, str(raw.get("replica"))), raw.get("from_seq")
    from_seq = from_seq if type(from_seq) is int else None
    with _streams_changed:
        stream = _streams.setdefault(key, _Stream([]))
        stream.receiving.append(from_seq)
    try:
        yield stream
    finally:
        with _streams_changed:
            stream.receiving.remove(from_seq)
            stream.finished += 1
            if not stream.receiving:
                del _streams[key]
            _streams_changed.notify_all()


def _wait_for_earlier(stream: _Stream, finished: int, expected_from: int) -> bool:
    """After a gap: True when it is worth writing again, because a batch of the stream finished
    since the write began (`finished` was the count then). Waits for that while a batch that
    starts at or before the gap is being received, or for GAP_GRACE_SECONDS in case one is
    arriving; False when none came."""
    now = time.monotonic()
    grace, deadline = now + GAP_GRACE_SECONDS, now + GAP_WAIT_SECONDS
    with _streams_changed:
        while stream.finished == finished:
            earlier = any(seq is not None and seq <= expected_from for seq in stream.receiving)
            now = time.monotonic()
            if now >= deadline or (not earlier and now >= grace):
                return False
            _streams_changed.wait((deadline if earlier else grace) - now)
        return True


def _commit(db: Database, store: Store, node: dict, prepared: Prepared, source: str) -> tuple[str, dict]:
    batch = prepared.batch
    if batch["origin"]:
        origins.claim(db, node["id"], batch["origin"])
    key = (node["id"], batch["replica"])
    row = db.execute("SELECT high_water FROM streams WHERE node_id = ? AND replica = ?", key).fetchone()
    hub_epoch = hublog.epoch(db)
    acked = batch["acked_to"] if batch["hub_epoch"] == hub_epoch else 0
    if acked > (row[0] if row else 0):
        # The hub restored from a backup, or a laptop that says so: either way this laptop alone
        # starts again from what the hub holds. Other laptops and the epoch stay (decision 0051).
        audit(db, f"node:{node['name']}", "ahead_of_hub", node["id"],
              f"push says acknowledged up to {acked}, the hub holds {row[0] if row else 0}")
        return "restored", {"expected_from": (row[0] if row else 0) + 1, "hub_epoch": hub_epoch}
    if row is None:
        high_water = batch["from_seq"] - 1   # a new stream starts where its laptop is
        db.execute("INSERT INTO streams (node_id, replica, high_water, started_at) VALUES (?, ?, ?, ?)",
                   [*key, high_water, utc_now()])
    else:
        high_water = row[0]
    if batch["from_seq"] > high_water + 1:
        return "gap", {"expected_from": high_water + 1, "hub_epoch": hub_epoch}
    seen = db.execute("SELECT to_seq, digest, first_key, ack FROM batches"
                      " WHERE node_id = ? AND replica = ? AND from_seq = ?", [*key, batch["from_seq"]]).fetchone()
    if seen:
        same_range = seen[0] == batch["to_seq"]
        if same_range and seen[1] == prepared.digest:
            return "ok", {**json.loads(seen[3]), "replay": True, "hub_epoch": hub_epoch}
        if same_range or seen[2] != prepared.first_key:
            return "divergent", {"hub_epoch": hub_epoch}
    ack = _apply(db, store, node, prepared, high_water, hub_epoch)
    db.execute("INSERT OR REPLACE INTO batches (node_id, replica, from_seq, to_seq, batch_id, digest, first_key,"
               " ack, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [*key, batch["from_seq"], batch["to_seq"], batch["batch_id"], prepared.digest,
                prepared.first_key, json.dumps(ack), source, utc_now()])
    return "ok", ack


def _apply(db: Database, store: Store, node: dict, prepared: Prepared, high_water: int, hub_epoch: str) -> dict:
    batch = prepared.batch
    sender = senders.sender_of(db, node["id"])
    result = merge.apply_batch(db, store, sender, prepared.changes, prepared.blocks)
    for code, records in result.refused.items():
        audit(db, f"node:{sender.name}", f"refused_{code}", node["id"],
              f"{len(records)} change(s) refused and quarantined: {', '.join(records[:20])}")
    for name, seqs in prepared.unknown_blocks.items():
        quarantine.hold(db, node["id"], {"entity": name, "seqs": seqs, "block": batch["blocks"][name]},
                        "unknown_entity", {"entity": name})
        for seq in seqs:
            result.reject(seq, quarantine.wire_reason("unknown_entity", {"entity": name}))
    db.execute("UPDATE streams SET high_water = ? WHERE node_id = ? AND replica = ?",
               [max(high_water, batch["to_seq"]), node["id"], batch["replica"]])
    db.execute("UPDATE nodes SET records_received = records_received + ?, restamped = restamped + ?,"
               " last_push = ? WHERE id = ?", [result.accepted, result.restamped, utc_now(), node["id"]])
    return {"batch_id": batch["batch_id"], "acked_to": batch["to_seq"], "accepted": result.accepted,
            "duplicates": result.duplicates, "rejected": sorted(result.rejected, key=lambda r: r["seq"] or 0),
            "conflicts": result.conflicts, "restamped": result.restamped, "flagged": result.flagged,
            "hub_epoch": hub_epoch, "replay": False, "in_flight": IN_FLIGHT}


def audit(db: Database, actor: str | None, action: str, target: str | None, detail: str | None = None) -> None:
    db["sync_audit"].insert({"at": utc_now(), "actor": actor, "action": action, "target": target,
                             "detail": detail})


def hub_restored(store: Store, *, actor: str | None) -> str:
    """An admin says the hub was restored from a backup: a new epoch voids every laptop's cursor
    (decision 0051; the hub no longer takes one laptop's word for it)."""
    def work(db: Database) -> str:
        epoch = hublog.new_epoch(db)
        audit(db, actor, "hub_restored", None, f"new hub epoch {epoch}")
        return epoch

    return store.write(work)
