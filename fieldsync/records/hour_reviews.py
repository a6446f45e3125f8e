"""Reviews of an activity's volunteer hours: approve, correct one person, or reject.

Hours count toward the leaderboard, certificates and exports only once the session has
ended and its latest verdict (approve or reject) is an approval (docs/decisions/
0170-hours-that-are-reviewed.md). Every step is a row of its own, never changed: the rows
are the history (who, when, what, why). Town staff review on their laptop, the
association on the hub; the rows sync both ways (declared below, listed in fieldsync/parts.py,
held to the session's town by sync/downstream/policy.py).

The credit of one attendance, and whether it is estimated, is written once here (CREDIT,
ESTIMATED) for any rows with first_in, last_out and cap_minutes: the rollup's attendance
rows on a hub (reports/hours.py), or a session's scans grouped on the page below.
"""

from __future__ import annotations

import json

from marshmallow import RAISE, Schema, fields, validate
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import scope
from fieldsync.records.schemas import Integer, PlaceCode, bounded_text
from fieldsync.store import Store, clock, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change
from fieldsync.sync import entities
from fieldsync.sync.protocol import hlc_field

migrations = Migrations("fieldsync.hour_reviews")
ENTITY = "hour_reviews"
ACTIONS = ("approve", "correct", "reject")
# A forgotten scan-out earns the planned length, at most half a day of service.
ESTIMATE_CAP_MINUTES = 240
MAX_MINUTES = 24 * 60

ESTIMATED = "({a}.first_in IS NOT NULL AND ({a}.last_out IS NULL OR {a}.last_out <= {a}.first_in))"
# The same as a value, 0 or 1 on both backends (a comparison is a boolean in PostgreSQL, which
# SUM refuses); and estimated with no reviewer's correction ({k}: the hour_corrections row).
ESTIMATED_FLAG = f"CASE WHEN {ESTIMATED} THEN 1 ELSE 0 END"
UNCORRECTED_ESTIMATE = f"CASE WHEN {{k}}.minutes IS NULL AND {ESTIMATED} THEN 1 ELSE 0 END"
CREDIT = (f"CASE WHEN {{a}}.first_in IS NULL OR {{a}}.cap_minutes IS NULL THEN 0"
          f" WHEN {ESTIMATED} THEN MIN({{a}}.cap_minutes, {ESTIMATE_CAP_MINUTES})"
          " ELSE MIN({a}.cap_minutes, CAST(ROUND((julianday({a}.last_out) - julianday({a}.first_in)) * 1440)"
          " AS INTEGER)) END")
# When a session ends, in China time as sessions hold it: its end, else its start plus its hours.
ENDS = ("COALESCE(NULLIF({s}.ends_at, ''), strftime('%Y-%m-%dT%H:%M', {s}.starts_at,"
        " '+' || CAST(ROUND(COALESCE({s}.hours, 0) * 60) AS INTEGER) || ' minutes'))")


@migrations()
def m001_hour_reviews(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE hour_reviews (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL,
            town TEXT,                  -- the session's town: whose laptops pull the review
            action TEXT NOT NULL CHECK (action IN ('approve', 'correct', 'reject')),
            person_id TEXT,             -- correct: whose hours
            minutes INTEGER,            -- correct: the minutes they are credited now
            reason TEXT,
            actor TEXT,
            created_at TEXT NOT NULL,
            hlc TEXT NOT NULL,
            origin TEXT
        );
        CREATE INDEX hour_reviews_session ON hour_reviews(session_id, hlc);
        -- The latest approve or reject of each session.
        CREATE VIEW hour_verdicts AS SELECT r.session_id, r.action FROM hour_reviews r
            WHERE r.action != 'correct' AND r.hlc = (SELECT MAX(x.hlc) FROM hour_reviews x
                WHERE x.session_id = r.session_id AND x.action != 'correct');
        -- The latest correction of each (session, person).
        CREATE VIEW hour_corrections AS SELECT r.session_id, r.person_id, r.minutes FROM hour_reviews r
            WHERE r.action = 'correct' AND r.hlc = (SELECT MAX(x.hlc) FROM hour_reviews x
                WHERE x.session_id = r.session_id AND x.person_id = r.person_id AND x.action = 'correct');
        """
    )


class ReviewWire(Schema):
    """A review as it travels: pushed by a laptop, published by the hub to the session's town."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    session_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    town = PlaceCode(allow_none=True)
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    person_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    minutes = Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_MINUTES))
    reason = bounded_text(200, allow_none=True)
    actor = bounded_text(100, allow_none=True)
    created_at = bounded_text(40, required=True)
    hlc = hlc_field(required=True)
    origin = bounded_text(64, allow_none=True)


ENTITIES = [entities.published(ENTITY, ReviewWire, pushed=True, scope="town")]


def _session(db: Database, session_id: str) -> dict:
    row = next(db.query(f"SELECT *, {ENDS.format(s='sessions')} AS ends FROM sessions WHERE id = ?",
                        [session_id]), None)
    if row is None:
        raise NotFound(_("No session with id %(id)s.", id=session_id), code="session_not_found")
    scope.check(row["town"])
    return row


def review(store: Store, session_id: str, action: str, *, actor: str | None, person_id: str | None = None,
           minutes: int | None = None, reason: str | None = None) -> dict:
    """Write one review step of an ended session; correct and reject need a reason."""
    reason = (reason or "").strip() or None
    if action not in ACTIONS:
        raise ValidationFailed(_("Unknown review action %(action)r.", action=action), fields={"action": [_("Unknown action.")]})
    if action != "approve" and not reason:
        raise ValidationFailed(_("Say why."), fields={"reason": [_("A correction or rejection needs a reason.")]})

    _session(store.db, session_id)   # here: the account's units are not known on the writer's thread

    def work(db: Database) -> dict:
        session = _session(db, session_id)
        if not session["ends"] or session["ends"] > clock.minute():
            raise Conflict(code="session_not_ended")
        if action == "correct":
            _check_correction(db, session_id, person_id, minutes)
        hlc = store.hlc.now()
        row = {"id": new_id(), "session_id": session_id, "town": session["town"], "action": action,
               "person_id": person_id if action == "correct" else None,
               "minutes": minutes if action == "correct" else None, "reason": reason, "actor": actor,
               "created_at": utc_now(), "hlc": hlc, "origin": store.hlc.node}
        db[ENTITY].insert(row)
        record_change(db, ENTITY, row["id"], "upsert", hlc, row)
        return row

    return store.write(work)


def _check_correction(db: Database, session_id: str, person_id: str | None, minutes) -> None:
    if not isinstance(minutes, int) or not 0 <= minutes <= MAX_MINUTES:
        raise ValidationFailed(_("Give the hours as a number from 0 to 24."), fields={"hours": [_("0 to 24.")]})
    came = db.execute("SELECT 1 FROM checkins WHERE session_id = ? AND person_id = ? LIMIT 1",
                      [session_id, person_id]).fetchone()
    if not person_id or came is None:
        raise ValidationFailed(_("That person has no check-in at this activity."),
                               fields={"person_id": [_("Not at this activity.")]})


def attendees(db: Database, session_id: str) -> list[dict]:
    """The session's people with in, out, credited minutes (corrected if so) and whether estimated."""
    return list(db.query(
        f"SELECT a.person_id, p.name, a.first_in, a.last_out, {ESTIMATED_FLAG.format(a='a')} AS estimated,"
        f" COALESCE(c.minutes, {CREDIT.format(a='a')}) AS minutes,"
        " CASE WHEN c.minutes IS NOT NULL THEN 1 ELSE 0 END AS corrected FROM ("
        "  SELECT c.person_id, MIN(CASE WHEN c.direction = 'in' THEN c.scanned_at END) AS first_in,"
        "  MAX(CASE WHEN c.direction = 'out' THEN c.scanned_at END) AS last_out,"
        "  CAST(ROUND(MAX(s.hours) * 60) AS INTEGER) AS cap_minutes"
        "  FROM checkins c JOIN sessions s ON s.id = c.session_id"
        "  WHERE c.session_id = ? AND c.person_id IS NOT NULL GROUP BY c.person_id) a"
        " LEFT JOIN people p ON p.id = a.person_id"
        " LEFT JOIN hour_corrections c ON c.session_id = ? AND c.person_id = a.person_id"
        " ORDER BY a.first_in IS NULL, a.first_in, p.name NULLS FIRST", [session_id, session_id]))


def steps(db: Database, session_id: str) -> list[dict]:
    """The session's review history, oldest first, with the corrected person's name."""
    return list(db.query("SELECT r.*, p.name FROM hour_reviews r LEFT JOIN people p ON p.id = r.person_id"
                         " WHERE r.session_id = ? ORDER BY r.hlc", [session_id]))


def verdict(db: Database, session_id: str) -> str | None:
    row = db.execute("SELECT action FROM hour_verdicts WHERE session_id = ?", [session_id]).fetchone()
    return row[0] if row else None


def session(db: Database, session_id: str) -> dict:
    return _session(db, session_id)


def waiting(db: Database, kinds: list[str], towns_json: str | None = None, limit: int = 200) -> list[dict]:
    """Ended sessions of these kinds with check-ins and no verdict yet (待审核), oldest first;
    of the account's towns and, if given, of these towns (a JSON list)."""
    where, params = scope.clause("s.town")
    wheres = [where or "1", "s.town IN (SELECT value FROM json_each(?))" if towns_json is not None else "1"]
    params += [towns_json] if towns_json is not None else []
    return list(db.query(
        f"SELECT s.id, s.title, s.kind, s.town, s.starts_at, {ENDS.format(s='s')} AS ends FROM sessions s"
        f" WHERE s.status = 'active' AND s.kind IN (SELECT value FROM json_each(?)) AND {' AND '.join(wheres)}"
        f" AND {ENDS.format(s='s')} <= ? AND s.id NOT IN (SELECT session_id FROM hour_verdicts)"
        " AND EXISTS (SELECT 1 FROM checkins c WHERE c.session_id = s.id)"
        " ORDER BY s.starts_at LIMIT ?", [json.dumps(list(kinds)), *params, clock.minute(), limit]))
