"""One error shape: JSON {"error": {code, message, fields}} under /api/, a page elsewhere.

No request ever answers with a traceback: unexpected exceptions are logged
and answered 500 with a code, and every known condition has its own 4xx. A hub
whose PostgreSQL cannot be reached answers 503 database_unavailable with a
Retry-After: the request may be made again as it was.
"""

from __future__ import annotations

from flask import Flask, make_response, render_template, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from fieldsync.errors import CATALOGUE, FieldsyncError, from_marshmallow
from fieldsync.i18n import _

# Werkzeug's own refusals, by status, as codes of our catalogue; any other status is a bad request
# (4xx) or our fault (5xx), so a code never answers with two statuses.
HTTP_CODES = {code.status: name for name, code in CATALOGUE.items()
              if name in ("bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed",
                          "not_acceptable", "payload_too_large", "unsupported_media_type",
                          "too_many_requests", "internal_error")}

RETRY_AFTER_SECONDS = 30   # what a laptop or a browser is told to wait when the database is away


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
        code = HTTP_CODES.get(error.code) or ("internal_error" if (error.code or 500) >= 500 else "bad_request")
        message = {405: _("%(method)s is not allowed on %(path)s.", method=request.method, path=request.path),
                   404: _("Nothing at %(path)s.", path=request.path)}.get(error.code)
        return render(FieldsyncError(message, code=code))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if getattr(error, "unavailable", False):   # a hub's PostgreSQL down, restarting or full
            app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, error)
            response = make_response(render(FieldsyncError(code="database_unavailable")))
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return render(FieldsyncError(code="internal_error"))
