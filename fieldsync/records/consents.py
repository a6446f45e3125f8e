"""A person's consent to be shown in public (name, town and honour on the association's page).

Each step is a row of its own, never changed: given on a day, recorded by whom, or withdrawn.
The latest step by HLC decides (view `consents_now`); the rows are the history. Town staff
record it on their laptop, the association on the hub; rows sync like reviews of hours
(pushed by laptops, published to the person's town, held to the person's town by
sync/downstream/policy.py). Nothing public names a person who is not in `consents_now`.
"""

from __future__ import annotations

import json
from datetime import date

from marshmallow import RAISE, Schema, fields, validate
from sqlite_utils import Database

from fieldsync.errors import ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import people
from fieldsync.records.schemas import PlaceCode, bounded_text
from fieldsync.store import Store, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change
from fieldsync.sync import entities
from fieldsync.sync.protocol import hlc_field

ENTITY = "consents"
ACTIONS = ("give", "withdraw")
# The SQL condition "this person may be named in public", for a person id column.
SHOWN = "{person} IN (SELECT person_id FROM consents_now)"


class ConsentWire(Schema):
    """A consent step as it travels: pushed by a laptop, published by the hub to the person's town."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    person_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    town = PlaceCode(allow_none=True)
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    given_on = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"))
    recorded_by = bounded_text(100, allow_none=True)
    created_at = bounded_text(40, required=True)
    hlc = hlc_field(required=True)
    origin = bounded_text(64, allow_none=True)


ENTITIES = [
    entities.published(ENTITY, ConsentWire, pushed=True, scope="town"),
]


def record(store: Store, person_id: str, action: str, *, given_on: str | None = None,
           recorded_by: str | None) -> dict:
    """Record that the person gave (or withdrew) consent on `given_on` (today if not given)."""
    if action not in ACTIONS:
        raise ValidationFailed(fields={"action": [_("Unknown action.")]})
    day = given_on or date.today().isoformat()
    try:
        if date.fromisoformat(day) > date.today():
            raise ValueError(day)
    except ValueError:
        raise ValidationFailed(_("Give the day as YYYY-MM-DD, not in the future."),
                               fields={"given_on": [_("A date, not in the future.")]}) from None
    person = people.get(store, person_id)   # refuses a person outside the account's units

    def work(db: Database) -> dict:
        hlc = store.hlc.now()
        row = {"id": new_id(), "person_id": person_id, "town": person["town"], "action": action,
               "given_on": day, "recorded_by": recorded_by, "created_at": utc_now(), "hlc": hlc,
               "origin": store.hlc.node}
        db[ENTITY].insert(row)
        record_change(db, ENTITY, row["id"], "upsert", hlc, row)
        return row

    return store.write(work)


def current(db: Database, person_ids: list[str]) -> dict[str, dict]:
    """The people among these who consent now: person id -> {given_on, recorded_by}."""
    return {row["person_id"]: row for row in db.query(
        "SELECT person_id, given_on, recorded_by FROM consents_now"
        " WHERE person_id IN (SELECT value FROM json_each(?))", [json.dumps(list(person_ids))])}


def steps(db: Database, person_id: str) -> list[dict]:
    """The person's consent history, oldest first."""
    return list(db.query("SELECT * FROM consents WHERE person_id = ? ORDER BY hlc", [person_id]))

