"""The OpenAPI 3.1 document, built from the routes themselves and their marshmallow schemas.

A view declares its summary and schemas with @doc; every /api/v1 route appears
in the document whether or not it did, so fuzzing covers all of them.
"""

from __future__ import annotations

import re

from flask import Flask
from marshmallow import Schema, fields

from fieldsync import PROTOCOL_VERSION, __version__
from fieldsync.errors import CATALOGUE

_DOCS: dict[str, dict] = {}

# Every code of the catalogue, with its status and English message (the API answers in Chinese
# unless the client sends Accept-Language: en).
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "fields"],
    "properties": {"code": {"type": "string", "enum": sorted(CATALOGUE)}, "message": {"type": "string"},
                   "fields": {"type": "object"}}}}}
ERROR_CODES = {code: {"status": entry.status, "message": entry.message} for code, entry in sorted(CATALOGUE.items())}


def doc(summary: str, *, body: type[Schema] | None = None, query: type[Schema] | None = None,
        auth: str = "session", responses: dict | None = None):
    def decorate(view):
        _DOCS[f"{view.__module__}.{view.__name__}"] = {
            "summary": summary, "body": body, "query": query, "auth": auth,
            "responses": responses or {}}
        return view
    return decorate


def field_schema(field: fields.Field) -> dict:
    from fieldsync.records.schemas import Choice, MultiChoice

    if isinstance(field, Choice):
        out = {"type": "string", "enum": sorted(set(field.choices) | set(field.choices.values()))}
    elif isinstance(field, MultiChoice):   # codes or labels, as a list or one comma-separated text
        out = {"anyOf": [{"type": "array", "items": {"type": "string", "enum": sorted(
            set(field.choices) | set(field.choices.values()))}}, {"type": "string"}]}
    elif isinstance(field, fields.Integer):
        out = {"type": "integer"}
    elif isinstance(field, (fields.Float, fields.Number)):
        out = {"type": "number"}
    elif isinstance(field, fields.Boolean):
        out = {"type": "boolean"}
    elif isinstance(field, fields.DateTime):
        out = {"type": "string", "format": "date-time"}
    elif isinstance(field, fields.Date):
        out = {"type": "string", "format": "date"}
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": field_schema(field.inner)}
    elif isinstance(field, fields.Nested):
        out = schema_object(field.schema)
    elif isinstance(field, fields.Dict):
        out = {"type": "object"}
    else:
        out = {"type": "string"}
    if field.allow_none:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def schema_object(schema: Schema | type[Schema]) -> dict:
    schema = schema() if isinstance(schema, type) else schema
    props, required = {}, []
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        props[key] = field_schema(field)
        if field.required:
            required.append(key)
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def document(app: Flask) -> dict:
    paths: dict = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        view = app.view_functions[rule.endpoint]
        info = _DOCS.get(f"{view.__module__}.{view.__name__}", {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {"operationId": f"{rule.endpoint}.{method.lower()}",
                  "summary": info.get("summary", rule.endpoint),
                  "responses": {"200": {"description": "OK"},
                                "4XX": {"description": "Client error",
                                        "content": {"application/json": {"schema": ERROR}}}}}
            op["responses"].update(info.get("responses", {}))
            params = [{"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
                      for arg in rule.arguments]
            if info.get("query"):
                for name, qfield in info["query"]().load_fields.items():
                    params.append({"name": qfield.data_key or name, "in": "query",
                                   "required": qfield.required, "schema": field_schema(qfield)})
            if params:
                op["parameters"] = params
            if info.get("body") and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": schema_object(info["body"])}}}
            auth = info.get("auth", "session")
            op["security"] = [] if auth == "none" else [{"bearer": []}, {"session": []}]
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "fieldsync API", "version": __version__,
                 "description": f"Town node and city hub API. Sync protocol v{PROTOCOL_VERSION}. "
                                "Phone stations send their token as a bearer: a station tied to one "
                                "session gets 403 station_session_forbidden for anything of another, "
                                "and an expired station token 401 station_expired. Errors answer "
                                "{\"error\": {code, message, fields}}; each code has one status, listed in "
                                "components.x-error-codes. Messages are in Chinese unless the request sends "
                                "Accept-Language: en."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {"Error": ERROR}, "x-error-codes": ERROR_CODES, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "fieldsync_session"}}},
    }
