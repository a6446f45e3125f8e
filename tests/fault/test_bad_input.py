"""Bad input, by hand: every operation that takes a JSON body gets broken, hostile and
mislabelled bodies, and answers each with its own 4xx and our error shape, never a 5xx."""

from __future__ import annotations

import gzip
import re

import pytest
import requests

from fieldsync.parts import open_store

ERROR_KEYS = {"code", "message", "fields"}
BOMB = gzip.compress(b" " * (65 * 1024 * 1024))   # 64 KB on the wire, 65 MB inflated
JSON = {"Content-Type": "application/json"}
# name -> (body, extra headers, expected status, expected code)
BAD_BODIES = {
    "truncated gzip": (gzip.compress(b'{"name": "x"}')[:-6], {**JSON, "Content-Encoding": "gzip"}, 400, "bad_gzip"),
    "not gzip": (b'{"name": "x"}', {**JSON, "Content-Encoding": "gzip"}, 400, "bad_gzip"),
    "gzip bomb": (BOMB, {**JSON, "Content-Encoding": "gzip"}, 413, "body_too_large"),
    "brotli": (b"{}", {**JSON, "Content-Encoding": "br"}, 415, "unsupported_encoding"),
    "text/plain": (b"{}", {"Content-Type": "text/plain"}, 415, "not_json"),
    "form": (b"name=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "not_json"),
    "multipart": (b"--b\r\n\r\n--b--", {"Content-Type": "multipart/form-data; boundary=b"}, 415, "not_json"),
    "no content type": (b"{}", {}, 415, "not_json"),
    "not UTF-8": (b'{"name": "\xff\xfe"}', JSON, 400, "bad_encoding"),
    "UTF-16": ('{"name": "x"}'.encode("utf-16"), JSON, 400, "bad_encoding"),
    "empty": (b"", JSON, 400, "bad_json"),
    "not JSON": (b"{'name': 1}", JSON, 400, "bad_json"),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, JSON, 400, "bad_json"),
    "5,000-digit number": (b'{"birth_year": ' + b"9" * 5000 + b"}", JSON, 400, "bad_json"),
    "NaN": (b'{"birth_year": NaN, "hours": Infinity}', JSON, 400, "bad_json"),
    "a list": (b"[1, 2]", JSON, 400, "bad_request"),
    "null": (b"null", JSON, 400, "bad_request"),
}


@pytest.fixture
def body_operations(live_node, node_instance) -> list[tuple[str, str]]:
    """(method, path) of every documented operation with a JSON body, ids filled with real records."""
    spec = requests.get(live_node.url + "/api/v1/openapi.json", timeout=10).json()
    with open_store(node_instance / "fieldsync.db") as store:
        real = {param: (store.query_one(f"SELECT id FROM {table} LIMIT 1") or {"id": "none"})["id"]
                for param, table in (("person_id", "people"), ("session_id", "sessions"),
                                     ("form_id", "forms"), ("submission_id", "submissions"))}
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                found.append((method.upper(), re.sub(r"\{(\w+)\}", lambda m: real[m.group(1)], path)))
    assert len(found) >= 5
    return found


def test_every_body_operation_refuses_bad_bodies_with_its_own_4xx(admin, body_operations):
    tried = 0
    for method, path in body_operations:
        for name, (body, headers, status, code) in BAD_BODIES.items():
            answer = admin.http.request(method, admin.base_url + path, data=body, timeout=30,
                                               headers={"X-CSRF-Token": admin.csrf, **headers})
            assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), (method, path, name)
            assert ERROR_KEYS <= set(answer.json()["error"])
            tried += 1
    print(f"\nbad bodies: {tried} requests, each refused with its own 4xx")


def test_a_body_over_the_size_limit_is_refused_before_it_is_read(admin):
    oversized = b'{"name": "' + b"x" * (65 * 1024 * 1024) + b'"}'
    answer = admin.post("/api/v1/people", data=oversized, timeout=60, headers=JSON)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"


def test_hostile_query_strings_and_paths(admin):
    for path in ("/api/v1/people?limit=99999999999999999999999", "/api/v1/people?offset=-1",
                 "/api/v1/people?q=" + "%27%20OR%201%3D1--", "/api/v1/people?q=%00%ff",
                 "/api/v1/sessions?include_cancelled=maybe", "/api/v1/people/" + "A" * 5000,
                 "/api/v1/people/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/api/v1/sessions/%00"):
        answer = admin.get(path)
        assert 200 <= answer.status_code < 500, (path, answer.status_code, answer.text[:200])
        assert "Traceback" not in answer.text
        if answer.status_code >= 400:
            assert ERROR_KEYS <= set(answer.json()["error"]), path
    found = admin.get("/api/v1/people?q=%27%20OR%201%3D1--").json()["people"]
    assert found == [], "a quote in a search is text, not SQL"
