"""Node: push the outbox to the hub in contiguous batches, exactly once.

A batch is marked acknowledged only after the hub's answer arrives; a lost
answer means the same batch goes again and the hub answers it as a replay.
The next batch is read and compressed while the hub works on the current one.
The hub's refusals each have one remedy here: `gap` rewinds to where the hub
is, `divergent` takes a new replica id, 413 halves the batch.
"""

from __future__ import annotations

import gzip
import json
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from fieldsync.store import Store, connect, new_id
from fieldsync.sync import batches
from fieldsync.sync.client import HubClient, HubError
from fieldsync.sync.protocol import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_CHANGES

RETENTION_DAYS = 30        # acknowledged outbox rows are kept this long (failure case 3)
MAX_SETBACKS = 20          # rewinds, new replicas and halvings in one push before giving up
GZIP_LEVEL = 6


@dataclass
class PushResult:
    pushed: int = 0        # changes acknowledged
    batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)
    conflicts: int = 0
    replays: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Stream:
    """Where this laptop stands with the hub (sync_state row 'hub' and a few meta keys)."""
    acked: int
    stream_acked: int
    replica: str
    hub_epoch: str | None
    origin: str


def load_stream(db: Database) -> Stream:
    row = db.execute("SELECT last_acked_seq, hub_epoch FROM sync_state WHERE peer = 'hub'").fetchone()
    meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('replica_id', 'sync_stream_acked',"
                           " 'node_id')"))
    return Stream(row[0] if row else 0, int(meta.get("sync_stream_acked") or 0), meta["replica_id"],
                  row[1] if row else None, meta["node_id"])


def save_stream(db: Database, stream: Stream) -> None:
    db.execute("INSERT INTO sync_state (peer, last_acked_seq, hub_epoch) VALUES ('hub', ?, ?)"
               " ON CONFLICT(peer) DO UPDATE SET last_acked_seq = excluded.last_acked_seq,"
               " hub_epoch = excluded.hub_epoch", [stream.acked, stream.hub_epoch])
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('replica_id', ?), ('sync_stream_acked', ?)",
               [stream.replica, str(stream.stream_acked)])


def request_body(batch: batches.Batch, stream: Stream) -> dict:
    return {**batch.body, "replica": stream.replica, "hub_epoch": stream.hub_epoch,
            "acked_to": stream.stream_acked, "origin": stream.origin}


def encode(batch: batches.Batch, stream: Stream) -> bytes:
    text = json.dumps(request_body(batch, stream), ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode(), GZIP_LEVEL)


def push(store: Store, client: HubClient, *, max_changes: int = DEFAULT_BATCH_CHANGES,
         max_bytes: int = DEFAULT_BATCH_BYTES, progress: Callable[[int], None] | None = None) -> PushResult:
    result = PushResult()
    stream = load_stream(store.db)
    setbacks = 0
    # One read connection for this push, used by one thread at a time (this one or the reader).
    outbox = connect(store.path)
    with closing(outbox.conn), ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldsync-push") as reader:
        batch, body = _read(outbox, stream, max_changes, max_bytes)
        while batch is not None:
            # Read and compress the next batch while the hub works on this one.
            expected = Stream(batch.to_seq, batch.to_seq, stream.replica, stream.hub_epoch, stream.origin)
            ahead = reader.submit(_read, outbox, expected, max_changes, max_bytes)
            try:
                ack = client.push(body)
            except HubError as exc:
                ahead.result()
                setbacks += 1
                if setbacks > MAX_SETBACKS:
                    raise
                max_changes = _setback(store, stream, exc, max_changes, result)
                batch, body = _read(outbox, stream, max_changes, max_bytes)
                continue
            except BaseException:
                ahead.result()
                raise
            _acknowledged(store, stream, ack, result)
            if progress:
                progress(batch.count)
            if (stream.acked, stream.hub_epoch) == (expected.acked, expected.hub_epoch):
                batch, body = ahead.result()
            else:
                ahead.result()
                batch, body = _read(outbox, stream, max_changes, max_bytes)
    _prune(store, stream.acked)
    return result


def _read(outbox: Database, stream: Stream, max_changes: int, max_bytes: int):
    batch = batches.read_batch(outbox, stream.acked, max_changes=max_changes, max_bytes=max_bytes,
                               replica=stream.replica)
    return (batch, encode(batch, stream)) if batch else (None, None)


def _acknowledged(store: Store, stream: Stream, ack: dict, result: PushResult) -> None:
    epoch_changed = stream.hub_epoch is not None and ack["hub_epoch"] != stream.hub_epoch
    result.pushed += ack["acked_to"] - stream.acked
    before = stream.acked
    stream.acked = stream.stream_acked = ack["acked_to"]
    stream.hub_epoch = ack["hub_epoch"]
    result.batches += 1
    result.accepted += ack["accepted"]
    result.duplicates += ack["duplicates"]
    result.rejected += ack["rejected"]
    result.conflicts += ack.get("conflicts", 0)
    result.replays += bool(ack.get("replay"))

    def work(db: Database) -> None:
        save_stream(db, stream)
        # What this answer acknowledged and is past its retention goes now, while the hub
        # writes the next batch, rather than all at once when the push is over.
        db.execute("DELETE FROM changes WHERE seq > ? AND seq <= ? AND created_at < ?",
                   [before, stream.acked, _retention_cutoff()])
        if epoch_changed:
            forget_pull_cursor(db)

    store.write(work)


def forget_pull_cursor(db: Database) -> None:
    """The hub was restored: take a full snapshot at the next pull and drop what it lacks."""
    db.execute("UPDATE sync_state SET pull_cursor = NULL WHERE peer = 'hub'")
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('pull_resync', '1')")


def _setback(store: Store, stream: Stream, exc: HubError, max_changes: int, result: PushResult) -> int:
    """Do what the hub's refusal asks; returns the batch size to use next."""
    if exc.code == "gap":
        _rewind(store, stream, exc.extra["expected_from"], exc.extra.get("hub_epoch"), result)
    elif exc.code == "divergent":
        stream.replica, stream.stream_acked = secrets.token_hex(8), 0
        stream.origin = _new_identity(store)
        result.notes.append("this laptop's database was copied or restored: it now sends as a new replica")
    elif exc.status == 413 and max_changes > 1:
        return max_changes // 2
    else:
        raise exc
    store.write(lambda db: save_stream(db, stream))
    return max_changes


def _new_identity(store: Store) -> str:
    """A copied database must stop stamping as its twin does: same HLC node, same check-in node."""
    origin = new_id()
    store.write(lambda db: db.execute("UPDATE meta SET value = ? WHERE key = 'node_id'", [origin]))
    store.node_id = store.hlc.node = origin
    return origin


def _rewind(store: Store, stream: Stream, expected_from: int, hub_epoch: str | None, result: PushResult) -> None:
    oldest = store.db.execute("SELECT MIN(seq) FROM changes").fetchone()[0]
    if hub_epoch and hub_epoch != stream.hub_epoch:
        store.write(forget_pull_cursor)
        stream.hub_epoch = hub_epoch
    if oldest is not None and expected_from < oldest:
        # The hub lost changes this laptop no longer keeps: send what is left as a new stream.
        result.notes.append(f"the hub lost changes {expected_from}-{oldest - 1}, which this laptop "
                            "no longer keeps")
        stream.replica, stream.stream_acked = secrets.token_hex(8), 0
        stream.acked = oldest - 1
        return
    stream.acked = stream.stream_acked = expected_from - 1


def _retention_cutoff() -> str:
    cutoff = (datetime.now(UTC) - timedelta(days=RETENTION_DAYS)).isoformat(timespec="milliseconds")
    return cutoff.replace("+00:00", "Z")


def _prune(store: Store, acked: int) -> None:
    """Acknowledged rows past their retention, acknowledged in earlier pushes (this push's went
    with their answers)."""
    cutoff = _retention_cutoff()
    store.write(lambda db: db.execute("DELETE FROM changes WHERE seq <= ? AND created_at < ?", [acked, cutoff]))
