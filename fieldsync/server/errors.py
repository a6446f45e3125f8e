"""One error shape: JSON {"error": {code, message, fields}} under /api/, a page elsewhere.

No request ever answers with a traceback: unexpected exceptions are logged
and answered 500 with a code, and every known condition has its own 4xx.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from fieldsync.errors import FieldsyncError, from_marshmallow

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
              429: "too_many_requests"}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render(error: FieldsyncError):
    if wants_json():
        return error.to_dict(), error.status
    return render_template("error.html", error=error), error.status


def init_app(app: Flask) -> None:
    @app.errorhandler(FieldsyncError)
    def _domain(error: FieldsyncError):
        return render(error)

    @app.errorhandler(ValidationError)
    def _validation(error: ValidationError):
        return render(from_marshmallow(error))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = HTTP_CODES.get(error.code, "http_error")
        message = {413: "The request body is too large.",
                   405: f"{request.method} is not allowed on {request.path}.",
                   404: f"Nothing at {request.path}."}.get(error.code, error.description)
        return render(FieldsyncError(message, code=code, status=error.code))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return render(FieldsyncError("Something went wrong on our side; it has been logged.",
                                     code="internal_error", status=500))
