"""Check-in: the one place that decides what a scan means (badge, signature,
revocation, duplicates). The kiosk, the station API and the CLI only translate
its result.

A scan answered "ok" is in SQLite, committed with synchronous=FULL, before the
answer leaves. Every attempt, refused ones too, lands in scan_log, and a
client-made id makes a retried scan return the first answer instead of
recording twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound
from fieldsync.i18n import _
from fieldsync.records import badges
from fieldsync.store import Store, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.db import insert_rows
from fieldsync.store.outbox import record_changes

# What a scan can come to. The kiosk maps each to a colour, a sound and a sentence.
OK = "ok"                  # recorded
ALREADY = "already"        # was already in; nothing recorded
NOT_IN = "not_in"          # check-out of someone not checked in; nothing recorded
INVALID = "invalid"        # not our badge, altered, or unknown issuer
REVOKED = "revoked"        # a badge of an older generation, or from a revoked issuer
CANCELLED = "cancelled"    # the person's registration was cancelled (注销)
UNKNOWN = "unknown"        # not a badge at all: offer walk-in registration

CHECKIN_COLUMNS = ("id", "session_id", "person_id", "badge_key", "badge_generation", "direction",
                   "scanned_at", "hlc", "node", "station", "method", "flags")
SCAN_LOG_COLUMNS = ("client_id", "session_id", "station", "scanned", "result", "person_id", "checkin_id", "at")


@dataclass
class ScanResult:
    status: str
    reason: str = ""
    person: dict | None = None
    checkin: dict | None = None
    since: str | None = None     # for ALREADY: when the person came in
    form_id: str | None = None   # for OK and ALREADY: the form the session asks attendees to fill
    replay: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def recorded(self) -> bool:
        return self.status == OK

    def to_dict(self) -> dict:
        person = self.person
        if person is not None:
            person = {k: person.get(k) for k in ("id", "name", "level", "town", "village")}
        return {"status": self.status, "reason": self.reason, "recorded": self.recorded,
                "person": person, "checkin": self.checkin, "since": self.since,
                "replay": self.replay}


@dataclass
class _Scan:
    """One scan as it waits for the writer: everything the request thread already knows."""

    session_id: str
    badge: badges.BadgeCheck | None   # None: a manual check-in, or not a badge at all
    person_id: str | None
    direction: str
    method: str
    station: str
    client_id: str | None
    when: str
    scanned: str          # what was scanned or typed: the badge text, or the person id


def check_in(store: Store, *, session_id: str, code: str | None = None, person_id: str | None = None,
             direction: str = "in", station: str = "kiosk", client_id: str | None = None,
             scanned_at: datetime | None = None, method: str = "manual") -> ScanResult:
    """Decide and record one scan (code) or manual check-in (person_id, method manual/walk-in)."""
    badge = _read_badge(store, code) if code is not None and not person_id else None
    return store.write_many(_record_scans, _Scan(
        session_id, badge, person_id, direction, method, station, client_id, _timestamp(store, scanned_at),
        code or person_id or ""))


def _read_badge(store: Store, code: str) -> badges.BadgeCheck | None:
    """The badge's signature verdict, or None when the code is not a badge at all.

    Checking the signature is pure CPU, so it runs on the request's thread before the
    scan queues for the one writer, which every scan waits for. The key comes from a
    short-lived memory; the writer reads the key again and the revocations, and decides.
    """
    if not badges.looks_like_badge(code):
        return None
    keys = store.recent("badge_keys")
    return badges.check_signature(code, lambda key_id: keys.get(
        key_id, lambda: store.db.execute(badges.KEY_SQL, [key_id]).fetchone()))


def _record_scans(store: Store, db: Database, scans: list[_Scan]) -> list[ScanResult | Exception]:
    """The writer's half of check_in() for every scan queued meanwhile, in queue order.

    A handful of statements for the whole group (decision 0004): one read of what the
    decisions need, the decisions in Python (a scan sees those before it in the group),
    one INSERT per table.
    """
    facts = _Facts.read(db, scans, badges.own_public_key(store))
    results: list[ScanResult | Exception] = []
    checkins, changes, logs = [], [], []
    answered: dict[str, ScanResult] = {}     # client id -> result, for a retry within the group
    for scan in scans:
        if scan.client_id in answered or scan.client_id in facts.replays:
            replay = answered.get(scan.client_id) or _replay(db, facts.replays[scan.client_id])
            if replay.status in (OK, ALREADY):
                replay.form_id = facts.sessions.get(scan.session_id, (None, None))[1]
            results.append(replay)
            continue
        try:
            result = _decide(facts, scan)
        except (NotFound, Conflict) as exc:
            results.append(exc)
            continue
        if result.status == OK:
            row = _checkin_row(store, scan, result)
            result.checkin = row
            checkins.append(tuple(row[c] for c in CHECKIN_COLUMNS))
            changes.append(("checkins", row["id"], "upsert", row["hlc"], row))
            facts.saw(scan, row)
        logs.append((scan.client_id, scan.session_id, scan.station, scan.scanned[:200], result.status,
                     result.person["id"] if result.person else None,
                     result.checkin["id"] if result.checkin else None, utc_now()))
        if scan.client_id:
            answered[scan.client_id] = replace(result, reason="replay", replay=True)
        results.append(result)
    insert_rows(db, "checkins", CHECKIN_COLUMNS, checkins)
    record_changes(db, changes)
    insert_rows(db, "scan_log", SCAN_LOG_COLUMNS, logs)
    return results


@dataclass
class _Facts:
    """What the writer knows about a group's sessions, people, keys and earlier scans."""

    sessions: dict[str, tuple]            # id -> (status, form_id)
    people: dict[str, dict]               # id -> person, with its badge min_generation
    keys: dict[int, tuple]                # key id -> its row of badges.ISSUER_SQL
    last: dict[tuple[str, str], tuple]    # (session, person) -> (last direction, first in)
    replays: dict[str, tuple]             # client id -> its scan_log row
    own_key: str | None                   # the keys vouching for everyone: this laptop's own
    hub_key: str | None                   # and the hub's

    @classmethod
    def read(cls, db: Database, scans: list[_Scan], own_key: str | None) -> _Facts:
        pairs = sorted({(s.session_id, p) for s in scans if (p := _person_of(s))})
        people, last = {}, {}
        if pairs:
            # One statement, one row: json_group_array folds the answer so the writer
            # gives up the GIL once for it, not once per row fetched.
            rows = db.execute(
                f"WITH asked(session_id, person_id) AS (VALUES {', '.join(['(?, ?)'] * len(pairs))})"
                " SELECT json_group_array(json_array(a.session_id, a.person_id, p.id, p.name, p.level,"
                "  p.town, p.village, p.status, r.min_generation, p.origin,"
                "  (SELECT c.direction FROM checkins c WHERE c.session_id = a.session_id"
                "    AND c.person_id = a.person_id ORDER BY c.hlc DESC LIMIT 1),"
                "  (SELECT MIN(c.scanned_at) FROM checkins c WHERE c.session_id = a.session_id"
                "    AND c.person_id = a.person_id AND c.direction = 'in')))"
                " FROM asked a LEFT JOIN people p ON p.id = a.person_id"
                " LEFT JOIN badge_revocations r ON r.person_id = a.person_id",
                [value for pair in pairs for value in pair]).fetchone()[0]
            for session_id, person_id, found, *person, min_generation, origin, direction, first_in \
                    in json.loads(rows):
                if found:
                    people[person_id] = {**dict(zip(PERSON_COLUMNS, (found, *person))),
                                         "min_generation": min_generation, "origin": origin}
                last[session_id, person_id] = (direction, first_in)
        session_ids = sorted({s.session_id for s in scans})
        sessions = {row[0]: row[1:] for row in db.execute(
            f"SELECT id, status, form_id FROM sessions WHERE id IN ({_marks(len(session_ids))})", session_ids)}
        key_ids = sorted({s.badge.key_id for s in scans if s.badge and s.badge.key_id is not None})
        keys = {row[0]: row for row in db.execute(
            badges.ISSUER_SQL.format(_marks(len(key_ids))), key_ids)} if key_ids else {}
        hub_key = db.execute("SELECT value FROM meta WHERE key = ?", [badges.HUB_KEY_META]).fetchone() \
            if key_ids else None
        client_ids = [s.client_id for s in scans if s.client_id]
        replays = {row[0]: row for row in db.execute(
            f"SELECT client_id, result, person_id, checkin_id FROM scan_log"
            f" WHERE client_id IN ({_marks(len(client_ids))})", client_ids)} if client_ids else {}
        return cls(sessions, people, keys, last, replays, own_key, hub_key[0] if hub_key else None)

    def saw(self, scan: _Scan, row: dict) -> None:
        """A scan recorded earlier in the group counts for the scans after it."""
        key = (scan.session_id, row["person_id"])
        first_in = self.last.get(key, (None, None))[1]
        if scan.direction == "in" and (first_in is None or scan.when < first_in):
            first_in = scan.when
        self.last[key] = (scan.direction, first_in)


def _person_of(scan: _Scan) -> str | None:
    if scan.person_id:
        return scan.person_id
    return scan.badge.person_id if scan.badge else None


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _decide(facts: _Facts, scan: _Scan) -> ScanResult:
    session = facts.sessions.get(scan.session_id)
    if session is None:
        raise NotFound(_("No session with id %(id)s.", id=scan.session_id), code="session_not_found")
    if session[0] != "active":
        raise Conflict(code="session_cancelled")
    key_id, generation, flags, method, person_id = None, None, [], scan.method, scan.person_id
    if not person_id:
        check = scan.badge
        if check is None:
            return ScanResult(UNKNOWN, "not_a_badge")
        if check.ok or check.reason == "unknown_key":
            check = _as_the_writer_sees_it(facts, scan)
        if not check.ok:
            status = REVOKED if check.reason in ("revoked", "key_revoked") else INVALID
            return ScanResult(status, check.reason, person=_public(facts.people.get(check.person_id))
                              if status == REVOKED else None)
        method, person_id = "qr", check.person_id
        key_id, generation = check.key_id, check.generation
    person = _public(facts.people.get(person_id))
    if person is None:
        if method != "qr":
            raise NotFound(_("No person with id %(id)s.", id=person_id), code="person_not_found")
        # A valid badge from another town: the scan is a fact, the hub names the person.
        flags.append("foreign")
    elif person["status"] == "cancelled":
        return ScanResult(CANCELLED, "person_cancelled", person=person)
    last, first_in = facts.last.get((scan.session_id, person_id), (None, None))
    if scan.direction == "in" and last == "in":
        return ScanResult(ALREADY, "already_in", person=person, since=first_in, form_id=session[1])
    if scan.direction == "out" and last != "in":
        return ScanResult(NOT_IN, "not_checked_in", person=person)
    return ScanResult(OK, "", person=person or {"id": person_id}, form_id=session[1],
                      extra={"method": method, "key_id": key_id, "generation": generation,
                             "flags": ",".join(flags)})


def _as_the_writer_sees_it(facts: _Facts, scan: _Scan) -> badges.BadgeCheck:
    """The request thread checked the signature with a remembered key; judge it with the
    key and revocations read in this transaction (a key added or replaced meanwhile:
    check the signature again), and whether that key may sign this person's badge."""
    check = scan.badge
    key = facts.keys.get(check.key_id)
    if key is None or key[1] != check.public_key:
        check = badges.check_signature(scan.scanned, lambda _: key and key[1:])
        if not check.ok:
            return check
    person = facts.people.get(check.person_id)
    check = badges.revocation_verdict(check, key[2], (person or {}).get("min_generation"))
    refused = check.ok and badges.vouches(key, person, own_key=facts.own_key, hub_key=facts.hub_key)
    return replace(check, ok=False, reason=refused) if refused else check


def _checkin_row(store: Store, scan: _Scan, result: ScanResult) -> dict:
    hlc = store.hlc.now()
    return {"id": scan.client_id or new_id(), "session_id": scan.session_id, "person_id": result.person["id"],
            "badge_key": result.extra["key_id"], "badge_generation": result.extra["generation"],
            "direction": scan.direction, "scanned_at": scan.when, "hlc": hlc, "node": store.node_id,
            "station": scan.station, "method": result.extra["method"], "flags": result.extra["flags"]}


def _replay(db: Database, log: tuple) -> ScanResult:
    """The answer a retried scan gets: what its first try was answered, marked as a replay."""
    _, status, person_id, checkin_id = log
    checkin = None
    if checkin_id:
        cursor = db.execute("SELECT * FROM checkins WHERE id = ?", [checkin_id])
        row = cursor.fetchone()
        checkin = dict(zip([c[0] for c in cursor.description], row)) if row else None
    person = _person(db, person_id)
    return ScanResult(status, "replay", person=person or ({"id": person_id} if person_id else None),
                      checkin=checkin, replay=True)


PERSON_COLUMNS = ("id", "name", "level", "town", "village", "status")


def _public(person: dict | None) -> dict | None:
    return {k: person[k] for k in PERSON_COLUMNS} if person else None


def _person(db: Database, person_id: str | None) -> dict | None:
    if not person_id:
        return None
    row = db.execute(f"SELECT {', '.join(PERSON_COLUMNS)} FROM people WHERE id = ?", [person_id]).fetchone()
    return dict(zip(PERSON_COLUMNS, row)) if row else None


def _timestamp(store: Store, scanned_at: datetime | None) -> str:
    """The scan's time: the device's when it sent one (a phone's queued scan), else the
    laptop's hub-corrected clock, which a clock set wrong after the last sync does not move."""
    if scanned_at is None:
        scanned_at = datetime.fromtimestamp(store.hlc.physical_ms() / 1000, UTC)
    elif scanned_at.tzinfo is None:
        scanned_at = scanned_at.replace(tzinfo=UTC)
    return scanned_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def attendees(store: Store, session_id: str) -> list[dict]:
    """Who is at a session: first in, last out, whether still in, name where known."""
    return store.query(
        "SELECT a.person_id, p.name, p.level, p.village, a.first_in, a.last_out, a.scans,"
        " (SELECT direction FROM checkins c WHERE c.session_id = a.session_id"
        "   AND c.person_id = a.person_id ORDER BY hlc DESC LIMIT 1) AS state"
        " FROM attendance a LEFT JOIN people p ON p.id = a.person_id"
        " WHERE a.session_id = ? ORDER BY a.first_in DESC NULLS LAST", [session_id])


def counts(store: Store, session_id: str) -> dict:
    row = store.db.execute(
        "SELECT COUNT(DISTINCT person_id),"
        " COUNT(DISTINCT CASE WHEN direction = 'in' THEN person_id END) FROM checkins WHERE session_id = ?",
        [session_id]).fetchone()
    return {"people": row[0], "checked_in": row[1]}
