"""The sync wire format (protocol v1): marshmallow schemas for every request, and
for every record as it travels, so the hub validates what it receives at the edge.

See docs/sync.md for the protocol reference.
"""

from __future__ import annotations

import re

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from fieldsync import PROTOCOL_VERSION
from fieldsync.i18n import N_
from fieldsync.records.schemas import (
    GENDERS,
    LEVELS,
    MODES,
    SESSION_KINDS,
    Integer,
    Mobile,
    Name,
    PlaceCode,
    SessionDetails,
    bounded_text,
)
from fieldsync.sync import entities

MIN_PROTOCOL = 1            # oldest protocol the hub still accepts (failure case 9)
WIRE_SCHEMA = 1             # version of the record payloads below
PROTOCOL_HEADER = "Fieldsync-Protocol"
SCHEMA_HEADER = "Fieldsync-Schema"
NODE_TIME_HEADER = "Fieldsync-Node-Time"   # the node's own clock, uncorrected, epoch ms

MAX_BATCH_CHANGES = 20_000   # the hub refuses bigger batches with 413; nodes send 5,000
DEFAULT_BATCH_CHANGES = 5_000
DEFAULT_BATCH_BYTES = 4 * 1024 * 1024
PULL_PAGE = 1_000

ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
HLC_RE = re.compile(r"^[0-9]{16}-[0-9]{5}-[0-9A-Za-z_-]{1,64}$")
REPLICA_RE = re.compile(r"^[0-9a-f]{16}$")


def _ulid(**kwargs):
    return fields.String(validate=validate.Regexp(ULID_RE, error=N_("Not a ULID (26 characters).")), **kwargs)


def hlc_field(**kwargs):
    return fields.String(validate=validate.Regexp(HLC_RE, error=N_("Not an HLC stamp.")), **kwargs)


def _id(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=64), **kwargs)


# -- records as they travel ---------------------------------------------------
class PersonWire(Schema):
    """A person's fields in a change; every field optional (a change carries only what changed)."""

    class Meta:
        unknown = RAISE

    name = Name()
    gender = fields.String(allow_none=True, validate=validate.OneOf(list(GENDERS)))
    birth_year = Integer(allow_none=True, validate=validate.Range(min=1900, max=2030))
    phone = Mobile(allow_none=True)
    id_number_hash = bounded_text(64, allow_none=True)
    id_number_masked = bounded_text(32, allow_none=True)
    town = PlaceCode()
    village = PlaceCode(allow_none=True)
    level = fields.String(validate=validate.OneOf(list(LEVELS)))
    specialty = bounded_text(50, allow_none=True)
    certificate_no = bounded_text(50, allow_none=True)
    status = fields.String(validate=validate.OneOf(["active", "cancelled"]))
    registered_at = bounded_text(32, allow_none=True)
    badge_generation = Integer(validate=validate.Range(min=0, max=65535))
    verified_at = bounded_text(32, allow_none=True)
    verified_by = bounded_text(100, allow_none=True)
    certificate_issued_at = bounded_text(32, allow_none=True)
    recruited_via = bounded_text(64, allow_none=True)


class SessionWire(SessionDetails):
    """A session's fields in a change: stored codes and text, every field optional."""

    class Meta:
        unknown = RAISE

    kind = fields.String(validate=validate.OneOf(list(SESSION_KINDS)))
    title = fields.String(validate=validate.Length(min=1, max=100))
    mode = fields.String(validate=validate.OneOf(list(MODES)))
    starts_at = bounded_text(40, allow_none=True)
    ends_at = bounded_text(40, allow_none=True)
    town = PlaceCode()
    status = fields.String(validate=validate.OneOf(["active", "cancelled"]))
    js365_filed_at = bounded_text(32, allow_none=True)    # the js365 mark (records/sessions.mark_js365)
    js365_filed_by = bounded_text(100, allow_none=True)


class CheckinWire(Schema):
    """One check-in row. The columnar codec validates dictionary columns once per distinct value."""

    class Meta:
        unknown = RAISE

    id = _ulid(required=True)
    session_id = _id(required=True)
    person_id = _id(allow_none=True)
    badge_key = Integer(allow_none=True, validate=validate.Range(min=0, max=65535))
    badge_generation = Integer(allow_none=True, validate=validate.Range(min=0, max=65535))
    direction = fields.String(required=True, validate=validate.OneOf(["in", "out"]))
    scanned_at = bounded_text(40, required=True)
    hlc = hlc_field(required=True)
    node = _id(required=True)
    station = bounded_text(64, allow_none=True)
    method = fields.String(required=True, validate=validate.OneOf(["qr", "manual", "walk-in"]))
    flags = bounded_text(200, allow_none=True)


class RevocationWire(Schema):
    class Meta:
        unknown = RAISE

    person_id = _id(required=True)
    min_generation = Integer(required=True, validate=validate.Range(min=1, max=65535))
    reason = bounded_text(200, allow_none=True)
    hlc = hlc_field(required=True)
    revoked_at = bounded_text(40, required=True)


class BadgeKeyWire(Schema):
    class Meta:
        unknown = RAISE

    key_id = Integer(required=True, validate=validate.Range(min=0, max=65535))
    public_key = fields.String(required=True, validate=validate.Length(equal=44))
    owner = bounded_text(64, allow_none=True)
    created_at = bounded_text(40, required=True)
    revoked_at = bounded_text(40, allow_none=True)
    # The hub's certificate (decision 0065): checked by each laptop before it trusts the key.
    town = bounded_text(12, allow_none=True, load_default=None)
    origins = bounded_text(4000, allow_none=True, load_default=None)
    certificate = fields.String(allow_none=True, load_default=None, validate=validate.Length(equal=88))


class PlaceWire(Schema):
    """A place of the gazetteer as the hub publishes it (records/places.py)."""

    class Meta:
        unknown = RAISE

    code = PlaceCode(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    kind = fields.String(required=True, validate=validate.OneOf(["province", "city", "county", "town", "village"]))
    parent = PlaceCode(allow_none=True)
    urban_rural = bounded_text(3, allow_none=True)
    valid_from = bounded_text(10, allow_none=True)
    ended_on = bounded_text(10, allow_none=True)
    replaced_by = PlaceCode(allow_none=True)
    updated_at = bounded_text(40, allow_none=True)


class ThemeDayWire(Schema):
    """A theme day of the association's list as the hub publishes it (records/theme_days.py)."""

    class Meta:
        unknown = RAISE

    id = _id(required=True)
    year = Integer(required=True, validate=validate.Range(min=2000, max=2100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    starts_on = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"))
    ends_on = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"))
    hlc = hlc_field(allow_none=True)
    updated_at = bounded_text(40, allow_none=True)
    updated_by = bounded_text(100, allow_none=True)


BUILT_IN_ENTITIES = [
    entities.immutable("checkins", CheckinWire, columns={
        "id": "ulid", "session_id": "dict", "person_id": "person", "badge_key": "dict",
        "badge_generation": "dict", "direction": "dict", "scanned_at": "time", "hlc": "hlc",
        "node": "dict", "station": "dict", "method": "dict", "flags": "dict"}),
    entities.mutable("people", PersonWire),
    entities.mutable("sessions", SessionWire),
    entities.published("badge_revocations", RevocationWire, pushed=True, key="person_id"),
    entities.published("badge_keys", BadgeKeyWire, key="key_id"),
    entities.published("places", PlaceWire, key="code", scope="place"),
    entities.published("theme_days", ThemeDayWire),
]


# -- requests -----------------------------------------------------------------
class ChangeSchema(Schema):
    """One outbox row of a mutable or published entity, sent as it is."""

    class Meta:
        unknown = RAISE

    seq = Integer(required=True, validate=validate.Range(min=1))
    change_id = _ulid(required=True)
    entity = bounded_text(64, required=True)
    record_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    op = fields.String(required=True, validate=validate.OneOf(["upsert", "delete"]))
    hlc = hlc_field(required=True)
    payload = fields.Dict(required=True)


class MutablePayload(Schema):
    """What records/mutable.save_local writes into the outbox for a changed record."""

    class Meta:
        unknown = EXCLUDE

    fields_ = fields.Dict(data_key="fields", required=True, keys=fields.String(), attribute="fields")
    hlcs = fields.Dict(required=True, keys=fields.String(), values=hlc_field())
    base = fields.Dict(load_default=dict, keys=fields.String(), values=hlc_field(allow_none=True))
    origin = _id(allow_none=True, load_default=None)
    action = bounded_text(40, load_default="sync")
    # From a child hub: fields whose conflict it (or a hub below it) queued for review already; the
    # conflict is shown where both sides first met, not again at every level above (decision 0130).
    queued = fields.List(bounded_text(64), load_default=list, validate=validate.Length(max=200))


class PushSchema(Schema):
    """A batch: the contiguous outbox rows from_seq..to_seq of one replica's stream."""

    class Meta:
        unknown = RAISE

    protocol = Integer(required=True)
    replica = fields.String(required=True, validate=validate.Regexp(REPLICA_RE))
    origin = _id(load_default=None)   # the laptop database's id now (it changes when a copy is found)
    hub_epoch = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64))
    acked_to = Integer(load_default=0, validate=validate.Range(min=0))
    batch_id = _ulid(required=True)
    from_seq = Integer(required=True, validate=validate.Range(min=1))
    to_seq = Integer(required=True, validate=validate.Range(min=1))
    blocks = fields.Dict(keys=fields.String(), values=fields.Dict(), load_default=dict)
    changes = fields.List(fields.Dict(), load_default=list)


class PullQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    cursor = fields.String(load_default="", validate=validate.Length(max=100))
    limit = Integer(load_default=PULL_PAGE, validate=validate.Range(min=1, max=5_000))


class EnrollSchema(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=8, max=64))
    protocol = Integer(required=True)
    origin = _id(required=True)
    badge_public_key = fields.String(required=True, validate=validate.Length(equal=44))
    badge_local_key_id = Integer(allow_none=True, validate=validate.Range(min=0, max=65535))
    bundle_public_key = fields.String(required=True, validate=validate.Length(equal=44))
    # Ed25519 by the bundle key over enrollment.proof_message: lets this laptop redeem again.
    proof = fields.String(load_default=None, validate=validate.Length(equal=88))
    # What asks: a town laptop ("node") or a child hub ("hub") and the unit it serves; a code is
    # made for one kind (decision 0130). Laptops from before this send neither.
    mode = fields.String(load_default="node", validate=validate.OneOf(["node", "hub"]))
    unit = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{6}([0-9]{6})?$"))


class NodeAddSchema(Schema):
    """A hub admin adding a laptop for a town."""

    class Meta:
        unknown = EXCLUDE

    town = PlaceCode(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))


def protocol_ok(version: int | None) -> bool:
    return version is not None and MIN_PROTOCOL <= version <= PROTOCOL_VERSION
