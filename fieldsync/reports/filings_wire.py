"""The sync entity `filings`: a child hub's 统计表 filing as it travels to its parent (decision 0150).

A filing goes up one level only: the parent's policy takes it for the child's own unit
(sync/downstream/policy.py `filings`), and the parent neither publishes it to anyone nor passes it on
to its own parent (`upward=False`): a city files its own table, it does not forward its
counties'. The workbook travels base64-encoded inside the JSON change.
"""

from __future__ import annotations

import base64
import binascii

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from fieldsync.sync import entities
from fieldsync.sync.protocol import hlc_field

MAX_XLSX = 8 * 1024 * 1024
MAX_ROWS_JSON = 16 * 1024 * 1024


class Base64Bytes(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            raw = base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("Not base64.") from None
        if not raw.startswith(b"PK") or len(raw) > MAX_XLSX:
            raise ValidationError("Not an XLSX workbook of at most 8 MB.")
        return raw


class FilingWire(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    unit = fields.String(required=True, validate=validate.Regexp(r"^\d{6}(\d{6})?$"))
    period = fields.String(required=True, validate=validate.Regexp(r"^\d{4}$"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    xlsx = Base64Bytes(required=True)
    rows = fields.String(required=True, validate=validate.Length(max=MAX_ROWS_JSON))
    filed_by = fields.String(allow_none=True, validate=validate.Length(max=64))
    filed_at = fields.String(required=True, validate=validate.Length(min=10, max=40))
    hlc = hlc_field(required=True)


def wire(row: dict) -> dict:
    """The outbox payload of a filing: the row, its workbook as base64."""
    return {**row, "xlsx": base64.b64encode(row["xlsx"]).decode("ascii")}


FILINGS = entities.Entity("filings", entities.PUBLISHED, FilingWire, pushed=True, scope=None, upward=False)


class FilingReviewWire(Schema):
    """The parent's decision on a filing, as the child hub and its laptops pull it."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    town = fields.String(required=True, validate=validate.Regexp(r"^\d{6}(\d{6})?$"))
    period = fields.String(required=True, validate=validate.Regexp(r"^\d{4}$"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    state = fields.String(required=True, validate=validate.OneOf(("accepted", "returned", "reopened")))
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))
    decided_by = fields.String(allow_none=True, validate=validate.Length(max=64))
    decided_at = fields.String(required=True, validate=validate.Length(min=10, max=40))
    hlc = hlc_field(required=True)


# Published by the parent to the child's unit (and on to its laptops); never pushed.
ENTITIES = [FILINGS, entities.published("filing_reviews", FilingReviewWire, scope="town")]
