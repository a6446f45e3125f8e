"""Corrections an instructor asks for from their own page: a new phone or specialty.

A request never edits the person. It waits (pending) for the staff of the person's town or the
association on the hub; approving it makes the ordinary people.modify, which keeps its own
history and reaches the town's laptop with the next pull; rejecting it needs a reason. The
request row keeps who decided, when and why (decision 0250).
"""

from __future__ import annotations

from marshmallow import EXCLUDE

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import people, scope
from fieldsync.records.schemas import PersonSchema, load
from fieldsync.store import Store, new_id
from fieldsync.store.outbox import utc_now

FIELDS = ("phone", "specialty")
MAX_PENDING = 3     # a page anyone holding the link can post to must not fill the staff's queue


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
           "status": "pending"}
    store.write(lambda db: db["profile_requests"].insert(row))
    return row


def decide(store: Store, request_id: str, approve: bool, *, actor: str, reason: str | None = None) -> dict:
    """Approve (the person is modified as staff would) or reject (with a reason) a pending request."""
    row = store.query_one("SELECT * FROM profile_requests WHERE id = ?", [request_id])
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
    decided = {"status": "approved" if approve else "rejected", "decided_by": actor, "decided_at": utc_now(),
               "reason": reason}
    store.write(lambda db: db["profile_requests"].update(request_id, decided))
    return {**row, **decided}


def waiting(store: Store, limit: int = 200) -> list[dict]:
    """Pending requests of the account's towns, oldest first, with the person's name and current value."""
    where, params = scope.clause("r.town")
    return store.query(
        "SELECT r.*, p.name, p.phone AS current_phone, p.specialty AS current_specialty FROM profile_requests r"
        f" JOIN people p ON p.id = r.person_id WHERE r.status = 'pending'{' AND ' + where if where else ''}"
        " ORDER BY r.created_at LIMIT ?", [*params, limit])


def of_person(store: Store, person_id: str) -> list[dict]:
    """The person's requests, newest first: the history of what they asked and what staff decided."""
    return store.query("SELECT * FROM profile_requests WHERE person_id = ? ORDER BY created_at DESC, id DESC",
                       [person_id])
