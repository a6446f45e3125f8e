"""Injection: SQL and HTML typed into names and free text come back as text everywhere —
escaped on every page, plain in searches, and never a formula in CSV or XLSX exports."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.security.routes import routes

SCRIPT = '<script>alert("fs")</script>'
IMG = '"><img src=x onerror=alert(1)>'
RAW_MARKUP = (SCRIPT, "<img src=x onerror")
SESSION_TEXT = {
    "title": SCRIPT + "培训",
    "summary": IMG,
    "venue": "{{ 7*7 }}{% if 1 %}注入{% endif %}",
    "notes": "'; DROP TABLE people;--",
    "organizer": '=HYPERLINK("http://evil.example","点我")',
    "contact_name": "+SUM(1,2)",
}
PERSON_TEXT = {"name": "-O'Brien", "specialty": "=1+1", "certificate_no": "@SUM(A1)"}
FORMULA_STARTS = ("=", "+", "-", "@")


@pytest.fixture
def injected(staff, node_instance):
    town = "371002100000"
    session = staff.post("/api/v1/sessions", json={"kind": "training", "starts_at": "2025-06-01T09:00:00",
                                                    "town": town, **SESSION_TEXT})
    person = staff.post("/api/v1/people", json={"town": town, **PERSON_TEXT})
    assert session.status_code == 201 and person.status_code == 201, (session.text, person.text)
    return {"session_id": session.json["id"], "person_id": person.json["id"]}


def test_markup_in_names_is_refused_at_the_door(staff):
    for name in (SCRIPT, "王<b>伟</b>", "Robert'); DROP TABLE people;--", "=1+1"):
        answer = staff.post("/api/v1/people", json={"name": name, "town": "371002100000"})
        assert answer.status_code == 422 and "name" in answer.json["error"]["fields"], name


def test_every_page_escapes_what_people_typed(injected, admin, app):
    pages = {r.path for r in routes(app, injected)
             if r.method == "GET" and not r.api and r.endpoint not in ("static", "auth.logout")}
    pages |= {"/people?q=" + SCRIPT, "/sessions?q=" + SCRIPT, f"/kiosk/{injected['session_id']}"}
    shown = 0
    for path in sorted(pages):
        answer = admin.get(path)
        assert answer.status_code < 500, (path, answer.status_code)
        if "text/html" not in answer.headers.get("Content-Type", ""):
            continue
        for markup in RAW_MARKUP:
            assert markup not in answer.text, f"{path} shows {markup!r} unescaped"
        shown += "&lt;script&gt;alert" in answer.text
    assert shown >= 2, "the injected title should appear (escaped) on the session pages"
    session_page = admin.get(f"/sessions/{injected['session_id']}").text
    assert "{{ 7*7 }}" in session_page and "{% if 1 %}" in session_page, "template syntax stays text"


def test_searches_treat_quotes_as_text(injected, staff):
    for text in ("'; DROP TABLE people;--", "%' OR '1'='1", "O'Brien", "_"):
        answer = staff.get("/api/v1/people", query_string={"q": text})
        assert answer.status_code in (200, 422), text
    found = staff.get("/api/v1/people", query_string={"q": "O'Brien"}).json["people"]
    assert [p["id"] for p in found] == [injected["person_id"]]
    assert staff.get("/api/v1/people", query_string={"q": "%' OR '1'='1"}).json["people"] == []
    assert len(staff.get("/api/v1/people", query_string={"limit": 500}).json["people"]) > 50, "the table is intact"


def test_exports_never_carry_a_formula(injected, admin):
    text = admin.get("/people/export.csv").data.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert {"'" + v for v in PERSON_TEXT.values()} <= set(cells)
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    book = openpyxl.load_workbook(io.BytesIO(admin.get("/people/export.xlsx").data))
    xlsx_cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [c.coordinate for c in xlsx_cells if c.data_type == "f"], "a cell became a formula"
    values = {str(c.value) for c in xlsx_cells}
    assert all(v in values or "'" + v in values for v in PERSON_TEXT.values())

