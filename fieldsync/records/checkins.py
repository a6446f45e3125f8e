"""Check-in: the one place that decides what a scan means (badge, signature,
revocation, duplicates). The kiosk, the station API and the CLI only translate
its result.

A scan answered "ok" is in SQLite, committed with synchronous=FULL, before the
answer leaves. Every attempt, refused ones too, lands in scan_log, and a
client-made id makes a retried scan return the first answer instead of
recording twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound
from fieldsync.records import badges
from fieldsync.store import Store, new_id
from fieldsync.store.outbox import record_change, utc_now

# What a scan can come to. The kiosk maps each to a colour, a sound and a sentence.
OK = "ok"                  # recorded
ALREADY = "already"        # was already in; nothing recorded
NOT_IN = "not_in"          # check-out of someone not checked in; nothing recorded
INVALID = "invalid"        # not our badge, altered, or unknown issuer
REVOKED = "revoked"        # a badge of an older generation, or from a revoked issuer
CANCELLED = "cancelled"    # the person's registration was cancelled (注销)
UNKNOWN = "unknown"        # not a badge at all: offer walk-in registration
RESULTS = (OK, ALREADY, NOT_IN, INVALID, REVOKED, CANCELLED, UNKNOWN)

CHECKIN_COLUMNS = ("id", "session_id", "person_id", "badge_key", "badge_generation", "direction",
                   "scanned_at", "hlc", "node", "station", "method", "flags")
SCAN_LOG_COLUMNS = ("client_id", "session_id", "station", "scanned", "result", "person_id", "checkin_id", "at")


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    # Plain INSERTs on the writer thread: sqlite-utils' insert() inspects the schema on
    # every call, which cost more than the rest of the scan's writes.
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


INSERT_CHECKIN = _insert_sql("checkins", CHECKIN_COLUMNS)
INSERT_SCAN_LOG = _insert_sql("scan_log", SCAN_LOG_COLUMNS)


@dataclass
class ScanResult:
    status: str
    reason: str = ""
    person: dict | None = None
    checkin: dict | None = None
    since: str | None = None     # for ALREADY: when the person came in
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


def check_in(store: Store, *, session_id: str, code: str | None = None, person_id: str | None = None,
             direction: str = "in", station: str = "kiosk", client_id: str | None = None,
             scanned_at: datetime | None = None, method: str = "manual") -> ScanResult:
    """Decide and record one scan (code) or manual check-in (person_id, method manual/walk-in)."""
    if client_id:
        earlier = _replay(store, client_id)
        if earlier:
            return earlier
    session = store.query_one("SELECT id, status FROM sessions WHERE id = ?", [session_id])
    if session is None:
        raise NotFound(f"No session with id {session_id}.", code="session_not_found")
    if session["status"] != "active":
        raise Conflict("This session was cancelled; scans are not taken.", code="session_cancelled")
    when = _timestamp(scanned_at)
    badge = _read_badge(store.db, code) if code is not None and not person_id else None

    def work(db: Database) -> ScanResult:
        result = _decide(db, session_id, badge, person_id, direction, method)
        if result.status == OK:
            result.checkin = _record(db, store, session_id, result, direction, station,
                                     client_id or new_id(), when)
        _log(db, client_id, session_id, station, code or person_id, result)
        return result

    try:
        return store.write(work)
    except Exception as exc:
        # A concurrent retry of the same client id won the race: answer as it did.
        if client_id and "scan_log" in str(exc):
            replay = _replay(store, client_id)
            if replay:
                return replay
        raise


def _read_badge(db: Database, code: str) -> badges.BadgeCheck | None:
    """The badge's verdict, or None when the code is not a badge at all.

    Checking the signature is pure CPU, so it runs on the request's thread before the
    scan queues for the one writer, which every scan waits for. A revocation committed
    between this read and the write counts as made just after the scan.
    """
    return badges.verify(db, code) if badges.looks_like_badge(code) else None


def _decide(db: Database, session_id: str, check: badges.BadgeCheck | None, person_id: str | None,
            direction: str, method: str) -> ScanResult:
    key_id, generation, flags = None, None, []
    if not person_id:
        if check is None:
            return ScanResult(UNKNOWN, "not_a_badge")
        if not check.ok:
            status = REVOKED if check.reason in ("revoked", "key_revoked") else INVALID
            return ScanResult(status, check.reason, person=_person(db, check.person_id)
                              if status == REVOKED else None)
        method, person_id = "qr", check.person_id
        key_id, generation = check.key_id, check.generation
    person = _person(db, person_id)
    if person is None:
        if method != "qr":
            raise NotFound(f"No person with id {person_id}.", code="person_not_found")
        # A valid badge from another town: the scan is a fact, the hub names the person.
        flags.append("foreign")
    elif person["status"] == "cancelled":
        return ScanResult(CANCELLED, "person_cancelled", person=person)
    last = db.execute(
        "SELECT direction, scanned_at FROM checkins WHERE session_id = ? AND person_id = ?"
        " ORDER BY hlc DESC LIMIT 1", [session_id, person_id]).fetchone()
    if direction == "in" and last and last[0] == "in":
        first_in = db.execute(
            "SELECT MIN(scanned_at) FROM checkins WHERE session_id = ? AND person_id = ? AND direction = 'in'",
            [session_id, person_id]).fetchone()[0]
        return ScanResult(ALREADY, "already_in", person=person, since=first_in)
    if direction == "out" and (not last or last[0] != "in"):
        return ScanResult(NOT_IN, "not_checked_in", person=person)
    return ScanResult(OK, "", person=person or {"id": person_id},
                      extra={"method": method, "key_id": key_id, "generation": generation,
                             "flags": ",".join(flags)})


def _record(db: Database, store: Store, session_id: str, result: ScanResult, direction: str,
            station: str, checkin_id: str, when: str) -> dict:
    hlc = store.hlc.now()
    row = {"id": checkin_id, "session_id": session_id, "person_id": result.person["id"],
           "badge_key": result.extra["key_id"], "badge_generation": result.extra["generation"],
           "direction": direction, "scanned_at": when, "hlc": hlc, "node": store.node_id,
           "station": station, "method": result.extra["method"], "flags": result.extra["flags"]}
    db.conn.execute(INSERT_CHECKIN, row)
    record_change(db, "checkins", checkin_id, "upsert", hlc, row)
    return row


def _log(db: Database, client_id, session_id, station, scanned, result: ScanResult) -> None:
    db.conn.execute(INSERT_SCAN_LOG, {
        "client_id": client_id, "session_id": session_id, "station": station,
        "scanned": (scanned or "")[:200], "result": result.status,
        "person_id": result.person["id"] if result.person else None,
        "checkin_id": result.checkin["id"] if result.checkin else None, "at": utc_now()})


def _replay(store: Store, client_id: str) -> ScanResult | None:
    log = store.query_one("SELECT * FROM scan_log WHERE client_id = ?", [client_id])
    if log is None:
        return None
    checkin = store.query_one("SELECT * FROM checkins WHERE id = ?", [log["checkin_id"]]) \
        if log["checkin_id"] else None
    person = _person(store.db, log["person_id"])
    return ScanResult(log["result"], "replay", person=person or (
        {"id": log["person_id"]} if log["person_id"] else None), checkin=checkin, replay=True)


def _person(db: Database, person_id: str | None) -> dict | None:
    if not person_id:
        return None
    row = db.execute("SELECT id, name, level, town, village, status FROM people WHERE id = ?",
                     [person_id]).fetchone()
    return dict(zip(("id", "name", "level", "town", "village", "status"), row)) if row else None


def _timestamp(scanned_at: datetime | None) -> str:
    if scanned_at is None:
        return utc_now()
    if scanned_at.tzinfo is None:
        scanned_at = scanned_at.replace(tzinfo=UTC)
    return scanned_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def attendees(store: Store, session_id: str) -> list[dict]:
    """Who is at a session: first in, last out, whether still in, name where known."""
    return store.query(
        "SELECT a.person_id, p.name, p.level, p.village, a.first_in, a.last_out, a.scans,"
        " (SELECT direction FROM checkins c WHERE c.session_id = a.session_id"
        "   AND c.person_id = a.person_id ORDER BY hlc DESC LIMIT 1) AS state"
        " FROM attendance a LEFT JOIN people p ON p.id = a.person_id"
        " WHERE a.session_id = ? ORDER BY a.first_in DESC", [session_id])


def counts(store: Store, session_id: str) -> dict:
    row = store.db.execute(
        "SELECT COUNT(DISTINCT person_id),"
        " COUNT(DISTINCT CASE WHEN direction = 'in' THEN person_id END) FROM checkins WHERE session_id = ?",
        [session_id]).fetchone()
    return {"people": row[0], "checked_in": row[1]}
