"""Node: push the outbox to the hub in contiguous batches, exactly once.

A batch is marked acknowledged only after the hub's answer arrives; a lost
answer means the same batch goes again and the hub answers it as a replay.
The next batch is read and compressed while the hub works on the current one, and
sent before the current one's answer arrives (IN_FLIGHT): the hub decodes and checks
it while it writes the one before. Answers are taken in order; after a refusal or a
failure the answers still to come are dropped and the push goes on from what is
acknowledged (docs/decisions/0015).
The hub's refusals each have one remedy here: `gap` rewinds to where the hub
is, `divergent` takes a new replica id, 413 halves the batch. Batch sizes follow
the link (sync/link.py): a batch whose connection was cut goes again once.
"""

from __future__ import annotations

import gzip
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from fieldsync.errors import HubError, HubUnreachable
from fieldsync.i18n import _
from fieldsync.store import Store, new_id, outbox
from fieldsync.store.clock import utc_text
from fieldsync.sync import batches
from fieldsync.sync.link import Pacing
from fieldsync.sync.protocol import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_CHANGES
from fieldsync.sync.upstream.client import HubClient

RETENTION_DAYS = 30        # outbox rows are kept this long after the hub acknowledged them (failure case 3)
MAX_SETBACKS = 20          # rewinds, new replicas and halvings in one push before giving up
IN_FLIGHT = 3              # batches at the hub at once: it checks the next while it writes one, and
                           # writes two waiting in one transaction (decision 0015)
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
    outbox.forget_acks_after(db, stream.acked)


def request_body(batch: batches.Batch, stream: Stream) -> dict:
    return {**batch.body, "replica": stream.replica, "hub_epoch": stream.hub_epoch,
            "acked_to": stream.stream_acked, "origin": stream.origin}


def encode(batch: batches.Batch, stream: Stream) -> bytes:
    text = json.dumps(request_body(batch, stream), ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode(), GZIP_LEVEL)


def push(store: Store, client: HubClient, *, max_changes: int = DEFAULT_BATCH_CHANGES,
         max_bytes: int = DEFAULT_BATCH_BYTES, progress: Callable[[int], None] | None = None,
         pacing: Pacing | None = None, result: PushResult | None = None) -> PushResult:
    """Push what the hub has not acknowledged. `pacing` carries what this sync learnt of the link
    from one try to the next; `result` adds this try's figures to the ones before."""
    result = result if result is not None else PushResult()
    pacing = pacing or Pacing()
    stream = load_stream(store.db)
    setbacks = 0
    by_reference = True   # people the hub holds named by the tails of their ids (sync/refs.py)
    # One read connection for this push, used by the reader thread alone.
    reading = store.own_reader()
    with closing(reading.conn), ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldsync-read") as reader, \
            ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="fieldsync-push") as sender:

        def read_after(seq: int, *, first: bool = False) -> Future:
            """The batch after seq, read and compressed by the reader. It says the stream is
            acknowledged only as far as it is now (the hub takes more as a sign it was restored).
            The first batch is small: nothing else goes until the hub answers it, and meanwhile
            the reader has the next one ready. Sizes follow the link (Pacing)."""
            return reader.submit(_read, reading, replace(stream, acked=seq), max_changes, max_bytes, pacing, first,
                                 by_reference)

        sent: deque[tuple[batches.Batch, int, Future]] = deque()
        ahead: Future | None = read_after(stream.acked, first=True)
        window = 1   # batches at the hub at once: more once it has answered one in this push
        while True:
            # Keep `window` batches at the hub: it checks the next while it writes this one. One
            # at a time until it has answered one: a stream it does not know (a new replica, a hub
            # restored from a backup) must start at the first batch, not at the second. Then as
            # many as its answer says it takes (a hub that says nothing: one at a time).
            while len(sent) < window and ahead is not None:
                batch, body = ahead.result()
                if batch is None:
                    ahead = None
                    break
                sent.append((batch, len(body), sender.submit(_send, client, body, pacing)))
                ahead = read_after(batch.to_seq)
            if not sent:
                break
            batch, size, answer = sent.popleft()
            epoch = stream.hub_epoch
            try:
                ack, seconds = answer.result()
            except HubError as exc:
                _settle(sent, ahead)
                window = 1
                setbacks += 1
                if setbacks > MAX_SETBACKS:
                    raise
                if exc.code == "refs_unresolved":   # the hub lacks a person it was thought to hold
                    by_reference = False
                else:
                    max_changes = _setback(store, stream, exc, max_changes, result)
                ahead = read_after(stream.acked, first=True)
                continue
            except HubUnreachable:
                # Sent twice, cut twice. A batch after it the hub did take shows the hub holds
                # everything before it too (it applies none past a gap): count up to there.
                held = [a for a in _settle(sent, ahead) if a["acked_to"] > stream.acked]
                if held and all(a["hub_epoch"] == stream.hub_epoch for a in held):
                    _acknowledged(store, stream, max(held, key=lambda a: a["acked_to"]), result)
                raise
            except BaseException:
                _settle(sent, ahead)
                raise
            _acknowledged(store, stream, ack, result)
            pacing.acknowledged(size, seconds)
            takes = ack.get("in_flight")
            window = min(IN_FLIGHT, takes) if type(takes) is int and takes > 1 else 1
            if progress:
                progress(batch.count)
            if stream.acked != batch.to_seq or epoch not in (None, stream.hub_epoch):
                # The hub moved the stream (a new epoch): what was read and sent after this
                # batch went out under the old one. Its answers are dropped; sent again, the
                # hub takes those batches as replays or applies them anew.
                _settle(sent, ahead)
                ahead = read_after(stream.acked)
    _prune(store, stream.acked)
    return result


def _settle(sent: deque, ahead: Future | None) -> list[dict]:
    """Wait for every batch still at the hub and for the reader: the push goes on from what is
    acknowledged (a batch the hub did take is then a replay). Returns the answers that came."""
    acks = [answer.result()[0] for _batch, _size, answer in sent if answer.exception() is None]
    sent.clear()
    if ahead is not None:
        ahead.exception()
    return acks


def _read(db: Database, stream: Stream, max_changes: int, max_bytes: int, pacing: Pacing | None = None,
          first: bool = False, by_reference: bool = True):
    """The next batch and its body: max_changes at most, as many as `pacing` says fit the link.
    `by_reference`: people the hub holds named by the tails of their ids (sync/refs.py)."""
    count = pacing.changes(max_changes, first=first) if pacing else max_changes
    while True:
        batch = batches.read_batch(db, stream.acked, max_changes=count, max_bytes=max_bytes, replica=stream.replica,
                                   hub_acked=stream.stream_acked if by_reference else None)
        if batch is None:
            return None, None
        body = encode(batch, stream)
        smaller = pacing.read(batch.count, len(body)) if pacing else None
        if smaller is None:
            return batch, body
        count = smaller


def _send(client: HubClient, body: bytes, pacing: Pacing) -> tuple[dict, float]:
    """Send a batch: its answer and the seconds it took. If its connection fails, the same batch
    once more at once (the hub answers a replay if it took it the first time). A second failure
    goes to the push, which goes on from what is acknowledged, in smaller batches."""
    started = time.monotonic()
    try:
        ack = client.push(body)
    except HubUnreachable:
        pacing.was_cut(len(body))
        pacing.resent += 1
        started = time.monotonic()
        try:
            ack = client.push(body)
        except HubUnreachable:
            pacing.was_cut(len(body))
            raise
    return ack, time.monotonic() - started


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
        outbox.acknowledged(db, stream.acked, _hub_time(store))
        # Rows past their retention go as many at a time as this answer acknowledged, while the
        # hub writes the next batch, rather than all at once when the push is over.
        outbox.prune(db, stream.acked, _hub_time(store, days_ago=RETENTION_DAYS), most=stream.acked - before)
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
        result.notes.append(_("this laptop's database was copied or restored: it now sends as a new replica"))
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
    if expected_from <= stream.acked or (hub_epoch and hub_epoch != stream.hub_epoch):
        # The hub forgot what it acknowledged (restored from a backup): its log may have
        # forgotten what this laptop pulled too. This laptop alone takes a snapshot.
        store.write(forget_pull_cursor)
        stream.hub_epoch = hub_epoch or stream.hub_epoch
    if oldest is not None and expected_from < oldest:
        # The hub lost changes this laptop no longer keeps: send what is left as a new stream.
        result.notes.append(_("the hub lost changes %(first)s-%(last)s, which this laptop no longer keeps",
                              first=expected_from, last=oldest - 1))
        stream.replica, stream.stream_acked = secrets.token_hex(8), 0
        stream.acked = oldest - 1
        return
    stream.acked = stream.stream_acked = expected_from - 1


def _hub_time(store: Store, *, days_ago: int = 0) -> str:
    """Acknowledgements are dated and retention measured by the hub-corrected clock (failure
    case 5): a laptop clock set back, then right, must not make rows look a year old."""
    now = datetime.fromtimestamp(store.hlc.physical_ms() / 1000, UTC)
    return utc_text(now - timedelta(days=days_ago))


def _prune(store: Store, acked: int) -> None:
    """Rows past their retention that this push's answers left (each took its batch's worth)."""
    cutoff = _hub_time(store, days_ago=RETENTION_DAYS)
    store.write(lambda db: outbox.prune(db, acked, cutoff))
