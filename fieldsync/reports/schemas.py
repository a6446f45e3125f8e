"""marshmallow schemas for what the hub's users send: report parameters, dashboard filters,
promotions, merges and pairings. Query strings pass unknown keys (lang=…); forms do not.
"""

from __future__ import annotations

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    fields,
    validate,
)

from fieldsync.records.schemas import SESSION_KINDS, Choice, Integer, PlaceCode
from fieldsync.reports.csv_export import DATABASE_TABLES
from fieldsync.store import clock

RECORD_ID = validate.Length(min=1, max=64)


def _this_year() -> int:
    return clock.today().year


def _year():
    return Integer(load_default=_this_year, validate=validate.Range(min=2000, max=2100))


class ReportParams(Schema):
    class Meta:
        unknown = EXCLUDE

    year = _year()
    unit = PlaceCode()
    kind = Choice(SESSION_KINDS)
    session = fields.String(validate=RECORD_ID)
    table = fields.String(validate=validate.OneOf(sorted(DATABASE_TABLES)))


class UnitYearQuery(Schema):
    """A year, and the unit as the filter menus name it: a city (at a province hub), a county, a
    town, or none (the hub's own unit)."""

    class Meta:
        unknown = EXCLUDE

    year = _year()
    city = PlaceCode()
    county = PlaceCode()
    town = PlaceCode()


class DashboardQuery(UnitYearQuery):
    kind = Choice(SESSION_KINDS)


class LeaderboardQuery(UnitYearQuery):
    everyone = fields.Boolean(load_default=False)
    limit = Integer(load_default=50, validate=validate.Range(min=1, max=500))


class MergeSchema(Schema):
    class Meta:
        unknown = RAISE

    kept = fields.String(required=True, validate=RECORD_ID)
    merged = fields.String(required=True, validate=RECORD_ID)


class PairingSchema(Schema):
    class Meta:
        unknown = RAISE

    organisation = fields.String(required=True, validate=RECORD_ID)   # an organisation's id (decision 0231)
    village = PlaceCode(required=True)
    since = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=500))


class PairingLinkSchema(Schema):
    class Meta:
        unknown = RAISE

    pairing = fields.String(required=True, validate=RECORD_ID)
    session = fields.String(required=True, validate=RECORD_ID)
