"""marshmallow schemas for what callers send about forms: the edge of the forms API and pages."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from fieldsync.forms.definition import MAX_VERSION
from fieldsync.i18n import N_
from fieldsync.records.schemas import Integer

ULID = validate.Regexp(r"^[0-9A-HJKMNP-TV-Z]{26}$", error=N_("Must be a ULID (26 characters)."))
FORM_ID = validate.Length(min=1, max=64)
VERSION = validate.Range(min=1, max=MAX_VERSION)


class SubmissionSchema(Schema):
    """A filled form as the kiosk or a station sends it."""

    class Meta:
        unknown = RAISE

    id = fields.String(validate=ULID)
    form = fields.String(required=True, validate=FORM_ID)
    version = Integer(validate=VERSION)
    session = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    person = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    answers = fields.Dict(required=True)


class SubmissionsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    form = fields.String(validate=FORM_ID)
    session = fields.String(validate=validate.Length(min=1, max=64))
    person = fields.String(validate=validate.Length(min=1, max=64))
    limit = Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = Integer(load_default=0, validate=validate.Range(min=0, max=10**9))


class VersionQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    version = Integer(validate=VERSION)


class FilledPage(Schema):
    """The bookkeeping inputs of the kiosk's fill-in page (the answers are read by forms.html)."""

    class Meta:
        unknown = EXCLUDE

    submission_id = fields.String(required=True, validate=ULID)
    form = fields.String(validate=FORM_ID)
    version = Integer(validate=VERSION)
