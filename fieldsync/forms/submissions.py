"""Submissions: a person's answers to one form version, immutable once written.

A submission is written with its outbox row in one transaction and pushed to
the hub like a check-in. A client-made id makes a retried submit return the
first answer. When the form says a pass grants a level (the training
assessment grants 三级), the promotion is written in the same transaction,
as a 'promote' in the person's history.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync.errors import NotFound, ValidationFailed
from fieldsync.forms import builder, catalogue
from fieldsync.i18n import _
from fieldsync.records import people, sessions
from fieldsync.store import Store, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change

ENTITY = "submissions"
COLUMNS = ("id", "form_id", "form_version", "session_id", "person_id", "data", "submitted_at", "hlc",
           "node", "actor", "flags")


@dataclass
class Submitted:
    submission: dict
    replay: bool = False
    promoted: dict | None = None  # the person as stored after a promotion


def submit(store: Store, form_id: str, session_id: str | None, person_id: str | None, answers,
           client_id: str | None = None, *, version: int | None = None,
           actor: str | None = None) -> Submitted:
    """Validate answers against the form version (newest published unless named) and keep them."""
    if client_id:
        earlier = find(store.db, client_id)
        if earlier:
            return Submitted(earlier, replay=True)
    form = catalogue.get(store, form_id, version)
    if session_id:
        sessions.get(store, session_id)
    data = builder.validate_answers(form["definition"], answers)
    promotion = _promotion(store, form["definition"], data, person_id)
    person = people.find(store, person_id) if person_id else None
    row = {"id": client_id or new_id(), "form_id": form_id, "form_version": form["version"],
           "session_id": session_id, "person_id": person_id, "data": _json(data),
           "submitted_at": utc_now(), "node": store.node_id, "actor": actor,
           "flags": "foreign" if person_id and person is None else ""}

    def work(db: Database) -> Submitted:
        row["hlc"] = store.hlc.now()
        db["submissions"].insert(row)
        record_change(db, ENTITY, row["id"], "upsert", row["hlc"], row)
        promoted = (people.promote(store, person_id, promotion["level"], promotion.get("certificate_no"),
                                   actor=actor) if promotion else None)
        return Submitted(parsed(row), promoted=promoted)

    try:
        return store.write(work)
    except sqlite3.IntegrityError:
        # A concurrent retry with the same client id got in first: answer as it did.
        earlier = find(store.db, row["id"]) if client_id else None
        if earlier is None:
            raise
        return Submitted(earlier, replay=True)


def _promotion(store: Store, definition: dict, data: dict, person_id: str | None) -> dict | None:
    """The change to the person's record this submission grants, if any."""
    rule = definition.get("promotes")
    if not rule or not builder.condition_holds(rule["when"], data):
        return None
    if not person_id:
        raise ValidationFailed(_("This form grants a level, so it must name the person assessed."),
                               fields={"person": [_("Missing data for required field.")]})
    person = people.get(store, person_id)
    if people.LEVEL_RANK[person["level"]] >= people.LEVEL_RANK[rule["level"]] and person["status"] == "active":
        return None  # a pass never lowers an instructor who already ranks higher
    return people.promotion(person, rule["level"], data.get(rule.get("certificate_field")))


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def parsed(row: dict) -> dict:
    return {**row, "data": json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]}


def find(db: Database, submission_id: str) -> dict | None:
    cursor = db.execute(f"SELECT {', '.join(COLUMNS)} FROM submissions WHERE id = ?", [submission_id])
    found = cursor.fetchone()
    return parsed(dict(zip(COLUMNS, found))) if found else None


def get(store: Store, submission_id: str) -> dict:
    found = find(store.db, submission_id)
    if found is None:
        raise NotFound(_("No submission with id %(id)s.", id=submission_id), code="submission_not_found")
    return found


def listing(store: Store, *, form_id: str | None = None, session_id: str | None = None,
            person_id: str | None = None, limit: int = 200, offset: int = 0) -> list[dict]:
    """Newest first, with the person's name and the session's title where this installation has them."""
    where, params = [], []
    for column, value in (("s.form_id", form_id), ("s.session_id", session_id), ("s.person_id", person_id)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    sql = ("SELECT s.*, p.name AS person_name, e.title AS session_title FROM submissions s"
           " LEFT JOIN people p ON p.id = s.person_id LEFT JOIN sessions e ON e.id = s.session_id")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY s.submitted_at DESC, s.id DESC LIMIT ? OFFSET ?"
    return [parsed(row) for row in store.query(sql, params + [limit, offset])]


def check_remote(db: Database, row: dict) -> None:
    """The hub's test of a pushed submission: its answers against the exact form version it names,
    with the schema the node used. Raises ValidationFailed, or NotFound for a form version the hub
    does not have (the merge quarantines the row, so it is never lost and is retried once the hub
    knows more)."""
    form = catalogue.find(db, row["form_id"], row["form_version"])
    if form is None:
        raise NotFound(_("Form %(form)s version %(version)s is not published at the hub.", form=row["form_id"],
                         version=row["form_version"]), code="form_not_found")
    try:
        answers = json.loads(row["data"])
    except (TypeError, ValueError):
        raise ValidationFailed(_("The answers are not JSON."), code="bad_answers") from None
    builder.validate_answers(form["definition"], answers)
