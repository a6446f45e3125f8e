"""The 最美社会体育指导员 selection: nominations with the record behind them, and the
association's results (selected, not selected, put forward to the province's 交流展示大会).

A nomination names who nominated (account and unit), the year, the reason, and the nominee's
record for the year as it stood when taken: reviewed volunteer hours and activities (decision
0170) and trainings attended. The record is taken from the facts (check-ins, sessions,
reviews), so a town laptop, which keeps no rollups (decision 0003), takes it the same way as
the hub; a refresh takes it again. Town staff nominate their own town's people on their
laptop, the association anyone on the hub. Results are steps the association writes on the
hub, never changed; the latest is the nomination's result (view `award_verdicts`).
Decision 0240.
"""

from __future__ import annotations

import json

from marshmallow import RAISE, Schema, fields, validate
from sqlite_utils import Database

from fieldsync.errors import Conflict, Forbidden, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import hour_reviews, people, scope
from fieldsync.records.schemas import Integer, PlaceCode, bounded_text
from fieldsync.reports.hours import VOLUNTEER_KINDS, hours
from fieldsync.reports.merges import ids_of
from fieldsync.reports.units import top
from fieldsync.store import Store, clock, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change
from fieldsync.sync import entities
from fieldsync.sync.protocol import hlc_field

NOMINATIONS, RESULTS = "nominations", "award_results"
DECISIONS = ("selected", "not_selected", "province")
CHOSEN = ("selected", "province")      # the chosen list: selected, and those put forward
FIRST_YEAR, LAST_YEAR = 2000, 2100


class NominationWire(Schema):
    """A nomination as it travels: pushed by a laptop, published by the hub to the nominee's town."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    person_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    town = PlaceCode(allow_none=True)
    year = Integer(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))
    reason = bounded_text(500, min_len=1, required=True)
    nominated_by = bounded_text(100, allow_none=True)
    nominator_unit = PlaceCode(allow_none=True)
    hours = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=0, max=100_000))
    activities = Integer(allow_none=True, validate=validate.Range(min=0, max=100_000))
    estimated = Integer(allow_none=True, validate=validate.Range(min=0, max=100_000))
    trainings = Integer(allow_none=True, validate=validate.Range(min=0, max=100_000))
    record_at = bounded_text(40, allow_none=True)
    created_at = bounded_text(40, required=True)
    hlc = hlc_field(required=True)
    origin = bounded_text(64, allow_none=True)


class ResultWire(Schema):
    """A result step as the hub publishes it to the nominee's town (laptops do not send them)."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    nomination_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    town = PlaceCode(allow_none=True)
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    note = bounded_text(300, allow_none=True)
    actor = bounded_text(100, allow_none=True)
    created_at = bounded_text(40, required=True)
    hlc = hlc_field(required=True)
    origin = bounded_text(64, allow_none=True)


ENTITIES = [
    entities.published(NOMINATIONS, NominationWire, pushed=True, scope="town"),
    entities.published(RESULTS, ResultWire, pushed=False, scope="town"),
]

# One person's year from the facts: each session they came to, then the reviewed volunteer
# attendance among them (ended, approved, corrections applied; hour_reviews' rules).
_ATTENDED = ("SELECT c.session_id, c.person_id, MIN(CASE WHEN c.direction = 'in' THEN c.scanned_at END) AS first_in,"
             " MAX(CASE WHEN c.direction = 'out' THEN c.scanned_at END) AS last_out,"
             " CAST(ROUND(s.hours * 60) AS INTEGER) AS cap_minutes, s.kind, s.starts_at, s.ends_at, s.hours"
             " FROM checkins c JOIN sessions s ON s.id = c.session_id"
             " WHERE c.person_id IN (SELECT value FROM json_each(:ids)) AND substr(s.starts_at, 1, 4) = :year"
             " AND s.status = 'active' GROUP BY c.session_id, c.person_id, s.kind, s.starts_at, s.ends_at, s.hours")
RECORD = (f"WITH a AS MATERIALIZED ({_ATTENDED}),"
          f" r AS (SELECT COALESCE(k.minutes, {hour_reviews.CREDIT.format(a='a')}) AS minutes,"
          f" {hour_reviews.UNCORRECTED_ESTIMATE.format(a='a', k='k')} AS estimated FROM a"
          " JOIN hour_verdicts v ON v.session_id = a.session_id AND v.action = 'approve'"
          " LEFT JOIN hour_corrections k ON k.session_id = a.session_id AND k.person_id = a.person_id"
          " WHERE a.first_in IS NOT NULL AND a.kind IN (SELECT value FROM json_each(:kinds))"
          f" AND {hour_reviews.ENDS.format(s='a')} <= :now)"
          " SELECT (SELECT COUNT(*) FROM r), (SELECT COALESCE(SUM(minutes), 0) FROM r),"
          " (SELECT COALESCE(SUM(estimated), 0) FROM r),"
          " (SELECT COUNT(DISTINCT session_id) FROM a WHERE kind = 'training' AND first_in IS NOT NULL)")


def record_of(db: Database, person_id: str, year: int) -> dict:
    """The person's record for the year, as a nomination keeps it."""
    activities, minutes, estimated, trainings = db.execute(RECORD, {
        "ids": json.dumps(ids_of(db, person_id)), "year": str(year), "kinds": json.dumps(VOLUNTEER_KINDS),
        "now": clock.minute()}).fetchone()
    return {"hours": hours(minutes), "activities": activities, "estimated": estimated, "trainings": trainings,
            "record_at": utc_now()}


def nominate(store: Store, person_id: str, year: int, reason: str, *, actor: str | None,
             unit: str | None) -> dict:
    """Nominate a person of the account's units for a year's 最美社会体育指导员."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why."), fields={"reason": [_("A nomination needs a reason.")]})
    if not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise ValidationFailed(fields={"year": [_("Not a year.")]})
    person = people.get(store, person_id)   # refuses a person outside the account's units

    def work(db: Database) -> dict:
        if db.execute("SELECT 1 FROM nominations WHERE person_id = ? AND year = ?", [person_id, year]).fetchone():
            raise Conflict(code="already_nominated")
        hlc = store.hlc.now()
        row = {"id": new_id(), "person_id": person_id, "town": person["town"], "year": int(year), "reason": reason,
               "nominated_by": actor, "nominator_unit": unit, **record_of(db, person_id, year),
               "created_at": utc_now(), "hlc": hlc, "origin": store.hlc.node}
        db[NOMINATIONS].insert(row)
        record_change(db, NOMINATIONS, row["id"], "upsert", hlc, row)
        return row

    return store.write(work)


def refresh(store: Store, nomination_id: str, *, hub: bool) -> dict:
    """Take the nominee's record again. A laptop refreshes the nominations it made; the hub any."""
    made = get(store.db, nomination_id)   # here: the account's units are not known on the writer's thread
    if not hub and made["origin"] != store.hlc.node:
        raise Forbidden(_("This nomination was made elsewhere; its maker refreshes it."), code="not_your_record")
    return store.write(lambda db: _retake(store, db, nomination_id))


def _retake(store: Store, db: Database, nomination_id: str) -> dict:
    """Write the nomination's record as the facts here give it now."""
    hlc = store.hlc.now()
    row = get(db, nomination_id)
    row = {**row, **record_of(db, row["person_id"], row["year"]), "hlc": hlc}
    db[NOMINATIONS].update(nomination_id, {k: row[k] for k in ("hours", "activities", "estimated", "trainings",
                                                                 "record_at", "hlc")})
    record_change(db, NOMINATIONS, nomination_id, "upsert", hlc, row)
    return row


def get(db: Database, nomination_id: str) -> dict:
    row = next(db.query("SELECT * FROM nominations WHERE id = ?", [nomination_id]), None)
    if row is None:
        raise NotFound(code="nomination_not_found")
    scope.check(row["town"])
    return row


def may_decide(db: Database) -> bool:
    """The association decides: an account of every unit, or of the hub's own unit."""
    units = scope.units()
    return not units or top(db)["code"] in units


def decide(store: Store, nomination_id: str, decision: str, note: str | None, *, actor: str | None) -> dict:
    """Write one result step (on the hub, by the association). The record behind the nomination is
    taken again from the hub's own facts first: a result never rests on the figures a laptop sent."""
    if decision not in DECISIONS:
        raise ValidationFailed(fields={"decision": [_("Unknown result.")]})

    if not may_decide(store.db):   # here: the account's units are not known on the writer's thread
        raise Forbidden(_("Results come from the association: an account of the city's unit."),
                        code="association_only")
    nomination = get(store.db, nomination_id)

    def work(db: Database) -> dict:
        _retake(store, db, nomination_id)
        hlc = store.hlc.now()
        row = {"id": new_id(), "nomination_id": nomination_id, "town": nomination["town"], "decision": decision,
               "note": (note or "").strip() or None, "actor": actor, "created_at": utc_now(), "hlc": hlc,
               "origin": store.hlc.node}
        db[RESULTS].insert(row)
        record_change(db, RESULTS, row["id"], "upsert", hlc, row)
        return row

    return store.write(work)


def steps(db: Database, nomination_id: str) -> list[dict]:
    """The nomination's results, oldest first: the history (who, when, what, note)."""
    return list(db.query("SELECT * FROM award_results WHERE nomination_id = ? ORDER BY hlc", [nomination_id]))


def of_year(db: Database, year: int, *, towns_json: str | None = None, decisions=None) -> list[dict]:
    """The year's nominations of the account's towns (and of these towns, a JSON list, if given),
    with the nominee, the result and whether they consent to be shown; highest hours first."""
    where, params = scope.clause("n.town")
    wheres = [where or "1"]
    if towns_json is not None:
        wheres.append("n.town IN (SELECT value FROM json_each(?))")
        params.append(towns_json)
    if decisions is not None:
        wheres.append("v.decision IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(decisions)))
    return list(db.query(
        "SELECT n.*, p.name, p.gender, p.level, p.village, p.birth_year, v.decision, v.note AS decision_note,"
        " v.actor AS decided_by, v.created_at AS decided_at, c.given_on AS consent_on"
        " FROM nominations n LEFT JOIN people p ON p.id = n.person_id"
        " LEFT JOIN award_verdicts v ON v.nomination_id = n.id"
        " LEFT JOIN consents_now c ON c.person_id = n.person_id"
        f" WHERE n.year = ? AND {' AND '.join(wheres)} ORDER BY n.hours DESC, n.activities DESC, p.name",
        [int(year), *params]))


def honoured(db: Database, year: int) -> list[dict]:
    """The year's chosen people who consent to be shown: name, town and honour, nothing more."""
    return list(db.query(
        "SELECT p.name, n.town, v.decision FROM nominations n JOIN award_verdicts v ON v.nomination_id = n.id"
        " JOIN people p ON p.id = n.person_id JOIN consents_now c ON c.person_id = n.person_id"
        " WHERE n.year = ? AND v.decision IN (SELECT value FROM json_each(?)) AND p.status = 'active'"
        " ORDER BY v.decision = 'province' DESC, n.hours DESC, p.name", [int(year), json.dumps(CHOSEN)]))
