"""How forms and submissions travel between nodes and the hub (sync entity registry).

Submissions are immutable like check-ins: pushed by the node that took them,
inserted at the hub by id, never pulled back. The wire schema checks their
shape; `check` then tests the answers against the exact form version they
name, so the hub accepts what the kiosk accepted and quarantines the rest.
Form versions are published by the hub and pulled whole by every node.
"""

from __future__ import annotations

import json

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from fieldsync.errors import FieldsyncError
from fieldsync.forms import definition, submissions
from fieldsync.i18n import N_, _
from fieldsync.records.schemas import Integer, bounded_text
from fieldsync.sync import entities
from fieldsync.sync.protocol import ULID_RE, hlc_field

MAX_ANSWERS_BYTES = 256 * 1024


class JsonText(fields.String):
    """A JSON object kept as text, as it is stored."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text.encode()) > MAX_ANSWERS_BYTES:
            raise ValidationError(_("Longer than %(max)s bytes.", max=MAX_ANSWERS_BYTES))
        try:
            parsed = json.loads(text)
        except ValueError:
            raise ValidationError(_("Not JSON.")) from None
        if not isinstance(parsed, dict):
            raise ValidationError(_("Not a JSON object."))
        return text


class SubmissionWire(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(ULID_RE, error=N_("Not a ULID.")))
    form_id = fields.String(required=True, validate=validate.Regexp(definition.FORM_ID))
    form_version = Integer(required=True, strict=True,
                                 validate=validate.Range(min=1, max=definition.MAX_VERSION))
    session_id = bounded_text(64, allow_none=True)
    person_id = bounded_text(64, allow_none=True)
    data = JsonText(required=True)
    submitted_at = bounded_text(40, required=True)
    hlc = hlc_field(required=True)
    node = fields.String(required=True, validate=validate.Length(min=1, max=64))
    actor = bounded_text(64, allow_none=True)
    flags = bounded_text(200, allow_none=True)


class FormWire(Schema):
    """A published form version as the hub stores it; the definition is checked in full."""

    class Meta:
        unknown = RAISE

    ref = fields.String(required=True, validate=validate.Length(min=3, max=80))
    id = fields.String(required=True, validate=validate.Regexp(definition.FORM_ID))
    version = Integer(required=True, strict=True,
                             validate=validate.Range(min=1, max=definition.MAX_VERSION))
    title = bounded_text(200, required=True)
    definition = JsonText(required=True)
    published_at = bounded_text(40, required=True)
    hlc = hlc_field(allow_none=True)
    origin = bounded_text(64, allow_none=True)
    saved_at = bounded_text(40, allow_none=True)
    saved_by = bounded_text(64, allow_none=True)

    @validates_schema
    def _definition_matches(self, data, **kwargs):
        try:
            form = definition.load(json.loads(data["definition"]))
        except FieldsyncError as exc:
            raise ValidationError({"definition": exc.fields or [exc.message]}) from None
        if (form["id"], form["version"]) != (data["id"], data["version"]) \
                or data["ref"] != f"{form['id']}:{form['version']}":
            raise ValidationError(_("The definition names another form or version."), "definition")


SUBMISSION_COLUMNS = {"id": "ulid", "form_id": "dict", "form_version": "dict", "session_id": "dict",
                      "person_id": "person", "data": "raw", "submitted_at": "time", "hlc": "hlc",
                      "node": "dict", "actor": "dict", "flags": "dict"}

ENTITIES = [
    entities.immutable("submissions", SubmissionWire, columns=SUBMISSION_COLUMNS, check=submissions.check_remote),
    entities.published("forms", FormWire, key="ref"),
]
