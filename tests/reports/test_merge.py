"""Duplicate registrations: found by name and mobile, merged without touching a check-in."""

from __future__ import annotations

import pytest

from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.records import people
from fieldsync.reports import coverage, hours, kpi, merges, units
from tests.reports import fixture


def _checkins(store) -> list[tuple]:
    return sorted(map(tuple, store.db.execute("SELECT * FROM checkins").fetchall()))


def test_the_same_name_and_mobile_in_two_towns_is_found(city, ids):
    groups = merges.duplicates(city.db)
    assert [(g["name"], g["phone"], [p["id"] for p in g["people"]]) for g in groups] == [
        ("王芳", "13800000001", [ids["p1"], ids["p8"]])]
    assert {p["town"] for p in groups[0]["people"]} == {fixture.T1, fixture.T3}
    assert [p["sessions"] for p in groups[0]["people"]] == [2, 2]


def test_same_name_and_mobile_but_different_birth_years_are_two_people(city, ids):
    people.modify(city, ids["p1"], {"birth_year": 1960})
    people.modify(city, ids["p8"], {"birth_year": 1988})
    assert merges.duplicates(city.db) == []
    people.modify(city, ids["p8"], {"birth_year": 1960})
    assert [g["match"] for g in merges.duplicates(city.db)] == ["name_phone"]


def test_merge_keeps_every_checkin_and_counts_them_for_the_kept_person(city, ids):
    before = _checkins(city)
    merges.merge(city, ids["p1"], ids["p8"], actor="admin")
    assert _checkins(city) == before            # not one check-in row changed or went away
    sessions_of_p1 = {r["session_id"] for r in hours.history(city.db, ids["p1"])}
    assert sessions_of_p1 == {ids["s1"], ids["s3"], ids["s2"], ids["s4"]}   # p8's s2 and s4 now p1's
    city_unit = units.resolve(city.db)
    board = {p["name"]: p["hours"] for p in hours.leaderboard(city.db, city_unit, 2024)}
    assert board == {"陈静": 4.5, "王芳": 2.5, "张伟": 0.5}   # 1.5 + 1.0, one line
    assert hours.totals(city.db, city_unit, 2024) == {"volunteers": 4, "hours": 10.0}
    assert kpi.yearly(city.db, city_unit, 2024)[0]["done"] == 5      # 王芳 trained once, not twice
    trained = {v["code"]: v["trained"] for v in coverage.of(city.db, city_unit, 2024).villages}
    assert (trained[fixture.V11], trained[fixture.V31]) == (2, 1)   # p8's training counts at p1's home


def test_merge_cancels_the_duplicate_and_fills_the_kept_record(city, ids):
    merges.merge(city, ids["p1"], ids["p8"], actor="admin")
    kept, gone = people.get(city, ids["p1"]), people.get(city, ids["p8"])
    assert gone["status"] == "cancelled"
    assert (kept["level"], kept["certificate_no"], kept["specialty"]) == ("level2", "SD-2-008", "太极拳")
    assert [h["action"] for h in people.history(city, ids["p8"])][-1] == "merged_into"
    assert [h["action"] for h in people.history(city, ids["p1"])][-1] == "merge"
    assert city.query("SELECT merged_id, kept_id, actor FROM person_merges") == [
        {"merged_id": ids["p8"], "kept_id": ids["p1"], "actor": "admin"}]
    assert merges.duplicates(city.db) == []
    density = {r["name"]: r["instructors"] for r in kpi.density(city.db, units.resolve(city.db), 2024)}
    assert (density["张村镇"], density["石岛镇"]) == (2, 1)
    outbox = city.query("SELECT record_id FROM changes WHERE entity = 'people' ORDER BY seq DESC LIMIT 2")
    assert {row["record_id"] for row in outbox} == {ids["p1"], ids["p8"]}   # the towns hear of it


def test_merging_again_or_into_a_merged_person_is_refused(city, ids):
    merges.merge(city, ids["p1"], ids["p8"])
    with pytest.raises(Conflict) as again:
        merges.merge(city, ids["p7"], ids["p8"])
    assert again.value.code == "already_merged"
    with pytest.raises(Conflict):
        merges.merge(city, ids["p8"], ids["p7"])
    with pytest.raises(ValidationFailed):
        merges.merge(city, ids["p7"], ids["p7"])
    with pytest.raises(Conflict) as cancelled:
        merges.merge(city, ids["p4"], ids["p2"])
    assert cancelled.value.code == "kept_cancelled"


def test_a_chain_of_merges_resolves_in_one_hop(city, ids):
    merges.merge(city, ids["p8"], ids["p9"])       # p9 into p8
    merges.merge(city, ids["p1"], ids["p8"])       # then p8 into p1: p9 follows
    assert set(merges.ids_of(city.db, ids["p1"])) == {ids["p1"], ids["p8"], ids["p9"]}
    assert merges.kept_of(city.db, ids["p9"]) == ids["p1"]


def test_promotion_needs_a_higher_level(city, ids):
    people.promote(city, ids["p1"], "level2", "SD-2-100", actor="staff")
    person = people.get(city, ids["p1"])
    assert (person["level"], person["certificate_no"]) == ("level2", "SD-2-100")
    assert people.history(city, ids["p1"])[-1]["action"] == "promote"
    with pytest.raises(Conflict) as refused:
        people.promote(city, ids["p1"], "level3", "SD-3-9")
    assert refused.value.code == "not_a_promotion"
    with pytest.raises(Conflict):
        people.promote(city, ids["p4"], "level1", "SD-1-9")     # cancelled
