"""Node: one sync (push, then pull), what it did in one sentence, and the laptop's sync status.

Used by `fieldsync sync`, the "sync now" button and the auto-sync thread, which keep going
through a link's cuts (link.KeepGoing) and say how far they got (`progress_of`).
Every outcome is written to sync_state, so every page can say when the last
sync succeeded, how many records wait, and what went wrong in plain words.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from fieldsync.errors import FieldsyncError, HubUnreachable, NotEnrolled
from fieldsync.i18n import _, ngettext
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.sync import batches, chain, enrollment
from fieldsync.sync.link import KeepGoing, Pacing
from fieldsync.sync.upstream.client import HubClient
from fieldsync.sync.upstream.pull import PullResult, pull
from fieldsync.sync.upstream.push import PushResult, push

# One sync at a time per database in this process (the button and the timer may meet).
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_running: dict[str, SyncSummary] = {}   # database path -> the sync under way, for the pages


@dataclass
class SyncSummary:
    push: PushResult = field(default_factory=PushResult)
    pull: PullResult = field(default_factory=PullResult)
    pacing: Pacing = field(default_factory=Pacing)    # batch sizes, cuts and batches sent again
    tries: int = 1
    waiting: int = 0                                  # records waiting when the sync began

    def text(self) -> str:
        """One line in the reader's language: "pushed 12,408 records in 3 batches, pulled ..."."""
        p = self.push
        parts = [ngettext("pushed %(count)s record", "pushed %(count)s records", p.pushed, count=f"{p.pushed:,}")
                 + ngettext(" in %(num)s batch", " in %(num)s batches", p.batches),
                 ngettext("pulled %(count)s change", "pulled %(count)s changes", self.pull.pulled,
                          count=f"{self.pull.pulled:,}"),
                 _("%(num)s rejected", num=len(p.rejected))]
        if p.conflicts:
            parts.append(ngettext("%(num)s conflict for review at the hub", "%(num)s conflicts for review at the hub",
                                  p.conflicts))
        if self.pull.held:
            parts.append(ngettext("%(num)s pulled change could not be applied and is held (see the home page)",
                                  "%(num)s pulled changes could not be applied and are held (see the home page)",
                                  self.pull.held))
        if self.pacing.cuts:
            parts.append(ngettext("the link was cut %(num)s time and the sync went on",
                                  "the link was cut %(num)s times and the sync went on", self.pacing.cuts))
        if self.pull.dropped:
            parts.append(ngettext("%(num)s record no longer at the hub was removed",
                                  "%(num)s records no longer at the hub were removed", self.pull.dropped))
        return _("; ").join([_(", ").join(parts[:3]), *parts[3:], *p.notes])


def lock_for(store: Store) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(store.path), threading.Lock())


def client_for(instance: Path) -> HubClient:
    creds = enrollment.credentials(instance)
    if creds is None:
        raise NotEnrolled(_("This laptop is not enrolled with a hub yet: run `fieldsync enroll HUB_URL CODE`."))
    return HubClient(creds.hub_url, creds.token)


def sync(store: Store, instance: Path, *, progress: Callable[[str, float], None] | None = None,
         client: HubClient | None = None, keep_going: KeepGoing | None = None) -> SyncSummary:
    """Push then pull. Records the outcome for the status banner; re-raises failures. With
    `keep_going`, a failed connection is tried again, from what the hub acknowledged, as long as
    that policy allows; `progress(stage, n)` hears of records ("push", "pull") and of the seconds
    it waits before another try ("wait")."""
    client = client or client_for(instance)
    summary = SyncSummary()
    with lock_for(store):
        store.write(_attempt_started)
        summary.waiting = status(store, instance)["waiting"]
        _running[str(store.path)] = summary
        try:
            _until_done(store, client, summary, progress, keep_going)
        except FieldsyncError as exc:
            _remember_clock(store, client)
            store.write(functools.partial(_failed, error=exc))
            if exc.code == "node_revoked" and not chain.forwards(store.db):   # a hub keeps its area's people
                wipe_pulled_people(store)
            raise
        finally:
            _running.pop(str(store.path), None)
        _remember_clock(store, client)
        store.write(_succeeded)
    return summary


def _until_done(store: Store, client: HubClient, summary: SyncSummary, progress, keep_going: KeepGoing | None):
    def heard(stage: str):
        return (lambda n: progress(stage, n)) if progress else None

    while True:
        before = (summary.push.batches, summary.pull.pulled)
        try:
            push(store, client, progress=heard("push"), pacing=summary.pacing, result=summary.push)
            pull(store, client, progress=heard("pull"), result=summary.pull, pacing=summary.pacing)
            return
        except HubUnreachable as exc:
            if keep_going is None:
                raise
            moved = (summary.push.batches, summary.pull.pulled) != before
            wait = keep_going.wait_before_next(moved, reached=client.reached)
            if wait is None:
                raise _gave_up(exc, keep_going, summary, reached=client.reached) from None
            summary.tries = keep_going.attempts
            if progress:
                progress("wait", wait)
            time.sleep(wait)


def _gave_up(last: HubUnreachable, keep_going: KeepGoing, summary: SyncSummary, *, reached: bool) -> HubUnreachable:
    """The error to show once tries ran out: the hub's own failure if it never answered (it is
    down, or the network), else a link that kept failing, and how far it got."""
    if not reached:
        return last
    return HubUnreachable(
        _("The link to the hub kept failing: %(tries)s tries in %(seconds)s s, the last one: %(reason)s "
          "%(sent)s records got through and are kept; the rest go at the next sync.",
          tries=keep_going.attempts, seconds=round(keep_going.elapsed()), reason=last.message,
          sent=f"{summary.push.pushed:,}"),
        code="hub_link_failing", extra=last.extra)


def progress_of(store: Store) -> SyncSummary | None:
    """The sync under way in this process for this database, if one is."""
    return _running.get(str(store.path))


def _attempt_started(db: Database) -> None:
    db.execute("INSERT INTO sync_state (peer, last_attempt) VALUES ('hub', ?)"
               " ON CONFLICT(peer) DO UPDATE SET last_attempt = excluded.last_attempt", [utc_now()])


def _succeeded(db: Database) -> None:
    db.execute("UPDATE sync_state SET last_success = ?, last_error = NULL WHERE peer = 'hub'", [utc_now()])


def _failed(db: Database, error: FieldsyncError) -> None:
    db.execute("UPDATE sync_state SET last_error = ? WHERE peer = 'hub'",
               [json.dumps({"code": error.code, "message": error.message, "at": utc_now()}, ensure_ascii=False)])


def _remember_clock(store: Store, client: HubClient) -> None:
    """Stamp with hub-corrected time from now on. The offset, numbered, survives restarts in
    sync_state, where a server running beside a `fieldsync sync` finds it too (HLC.follow)."""
    if client.clock_offset_ms is None:
        return
    offset = client.clock_offset_ms
    number = store.write(lambda db: db.execute(
        "UPDATE sync_state SET clock_offset_ms = ?, clock_syncs = clock_syncs + 1 WHERE peer = 'hub'"
        " RETURNING clock_syncs", [offset]).fetchone()[0])
    store.hlc.synced(offset, number)


def wipe_pulled_people(store: Store) -> int:
    """A revoked laptop keeps no personal data it pulled from the hub (failure case 12).
    Its own outbox stays, so it can still hand its records over in a bundle."""
    def work(db: Database) -> int:
        ids = [r[0] for r in db.execute("SELECT id FROM people WHERE origin IS NOT ?", [store.node_id])]
        for person_id in ids:
            db.execute("DELETE FROM people WHERE id = ?", [person_id])
            db.execute("DELETE FROM history WHERE entity = 'people' AND record_id = ?", [person_id])
        return len(ids)

    return store.write(work)


# -- status ----------------------------------------------------------------------------------
def status(store: Store, instance: Path) -> dict:
    row = store.query_one("SELECT * FROM sync_state WHERE peer = 'hub'") or {}
    creds = enrollment.credentials(instance)
    error = json.loads(row["last_error"]) if row.get("last_error") else None
    return {"enrolled": creds is not None, "hub_url": creds.hub_url if creds else None,
            "town": creds.town if creds else None, "last_success": row.get("last_success"),
            "last_attempt": row.get("last_attempt"), "last_error": error,
            "waiting": batches.pending(store.db, row.get("last_acked_seq") or 0),
            "clock_offset_ms": row.get("clock_offset_ms") or 0, "syncing": _syncing(store)}


def _syncing(store: Store) -> dict | None:
    """How far the sync under way has got, for the pages (None when none runs in this process)."""
    summary = progress_of(store)
    if summary is None:
        return None
    return {"pushed": summary.push.pushed, "waiting": summary.waiting, "pulled": summary.pull.pulled,
            "cuts": summary.pacing.cuts, "resent": summary.pacing.resent, "tries": summary.tries}
