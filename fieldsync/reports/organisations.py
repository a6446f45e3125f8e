"""Sports organisations (体育社会组织): name, kind, contact person and phone, as records of their own.

The 威海 plan (shared/seeds/000) pairs city-level sports organisations with communities;
an organisation is kept once and every pairing names it (decision 0231). The hub keeps
them and publishes them to every laptop (sync entity `organisations`, like theme days);
the pairings and the fitness teams that name them are registered here too, published to
their town's laptops. Laptops never send any of them (not pushed: the hub quarantines one
a laptop sends), so no laptop can add or change another town's pairing.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate
from sqlite_utils import Database

from fieldsync import labels
from fieldsync.errors import Conflict, NotFound
from fieldsync.i18n import _
from fieldsync.records.schemas import (
    ContactPhone,
    Integer,
    PlaceCode,
    bounded_text,
    load,
)
from fieldsync.store import Store, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change
from fieldsync.sync import entities
from fieldsync.sync.protocol import hlc_field

ENTITY = "organisations"
KINDS = tuple(labels.VOCABULARIES["organisation_kind"])   # the words: |term('organisation_kind')


class OrganisationSchema(Schema):
    """An organisation as the hub's page or command sends it."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(load_default="other", validate=validate.OneOf(list(KINDS)))
    contact_name = bounded_text(50, allow_none=True)
    contact_phone = ContactPhone(allow_none=True)


class OrganisationWire(OrganisationSchema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    hlc = hlc_field(required=True)
    updated_at = bounded_text(40, allow_none=True)
    updated_by = bounded_text(100, allow_none=True)


class PairingWire(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    organisation_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    village = PlaceCode(required=True)
    town = PlaceCode(allow_none=True)
    since = bounded_text(10, allow_none=True)
    notes = bounded_text(500, allow_none=True)
    created_at = bounded_text(40, required=True)
    actor = bounded_text(100, allow_none=True)
    hlc = hlc_field(required=True)


class TeamWire(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    pairing_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    town = PlaceCode(allow_none=True)
    name = bounded_text(100, min_len=1, required=True)
    formed_on = bounded_text(10, allow_none=True)
    members = Integer(allow_none=True, validate=validate.Range(min=0, max=100_000))
    created_at = bounded_text(40, required=True)
    actor = bounded_text(100, allow_none=True)
    hlc = hlc_field(required=True)


ENTITIES = [
    entities.published(ENTITY, OrganisationWire, scope="all"),
    entities.published("pairings", PairingWire, scope="town"),
    entities.published("fitness_teams", TeamWire, scope="town"),
]


def publish(db: Database, store: Store, table: str, row: dict) -> dict:
    """Write a hub record and its outbox row: the next pulls carry it to the laptops."""
    stored = {**row, "hlc": store.hlc.now()}
    db[table].upsert(stored, pk="id")
    record_change(db, table, stored["id"], "upsert", stored["hlc"], stored)
    return stored


def listing(db: Database) -> list[dict]:
    """Every organisation, with how many pairings name it."""
    return list(db.query("SELECT o.*, (SELECT COUNT(*) FROM pairings p WHERE p.organisation_id = o.id) AS pairings"
                         " FROM organisations o ORDER BY o.name"))


def get(db: Database, organisation_id: str) -> dict:
    row = next(db.query("SELECT * FROM organisations WHERE id = ?", [organisation_id]), None)
    if row is None:
        raise NotFound(_("No organisation with id %(id)s.", id=organisation_id), code="organisation_not_found")
    return row


def save(store: Store, data: dict, *, organisation_id: str | None = None, actor: str | None = None) -> dict:
    """Add an organisation, or change one; names are unique."""
    values = load(OrganisationSchema(), data)
    values["name"] = values["name"].strip()

    def work(db: Database) -> dict:
        if organisation_id:
            get(db, organisation_id)
        same = db.execute("SELECT id FROM organisations WHERE name = ? AND id != ?",
                          [values["name"], organisation_id or ""]).fetchone()
        if same:
            raise Conflict(_("An organisation named %(name)s is already kept.", name=values["name"]),
                           code="organisation_exists")
        return publish(db, store, ENTITY, {"id": organisation_id or new_id(), **values, "updated_at": utc_now(),
                                           "updated_by": actor})

    return store.write(work)
