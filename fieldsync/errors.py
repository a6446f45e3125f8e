"""One catalogue of the errors fieldsync reports, each with a stable code and an HTTP status.

The API renders every one of them as {"error": {"code", "message", "fields"}};
the CLI prints the message on one line. Domain code raises these and nothing
else for conditions a user can cause.
"""

from __future__ import annotations


class FieldsyncError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None,
                 status: int | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields or {}
        # Machine-readable details a client acts on (expected_from, min_version, ...).
        self.extra = extra or {}

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message, "fields": self.fields}
        body.update(self.extra)
        return {"error": body}


class BadRequest(FieldsyncError):
    status, code = 400, "bad_request"


class ValidationFailed(FieldsyncError):
    status, code = 422, "validation_failed"


class Unauthorized(FieldsyncError):
    status, code = 401, "unauthorized"


class Forbidden(FieldsyncError):
    status, code = 403, "forbidden"


class NotFound(FieldsyncError):
    status, code = 404, "not_found"


class Conflict(FieldsyncError):
    status, code = 409, "conflict"


class Gone(FieldsyncError):
    status, code = 410, "gone"


class PayloadTooLarge(FieldsyncError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(FieldsyncError):
    status, code = 415, "unsupported_media_type"


class UpgradeRequired(FieldsyncError):
    status, code = 426, "upgrade_required"


def from_marshmallow(err, message: str = "Some fields are not valid.") -> ValidationFailed:
    """Turn a marshmallow ValidationError into our error, naming every bad field."""
    messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
    first = _first_message(messages)
    if first:
        message = f"{message} {first}"
    return ValidationFailed(message, fields=messages)


def _first_message(messages) -> str:
    for key, value in messages.items() if isinstance(messages, dict) else []:
        if isinstance(value, dict):
            inner = _first_message(value)
            if inner:
                return inner if key == "_schema" else f"{key}.{inner}"
        elif isinstance(value, list) and value:
            text = value[0] if isinstance(value[0], str) else str(value[0])
            return text if key == "_schema" else f"{key}: {text}"
    return ""
