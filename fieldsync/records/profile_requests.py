"""Corrections an instructor asks for from their own page: a new phone or specialty.

A request never edits the person. The hub records it and publishes it to the laptops of the
person's town; it waits there (pending) for town staff, and on the hub for the association or
town staff with an account there. Approving makes the ordinary people.modify, which keeps its
own history and syncs like any edit; rejecting needs a reason. The decision is written on the
request (who, when, why) and travels back: a laptop's to the hub, the hub's to the laptop. The
hub takes a laptop's decision only for its own town, only on a request still pending there, and
never a change to what was asked (sync/downstream/policy.py, decision 0250).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate
from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import people, scope
from fieldsync.records.schemas import PersonSchema, PlaceCode, bounded_text, load
from fieldsync.store import Store, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change
from fieldsync.sync import entities
from fieldsync.sync.protocol import hlc_field

ENTITY = "profile_requests"
FIELDS = ("phone", "specialty")
STATUSES = ("pending", "approved", "rejected")
ASKED = ("person_id", "town", "field", "value", "note", "created_at")   # what a decision never changes
MAX_PENDING = 3     # a page anyone holding the link can post to must not fill the staff's queue


class RequestWire(Schema):
    """A request as it travels: published by the hub to the person's town, decided by a laptop."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    person_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    town = PlaceCode(allow_none=True)
    field = fields.String(required=True, validate=validate.OneOf(FIELDS))
    value = bounded_text(50, required=True)
    note = bounded_text(200, allow_none=True)
    created_at = bounded_text(40, required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    decided_by = bounded_text(100, allow_none=True)
    decided_at = bounded_text(40, allow_none=True)
    reason = bounded_text(200, allow_none=True)
    hlc = hlc_field(required=True)
    origin = bounded_text(64, allow_none=True)


ENTITIES = [
    entities.published(ENTITY, RequestWire, pushed=True, scope="town"),
]


def _save(db: Database, store: Store, row: dict) -> dict:
    """Write the request as it now stands, and its change for sync, in one transaction."""
    row = {**row, "hlc": store.hlc.now(), "origin": store.hlc.node}
    db[ENTITY].upsert(row, pk="id")
    record_change(db, ENTITY, row["id"], "upsert", row["hlc"], row)
    return row


def ask(store: Store, person: dict, field: str, value: str, note: str | None = None) -> dict:
    """Record the person's request; the value is checked as the people form checks it."""
    if field not in FIELDS:
        raise ValidationFailed(fields={"field": [_("Ask to correct the phone or the specialty.")]})
    checked = load(PersonSchema(partial=True, only=(field,), unknown=EXCLUDE), {field: (value or "").strip()})
    if not checked.get(field):
        raise ValidationFailed(fields={"value": [_("Give the new value.")]})
    waiting = store.db.execute("SELECT COUNT(*) FROM profile_requests WHERE person_id = ? AND status = 'pending'",
                               [person["id"]]).fetchone()[0]
    if waiting >= MAX_PENDING:
        raise Conflict(code="too_many_requests_waiting")
    row = {"id": new_id(), "person_id": person["id"], "town": person["town"], "field": field,
           "value": checked[field], "note": (note or "").strip()[:200] or None, "created_at": utc_now(),
           "status": "pending", "decided_by": None, "decided_at": None, "reason": None}
    return store.write(lambda db: _save(db, store, row))


def decide(store: Store, request_id: str, approve: bool, *, actor: str, reason: str | None = None) -> dict:
    """Approve (the person is modified as staff would) or reject (with a reason) a pending request."""
    row = store.query_one(f"SELECT {', '.join(RequestWire().fields)} FROM profile_requests WHERE id = ?",
                          [request_id])
    if row is None:
        raise NotFound(code="request_not_found")
    scope.check(row["town"])
    if row["status"] != "pending":
        raise Conflict(code="request_decided")
    reason = (reason or "").strip()[:200] or None
    if not approve and not reason:
        raise ValidationFailed(fields={"reason": [_("A rejection needs a reason.")]})
    if approve:
        people.modify(store, row["person_id"], {row["field"]: row["value"]}, actor=actor)
    decided = {**row, "status": "approved" if approve else "rejected", "decided_by": actor,
               "decided_at": utc_now(), "reason": reason}
    return store.write(lambda db: _save(db, store, decided))


def waiting(store: Store, limit: int = 200) -> list[dict]:
    """Pending requests of the account's towns, oldest first, with the person's name and current value."""
    where, params = scope.clause("r.town")
    return store.query(
        "SELECT r.*, p.name, p.phone AS current_phone, p.specialty AS current_specialty FROM profile_requests r"
        f" JOIN people p ON p.id = r.person_id WHERE r.status = 'pending'{' AND ' + where if where else ''}"
        " ORDER BY r.created_at LIMIT ?", [*params, limit])


def count_waiting(store: Store) -> int:
    where, params = scope.clause("town")
    return store.db.execute("SELECT COUNT(*) FROM profile_requests WHERE status = 'pending'"
                            f"{' AND ' + where if where else ''}", params).fetchone()[0]


def of_person(store: Store, person_id: str) -> list[dict]:
    """The person's requests, newest first: the history of what they asked and what staff decided."""
    return store.query("SELECT * FROM profile_requests WHERE person_id = ? ORDER BY created_at DESC, id DESC",
                       [person_id])
