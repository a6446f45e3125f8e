"""结对子 that shows its fruit (decision 0231): organisations as records (and the free text of older
pairings migrated into them), each pairing's activities, people reached, fitness teams and the
local leaders who became instructors, as a report and on the hub's pages; published to the
laptops of the pairing's town only.

Hand count on the city (tests/reports/fixture.py), pairing 威海市太极拳协会 ↔ 梨林村 (T1 张村镇):
    activities linked: s3 volunteer 2024 (p1, p3, p5 came), s1 training 2024 (p1, p2, p3, p9 came),
                       s7 training 2023 (another year)                      → 2 activities in 2024
    people reached in 2024: p1, p2, p3, p5, p9                              → 5
    teams: 梨林村太极拳队 formed 2024-06-01 (15 members); 梨林村健步走队 formed 2025 → 1 team, 15 members
    leaders found: p1 (三级, an instructor), p2 (no level)                  → 2 leaders, 1 instructor;
                   p2 promoted to 三级 later                                 → 2 instructors
"""

from __future__ import annotations

import io
import sqlite3
from datetime import date

import openpyxl
import pytest
from sqlite_utils import Database

from fieldsync.errors import ValidationFailed
from fieldsync.parts import MIGRATION_SETS, open_store
from fieldsync.records import people
from fieldsync.reports import organisations, pairing_schema, pairings, registry, units
from fieldsync.sync import entities, hublog
from fieldsync.sync.upstream.pull import apply_pulled
from tests.reports import fixture
from tests.support import signed_in


@pytest.fixture
def paired(city, ids):
    pair = pairings.create(city, {"organisation": ids["o2"], "village": fixture.V11, "since": date(2024, 3, 15)},
                           actor="test")
    for session in ("s3", "s1", "s7"):
        pairings.link(city, pair["id"], ids[session])
    pairings.add_team(city, pair["id"], {"name": "梨林村太极拳队", "formed_on": date(2024, 6, 1), "members": 15})
    pairings.add_team(city, pair["id"], {"name": "梨林村健步走队", "formed_on": date(2025, 1, 10), "members": 8})
    for person in ("p1", "p2"):
        pairings.recruit(city, pair["id"], ids[person], actor="test")
    other = pairings.create(city, {"organisation": ids["o3"], "village": fixture.V31}, actor="test")
    return pair, other


def fruit_of(city, code=fixture.C1) -> list[tuple]:
    return [(p["organisation"], p["village_name"], len(p["activities"]), p["reached"], p["teams"], p["members"],
             p["leaders"], p["instructors"]) for p in pairings.fruit(city.db, units.resolve(city.db, code), 2024)]


def test_a_pairing_reports_what_it_bore(city, ids, paired):
    assert fruit_of(city) == [("威海市太极拳协会", "梨林村", 2, 5, 1, 15, 2, 1)]
    people.promote(city, ids["p2"], "level3", "SD-3-099", actor="test")   # the leader became an instructor
    assert fruit_of(city)[0][-2:] == (2, 2)
    with pytest.raises(ValidationFailed):   # a leader is of the pairing's town
        pairings.recruit(city, paired[0]["id"], ids["p9"])
    assert fruit_of(city, fixture.C2) == [("荣成市门球协会", "东山村", 0, 0, 0, 0, 0, 0)]


def test_the_fruit_report(city, ids, paired):
    _, chunks = registry.prepare(city.db, "pairings", "xlsx", {"year": 2024, "unit": fixture.CITY})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    assert sheet["A1"].value == "2024年体育社会组织与社区结对子成效表"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert [row[1:3] + row[5:7] + row[8:] for row in rows] == [
        ["威海市太极拳协会", "体育协会", "张村镇", "梨林村", 2, 5, 1, 15, 2, 1],
        ["荣成市门球协会", "体育俱乐部", "石岛镇", "东山村", 0, 0, 0, 0, 0, 0]]
    assert rows[0][7] == date(2024, 3, 15) or rows[0][7].date() == date(2024, 3, 15)


def test_organisations_are_records_with_unique_names(city, ids):
    saved = organisations.save(city, {"name": "威海市健身气功协会", "kind": "association", "contact_name": "周建国",
                                      "contact_phone": "13963100002"}, actor="test")
    assert organisations.get(city.db, saved["id"])["contact_name"] == "周建国"
    with pytest.raises(Exception) as clash:
        organisations.save(city, {"name": "威海市门球协会"})
    assert clash.value.code == "organisation_exists"
    with pytest.raises(ValidationFailed):
        organisations.save(city, {"name": "x", "kind": "nonsense"})


def test_free_text_pairings_become_organisation_records(tmp_path):
    """The migration: pairings that named their organisation as text, two of one name, keep their
    activities and name one record each."""
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    db.execute("PRAGMA foreign_keys = ON")
    for migrations in MIGRATION_SETS[:MIGRATION_SETS.index(pairing_schema.migrations)]:
        migrations.apply(db)
    db["places"].insert_all([{"code": fixture.T1, "name": "张村镇", "kind": "town", "parent": None},
                             {"code": fixture.V11, "name": "梨林村", "kind": "village", "parent": fixture.T1},
                             {"code": fixture.V12, "name": "泉埠村", "kind": "village", "parent": fixture.T1}])
    db["pairings"].insert_all([
        {"id": "pa", "organisation": "威海市门球协会", "village": fixture.V11, "created_at": "2024-03-01T00:00:00Z"},
        {"id": "pb", "organisation": "威海市门球协会", "village": fixture.V12, "created_at": "2024-03-01T00:00:00Z"},
        {"id": "pc", "organisation": "威海市太极拳协会", "village": fixture.V11, "created_at": "2024-03-01T00:00:00Z"}])
    db["session_pairings"].insert({"session_id": "s1", "pairing_id": "pa"})
    db.conn.commit()
    db.conn.close()
    with open_store(path) as store:   # opening it applies the rest
        found = store.query("SELECT p.id, o.name, p.town FROM pairings p JOIN organisations o"
                            " ON o.id = p.organisation_id ORDER BY p.id")
        assert [(r["id"], r["name"], r["town"]) for r in found] == [
            ("pa", "威海市门球协会", fixture.T1), ("pb", "威海市门球协会", fixture.T1), ("pc", "威海市太极拳协会", fixture.T1)]
        assert store.query_one("SELECT COUNT(*) AS n FROM organisations")["n"] == 2
        assert store.query("SELECT * FROM session_pairings") == [{"session_id": "s1", "pairing_id": "pa"}]


def test_pairings_reach_the_laptops_of_their_town_only(city, ids, paired, tmp_path):
    pair, other = paired
    city.write(hublog.before_pull)
    changes, _, _ = city.write(lambda db: hublog.read_page(db, fixture.T1, 0, 1000))
    sent = {(c["entity"], c["id"]) for c in changes if c["entity"] in ("organisations", "pairings", "fitness_teams")}
    assert ("pairings", pair["id"]) in sent and ("pairings", other["id"]) not in sent
    assert {("organisations", ids[key]) for key in ("o1", "o2", "o3")} <= sent
    assert sum(1 for entity, _ in sent if entity == "fitness_teams") == 2
    assert not any(entities.get(name).pushed for name in ("organisations", "pairings", "fitness_teams"))
    with open_store(tmp_path / "laptop.db") as laptop:   # a laptop takes them as the hub sends them
        laptop.write(lambda db: [apply_pulled(db, entities.get(c["entity"]), c) for c in changes
                                 if c["entity"] in ("organisations", "pairings", "fitness_teams")])
        assert laptop.query_one("SELECT organisation_id FROM pairings WHERE id = ?", [pair["id"]])[
            "organisation_id"] == ids["o2"]


def test_the_pages(city_instance, ids):
    with open_store(city_instance / "fieldsync.db") as store:
        pair = pairings.create(store, {"organisation": ids["o2"], "village": fixture.V11})
    with signed_in(city_instance, "staff", fixture.PASSWORD) as staff:
        page = staff.get("/hub/organisations").text
        assert "威海市门球协会" in page and "139****0003" in page and "13963100003" in page   # list masked, form whole
        answer = staff.form("/hub/organisations", {"name": "威海市健身气功协会", "kind": "association"}, follow_redirects=False)
        assert answer.status_code in (302, 303)
        assert staff.form("/hub/organisations", {"name": "", "kind": "club"}, follow_redirects=False).status_code == 422
        page = staff.get(f"/hub/pairings/{pair['id']}").text
        assert "威海市太极拳协会 ↔ 梨林村" in page and 'name="person"' in page
        assert staff.form(f"/hub/pairings/{pair['id']}/teams", {"name": "梨林村太极拳队", "members": "15"}
                          , follow_redirects=False).status_code in (302, 303)
        assert staff.form(f"/hub/pairings/{pair['id']}/leaders", {"person": ids["p1"]}, follow_redirects=False).status_code in (302, 303)
        page = staff.get(f"/hub/pairings/{pair['id']}").text
        assert "梨林村太极拳队" in page and "王芳" in page.split('id="leaders"')[1]
        assert staff.get("/hub/pairings/nope").status_code == 404
