"""Double scans: one person scanned in to one session by two laptops (kept and flagged, DESIGN §3).

The hub's merge decides which check-ins are doubles (flags.flag_checkins marks them DOUBLE);
this module only reads that mark: for a session's attendance (the sheet, the session page) and
for the review list, where staff record that they looked at one. A review covers the scans it
saw: another laptop scanning the same person in later opens it again. A town laptop holds no
doubles of its own: its one writer answers a second 'in' scan of a person, from any of its
stations, "already checked in" and records nothing (decision 0105).
"""

from __future__ import annotations

import json
from collections import defaultdict

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.errors import Conflict, NotFound
from fieldsync.i18n import _
from fieldsync.records import scope
from fieldsync.records.validators import mask_phone
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.sync.downstream.flags import DOUBLE
from fieldsync.sync.downstream.receive import audit

# The partial index below covers exactly the rows this condition keeps (keep the two alike).
FLAGGED = f"c.flags LIKE '%{DOUBLE}%'"
OPEN, REVIEWED, ALL = "open", "reviewed", "all"

migrations = Migrations("fieldsync.doubles")


@migrations()
def d001_double_reviews(db: Database) -> None:
    db.executescript(f"""
        CREATE INDEX checkins_double ON checkins(session_id, person_id) WHERE flags LIKE '%{DOUBLE}%';
        -- The latest review of a double; every review is also in sync_audit (double_reviewed).
        CREATE TABLE double_reviews (
            session_id TEXT NOT NULL,
            person_id TEXT NOT NULL,
            scans INTEGER NOT NULL,        -- the flagged scans the review saw; more reopen it
            reviewed_at TEXT NOT NULL,
            reviewed_by TEXT,
            note TEXT,
            PRIMARY KEY (session_id, person_id)
        );
        """)


# The flagged scans: the laptop's name from the hub's enrollments (a check-in names its database);
# hub: scanned at the hub's own kiosk.
SCANS = ("SELECT c.session_id, c.person_id, c.node, c.station, c.scanned_at, n.name AS laptop,"
         " c.node = (SELECT value FROM meta WHERE key = 'node_id') AS hub"
         " FROM checkins c LEFT JOIN node_origins o ON o.origin = c.node LEFT JOIN nodes n ON n.id = o.node_id"
         f" WHERE {FLAGGED} AND c.direction = 'in'")


def _scan(row: dict) -> dict:
    return {"laptop": row["laptop"] or ("" if row["hub"] else row["node"]), "station": row["station"],
            "at": row["scanned_at"]}


def of_session(db: Database, session_id: str) -> dict[str, list[dict]]:
    """person id -> the 'in' scans that made them a double at this session (laptop, station, at);
    laptop "" is the hub's own kiosk."""
    found: dict[str, list[dict]] = defaultdict(list)
    for row in db.query(SCANS + " AND c.session_id = ? ORDER BY c.scanned_at", [session_id]):
        found[row["person_id"]].append(_scan(row))
    return dict(found)


def listing(store: Store, *, town: str | None = None, since: str | None = None, until: str | None = None,
            state: str = OPEN, limit: int = 200) -> list[dict]:
    """The doubles to review, newest session first: person, session, scans, the last review.
    Only the sessions of the account's towns (records/scope.py); dates are the session's day."""
    chosen = [pair for pair in _pairs(store.db, town, since, until)
              if state == ALL or (state == OPEN) == _is_open(pair)][:limit]
    scans = _scans_of(store, chosen)
    for pair in chosen:
        key = (pair["session_id"], pair["person_id"])
        pair.update(id="/".join(key), phone=mask_phone(pair["phone"]), open=_is_open(pair), scans=scans.get(key, []))
    return chosen


def open_count(db: Database) -> int:
    """How many doubles wait for a review, as the account's list shows them."""
    return sum(_is_open(pair) for pair in _pairs(db))


def _pairs(db: Database, town: str | None = None, since: str | None = None, until: str | None = None) -> list[dict]:
    """(session, person) with flagged scans, their session and person, and the last review."""
    where, params = [], []
    in_scope, scope_params = scope.clause("s.town")
    for condition, values in ((in_scope, scope_params), ("s.town = ?" if town else None, [town]),
                              ("substr(s.starts_at, 1, 10) >= ?" if since else None, [since]),
                              ("substr(s.starts_at, 1, 10) <= ?" if until else None, [until])):
        if condition:
            where.append(condition)
            params += values
    return list(db.query(
        "SELECT d.session_id, d.person_id, d.scans, s.title, s.starts_at, s.town, p.name, p.phone,"
        " r.scans AS reviewed_scans, r.reviewed_at, r.reviewed_by, r.note"
        " FROM (SELECT session_id, person_id, COUNT(*) AS scans FROM checkins c"
        f"  WHERE {FLAGGED} AND c.direction = 'in' GROUP BY session_id, person_id) d"
        " JOIN sessions s ON s.id = d.session_id LEFT JOIN people p ON p.id = d.person_id"
        " LEFT JOIN double_reviews r ON r.session_id = d.session_id AND r.person_id = d.person_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY s.starts_at DESC, d.session_id, p.name, d.person_id", params))


def _is_open(pair: dict) -> bool:
    return pair["reviewed_scans"] is None or pair["reviewed_scans"] < pair["scans"]


def _scans_of(store: Store, pairs: list[dict]) -> dict[tuple, list[dict]]:
    sessions = json.dumps(sorted({pair["session_id"] for pair in pairs}))
    found: dict[tuple, list[dict]] = defaultdict(list)
    for row in store.query(SCANS + " AND c.session_id IN (SELECT value FROM json_each(?))"
                                   " ORDER BY c.scanned_at", [sessions]):
        found[row["session_id"], row["person_id"]].append(_scan(row))
    return found


def mark_reviewed(store: Store, session_id: str, person_id: str, *, actor: str, note: str = "") -> None:
    """Staff looked at a double (e.g. both scans are right: two entrances). Recorded with who and
    why, in double_reviews and the audit trail; check-ins stay as they are."""
    session = store.query_one("SELECT town, title FROM sessions WHERE id = ?", [session_id])
    if session is None:
        raise NotFound(_("No session with id %(id)s.", id=session_id), code="session_not_found")
    scope.check(session["town"])
    note = note.strip()[:300]

    def work(db: Database) -> None:
        scans = db.execute(f"SELECT COUNT(*) FROM checkins c WHERE {FLAGGED} AND c.direction = 'in'"
                           " AND c.session_id = ? AND c.person_id = ?", [session_id, person_id]).fetchone()[0]
        if not scans:
            raise NotFound(code="double_not_found")
        seen = db.execute("SELECT scans FROM double_reviews WHERE session_id = ? AND person_id = ?",
                          [session_id, person_id]).fetchone()
        if seen and seen[0] >= scans:
            raise Conflict(_("This double scan was already reviewed."), code="already_resolved")
        db.execute("INSERT OR REPLACE INTO double_reviews (session_id, person_id, scans, reviewed_at, reviewed_by,"
                   " note) VALUES (?, ?, ?, ?, ?, ?)", [session_id, person_id, scans, utc_now(), actor, note])
        name = db.execute("SELECT name FROM people WHERE id = ?", [person_id]).fetchone()
        audit(db, actor, "double_reviewed", f"{session_id}/{person_id}",
              " · ".join(part for part in (name[0] if name else person_id, session["title"], note) if part))

    store.write(work)
