"""Reports across a change of the place list: 白沙镇 merged into 青石镇 on 1 July 2025.

Its activities count under 白沙镇 up to that day and under 青石镇 from it; its residents
count in 青石镇 from the year of the merge on, and in 白沙镇 in the years before; a
county's figures do not move. Targets and densities divide by the year's population.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from fieldsync.parts import open_store
from fieldsync.records import (
    checkins,
    people,
    place_import,
    places,
    populations,
    sessions,
)
from fieldsync.reports import coverage, kpi, targets, units
from tests.fixtures import own_city

BAISHA_VILLAGE = "371102101201"
CHINA = timezone(timedelta(hours=8))


@pytest.fixture
def merged(tmp_path):
    with open_store(tmp_path / "fieldsync.db") as store:
        listing, figures = own_city.write(tmp_path / "files", 2024)
        assert place_import.import_file(store, listing.read_bytes(), listing.name).ok
        assert populations.import_file(store, figures.read_bytes(), figures.name).ok
        coach = people.register(store, {"name": "陈静", "town": own_city.BAISHA, "village": BAISHA_VILLAGE,
                                        "level": "level2"}, actor="test")
        for title, day in (("春季健步走", datetime(2025, 2, 1, 9)), ("秋季健步走", datetime(2025, 9, 1, 9))):
            sessions.create(store, {"kind": "volunteer", "title": title, "town": own_city.BAISHA,
                                    "starts_at": day, "hours": 2.0}, actor="test")
        training = sessions.create(store, {"kind": "training", "title": "培训", "town": own_city.QINGSHI,
                                           "starts_at": datetime(2026, 3, 1, 9), "hours": 2.0}, actor="test")
        checkins.check_in(store, session_id=training["id"], person_id=coach["id"], station="test",
                          scanned_at=datetime(2026, 3, 1, 9, 5, tzinfo=CHINA))
        merge = ("code,name,merged_into\n" f"{own_city.BAISHA},白沙镇,{own_city.QINGSHI}\n").encode()
        report = place_import.import_file(store, merge, "撤并.csv", as_of=date(2025, 7, 1))
        assert report.ok and report.ended == [(own_city.BAISHA, own_city.QINGSHI)]
        yield store


def _held(db, code, year):
    return kpi.mass_activities(db, units.resolve(db, code, year), year)[0]


def test_activities_follow_the_merge_from_its_day(merged):
    db = merged.db
    assert _held(db, own_city.BAISHA, 2025) == 1       # 春季, before the merge
    assert _held(db, own_city.QINGSHI, 2025) == 1      # 秋季, after it
    assert _held(db, own_city.EAST, 2025) == 2         # the county holds both, as before
    assert _held(db, own_city.BAISHA, 2026) == 0


def test_residents_count_where_their_town_went(merged):
    db = merged.db

    def instructors(code, year):
        return {row["code"]: row["instructors"] for row in kpi.density(db, units.resolve(db, code, year), year)}

    assert instructors(own_city.EAST, 2024) == {own_city.EAST: 1, own_city.QINGSHI: 0, own_city.BAISHA: 1}
    # From the merge's year on 白沙镇 is no row of its own; its instructor counts in 青石镇.
    assert instructors(own_city.EAST, 2026) == {own_city.EAST: 1, own_city.QINGSHI: 1}
    towns = coverage.of(db, units.resolve(db, own_city.EAST, 2026), 2026).towns
    # 白沙镇's villages live on under 青石镇, with the instructor trained in 2026.
    assert [(t["name"], len(t["villages"]), t["trained"]) for t in towns] == [("青石镇", 5, 1)]
    earlier = coverage.of(db, units.resolve(db, own_city.EAST, 2024), 2024).towns
    assert [(t["name"], len(t["villages"])) for t in earlier] == [("青石镇", 3), ("白沙镇", 2)]


def test_a_report_per_place_counts_in_each_place_the_towns_resolving_it_gives(merged):
    """breakdown() reads the gazetteer once for all the unit's places (density and 上岗率 use
    it); each place's towns are those its own resolve() gives, before the merge and after; the
    towns under a place and its ancestors are those the recursive queries find; and its
    population and targets, read for all places at once, are those read a place at a time."""
    db = merged.db
    targets.set_targets(merged, own_city.EAST, 2025, {"trained": 120, "per_1000": 6.0})   # shared out, inherited
    gazetteer = units.Gazetteer(db)
    for year in (2024, 2025, 2026):
        rows = units.breakdown(db, units.resolve(db, own_city.CITY, year), year)
        assert {place["kind"] for place, _ in rows} == {"city", "county", "town"}
        codes = [place["code"] for place, _ in rows]
        figures = units.populations_of(db, codes, year, gazetteer)
        rates = targets.applied_to(db, codes, year, gazetteer=gazetteer)
        for place, towns in rows:
            code = place["code"]
            assert towns == units.resolve(db, code, year).towns, (code, year)
            assert gazetteer.under.get(code, set()) == {
                town["code"] for town in units.descendants(db, code, "town", every=True)}
            assert gazetteer.ancestors(code) == places.ancestors(db, code)
            assert figures[code] == units.population(db, code, year), (code, year)   # a query a place
            assert rates[code] == targets.applied(db, code, year), (code, year)
    east = {place["code"]: towns for place, towns in units.breakdown(db, units.resolve(db, own_city.EAST, 2026), 2026)}
    assert own_city.BAISHA in east[own_city.QINGSHI] and own_city.BAISHA not in east   # its residents went with it


def test_density_says_which_years_population_it_used_or_that_there_is_none(merged):
    db = merged.db
    rows = {r["code"]: r for r in kpi.density(db, units.resolve(db, own_city.EAST, 2026), 2026)}
    assert (rows[own_city.QINGSHI]["population"], rows[own_city.QINGSHI]["population_year"]) == (30_000, 2024)
    populations.set_figures(merged, [(own_city.QINGSHI, 2024, None)])
    row = kpi.density(db, units.resolve(db, own_city.QINGSHI, 2026), 2026)[0]
    assert (row["population"], row["per_1000"]) == (None, None)
    density = [r for r in kpi.table(db, units.resolve(db, own_city.QINGSHI, 2026), 2026).rows
               if r[0] == "每千人社会体育指导员数"]
    assert density[-1][3:5] == ("无人口数据", "无人口数据")


def test_targets_set_shared_out_or_from_the_plan(merged):
    db = merged.db
    applied = targets.applied(db, own_city.CITY, 2025)
    assert (applied["trained"].value, applied["trained"].describe()) == (200, "浑南方案默认值")
    targets.set_targets(merged, own_city.EAST, 2025, {"trained": 120, "per_1000": 6.0})
    town = targets.applied(db, own_city.QINGSHI, 2025)
    assert (town["trained"].value, town["trained"].describe()) == (60, "由东湖区按人口分解")   # 30,000 of 60,000
    assert (town["per_1000"].value, town["per_1000"].describe()) == (6.0, "沿用东湖区的目标")
    assert (town["monitored"].value, town["monitored"].describe()) == (90, "由晴川市按人口分解（浑南方案默认值）")
    assert targets.applied(db, own_city.EAST, 2025)["trained"].describe() == "本单位设定"
    later = targets.applied(db, own_city.EAST, 2026)["trained"]     # nothing set for 2026: the city's 200 × 60%
    assert (later.value, later.how) == (120, "shared")
