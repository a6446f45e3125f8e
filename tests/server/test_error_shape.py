"""Every error answer under /api/ has one shape, a 4xx status, and no traceback. In process: the
shape is the app's, whatever serves it."""

from __future__ import annotations

import gzip
import re

import pytest


def _assert_shape(answer, status, code=None):
    assert answer.status_code == status, answer.text
    body = answer.json
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    assert body["error"]["message"] and "Traceback" not in answer.text
    if code:
        assert body["error"]["code"] == code


def test_unknown_path_and_method(client, staff):
    _assert_shape(client.get("/api/v1/nothing-here"), 404, "not_found")
    _assert_shape(staff.delete("/api/v1/sessions"), 405, "method_not_allowed")


def test_validation_names_each_bad_field(staff):
    answer = staff.post("/api/v1/people", json={"name": "", "town": "12", "phone": "123", "level": "五级"})
    _assert_shape(answer, 422, "validation_failed")
    assert set(answer.json["error"]["fields"]) == {"name", "town", "phone", "level"}


def test_unknown_fields_are_refused(staff):
    answer = staff.post("/api/v1/sessions", json={"kind": "training", "title": "t", "starts_at": "2026-05-01T09:00",
                                                  "town": "371002100000", "is_admin": True})
    _assert_shape(answer, 422)
    assert "is_admin" in answer.json["error"]["fields"]


@pytest.mark.parametrize("body,headers,status,code", [
    (gzip.compress(b'{"name": "x"}')[:-6], {"Content-Encoding": "gzip"}, 400, "bad_gzip"),
    (b"not gzip at all", {"Content-Encoding": "gzip"}, 400, "bad_gzip"),
    (b"{}", {"Content-Encoding": "br"}, 415, "unsupported_encoding"),
    (gzip.compress(b" " * (65 * 1024 * 1024)), {"Content-Encoding": "gzip"}, 413, "body_too_large"),
], ids=["cut-gzip", "not-gzip", "brotli", "gzip-bomb"])   # gzip stamps the time: ids of its own, the same in every xdist worker
def test_broken_and_hostile_bodies(staff, body, headers, status, code):
    answer = staff.post("/api/v1/people", data=body, headers={"Content-Type": "application/json", **headers})
    _assert_shape(answer, status, code)


def test_not_found_records(staff):
    _assert_shape(staff.get("/api/v1/people/01M000000000000000000000XX"), 404, "person_not_found")
    _assert_shape(staff.get("/api/v1/sessions/nope"), 404, "session_not_found")


def test_roles(trainer):
    _assert_shape(trainer.post("/api/v1/sessions", json={}), 403, "role_forbidden")


def test_query_parameters_are_validated(staff):
    _assert_shape(staff.get("/api/v1/people?limit=100000"), 422)
    _assert_shape(staff.get("/api/v1/people?town=abc"), 422)


def test_pages_show_errors_as_pages_not_json(staff):
    answer = staff.get("/people/does-not-exist")
    assert answer.status_code == 404 and "text/html" in answer.headers["Content-Type"]
    assert "Traceback" not in answer.text


@pytest.mark.parametrize("side", ["node_site", "hub"])
def test_openapi_lists_every_api_route(side, request):
    site = request.getfixturevalue(side)
    spec = site.client().get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    routes = {(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method.lower())
              for rule in site.app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(routes) > 10
    assert routes - {(path, method) for path, operations in spec["paths"].items() for method in operations} == set()
    body = spec["paths"]["/api/v1/checkins"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "session" in body["required"]
