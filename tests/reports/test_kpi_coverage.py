"""KPI, coverage and density figures of the fixture city, against numbers worked out by hand.

2024 training 'in' scans: s1 (T1) p1 p2 p3 p9, s2 (T3) p7 p8 → 6 people; p9 lives in T3/V32.
Monitoring: s5 p2 p6 p9. Mass activities: s3, s4, s8 (s6 cancelled). Instructors (active, level
set): p1 p3 (T1), p5 (T2), p7 p8 (T3); p4 is cancelled.
"""

from __future__ import annotations

import io

import openpyxl
import pytest

from fieldsync.reports import coverage, dashboard, kpi, pairings, registry, units
from tests.reports import fixture


def _yearly(db, code, year=2024):
    return {t["key"]: t["done"] for t in kpi.yearly(db, units.resolve(db, code), year)}


@pytest.mark.parametrize("code, trained, monitored, mass", [
    (None, 6, 3, 3),             # the city
    (fixture.C1, 3, 2, 3),       # 环翠区: p1 p2 p3; p2 p6; s3 s4 s8
    (fixture.C2, 3, 1, 0),       # 荣成市: p7 p8 p9; p9; s6 cancelled
    (fixture.T1, 3, 1, 2),       # 张村镇: p1 p2 p3; p2; s3 s8
    (fixture.T2, 0, 1, 1),       # 羊亭镇: -; p6; s4
])
def test_yearly_targets(city, code, trained, monitored, mass):
    assert _yearly(city.db, code) == {"trained": trained, "monitored": monitored, "activities": mass}


def test_targets_and_progress(city):
    targets = kpi.yearly(city.db, units.resolve(city.db), 2024)
    assert [(t["target"], t["progress"]) for t in targets] == [(200, 6 / 200), (300, 3 / 300), (100, 3 / 100)]


def test_another_year_counts_its_own_sessions(city):
    assert _yearly(city.db, None, 2023) == {"trained": 1, "monitored": 0, "activities": 0}   # p4 at s7


def test_coverage_per_village(city):
    covered = coverage.of(city.db, units.resolve(city.db), 2024)
    trained = {v["code"]: v["trained"] for v in covered.villages}
    assert trained == {fixture.V11: 2, fixture.V12: 1, fixture.V13: 0, fixture.V21: 0, fixture.V22: 0,
                       fixture.V31: 2, fixture.V32: 1}
    assert (covered.covered, len(covered.villages)) == (4, 7)
    assert [(t["name"], len(t["villages"]), t["covered"], t["trained"]) for t in covered.towns] == [
        ("张村镇", 3, 2, 3), ("羊亭镇", 2, 0, 0), ("石岛镇", 2, 2, 3)]


def test_coverage_of_a_county(city):
    covered = coverage.of(city.db, units.resolve(city.db, fixture.C1), 2024)
    assert (covered.covered, len(covered.villages), covered.ratio) == (2, 5, 0.4)


def test_density_against_four_and_a_half(city):
    rows = {(r["name"], r["kind"]): (r["population"], r["instructors"], r["per_1000"], r["meets"])
            for r in kpi.density(city.db, units.resolve(city.db), 2024)}
    assert rows == {
        ("威海市", "city"): (2000, 5, 2.5, False),
        ("环翠区", "county"): (600, 3, 5.0, True),
        ("荣成市", "county"): (1000, 2, 2.0, False),    # no population of its own: its towns' sum
        ("张村镇", "town"): (400, 2, 5.0, True),
        ("羊亭镇", "town"): (200, 1, 5.0, True),
        ("石岛镇", "town"): (1000, 2, 2.0, False),
    }
    assert [r["name"] for r in kpi.density(city.db, units.resolve(city.db, fixture.C2), 2024)] == ["荣成市", "石岛镇"]


def test_kpi_workbook(city):
    _, chunks = registry.prepare(city.db, "kpi", "xlsx", {"year": 2024, "unit": fixture.C1})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    assert sheet["A1"].value == "2024年全民健身工作主要指标完成情况"
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=3)] == [
        ["指标", "范围", "目标", "完成", "完成情况", "目标来源"],
        # 环翠区 has 600 of the city's 2000 residents: 30% of the city's (default) counts.
        ["年度培训社会体育指导员（人）", "环翠区", 60, 3, "5%", "由威海市按人口分解（浑南方案默认值）"],
        ["年度国民体质监测（人）", "环翠区", 90, 2, "2%", "由威海市按人口分解（浑南方案默认值）"],
        ["年度全民健身活动（次）", "环翠区", 30, 3, "10%", "由威海市按人口分解（浑南方案默认值）"],
        ["其中：已计划、尚未举办的活动（次）", "环翠区", None, 0, None, None],
        ["行政村（社区）培训覆盖", "环翠区", 5, 2, "40%", None],
        ["每千人社会体育指导员数", "环翠区", 4.5, 5, "达标", "沿用威海市的目标（浑南方案默认值）"],
        ["每千人社会体育指导员数", "张村镇", 4.5, 5, "达标", "沿用威海市的目标（浑南方案默认值）"],
        ["每千人社会体育指导员数", "羊亭镇", 4.5, 5, "达标", "沿用威海市的目标（浑南方案默认值）"],
        # 上岗率 (tests/reports/test_service.py has the hand count): p1, p3 of 张村镇 and p5 of 羊亭镇 served.
        ["社会体育指导员上岗率", "环翠区", None, "3/3", "100%", "年内服务一次以上的指导员/在册指导员"],
        ["社会体育指导员上岗率", "张村镇", None, "2/2", "100%", "年内服务一次以上的指导员/在册指导员"],
        ["社会体育指导员上岗率", "羊亭镇", None, "1/1", "100%", "年内服务一次以上的指导员/在册指导员"],
    ]


def test_coverage_workbook_totals(city):
    _, chunks = registry.prepare(city.db, "coverage", "xlsx", {"year": 2024, "unit": fixture.T3})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert rows == [[1, "石岛镇", "东山村", fixture.V31, 600, 2, "是"],
                    [2, "石岛镇", "西山村", fixture.V32, 400, 1, "是"],
                    ["合计", None, "覆盖 2/2", None, 1000, 3, "100%"]]
    assert sheet["D4"].data_type == "s" and sheet["D4"].number_format == "@"


def test_dashboard_figures(city):
    data = dashboard.build(city.db, units.resolve(city.db), 2024)
    assert data["sessions_by_kind"] == {"training": 2, "volunteer": 2, "theme": 1, "monitoring": 1}
    days = {row["day"]: row["people"] for row in data["checkins_per_day"]}
    # 8 August: p6 came in twice and counts once; 1 October: s6 was cancelled, but the scans happened.
    assert days == {"2024-03-10": 4, "2024-04-02": 2, "2024-05-01": 3, "2024-06-10": 3, "2024-08-08": 3,
                    "2024-10-01": 1}
    assert [t["name"] for t in data["theme_days"]] == ["全民健身月", "劳动节", "毛泽东发展体育运动题词纪念日",
                                                     "全民健身日", "国庆节", "国际志愿者日"]
    assert {k: data["theme_days"][0][k] for k in ("starts_on", "ends_on", "activities", "reached")} == {
        "starts_on": "2024-05-01", "ends_on": "2024-05-31", "activities": 0, "reached": 0}
    filtered = dashboard.build(city.db, units.resolve(city.db, fixture.T1), 2024, "training")
    assert filtered["checkins_per_day"] == [{"day": "2024-03-10", "people": 4}]
    assert filtered["sessions_by_kind"] == {"training": 1}


def test_pairings_and_their_activities(city, ids):
    pair = pairings.create(city, {"organisation": ids["o2"], "village": fixture.V11})
    pairings.link(city, pair["id"], ids["s3"])
    pairings.link(city, pair["id"], ids["s7"])            # 2023: not in the 2024 list
    listed = pairings.listing(city.db, units.resolve(city.db, fixture.C1), 2024)
    assert [(p["organisation"], p["village_name"]) for p in listed] == [("威海市太极拳协会", "梨林村")]
    assert [(a["title"], a["attendees"]) for a in listed[0]["activities"]] == [("劳动节全民健身志愿服务", 3)]
    assert pairings.listing(city.db, units.resolve(city.db, fixture.C2), 2024) == []
    assert [s["id"] for s in pairings.unlinked_sessions(city.db, units.resolve(city.db, fixture.C1), 2024)] == [
        ids["s4"], ids["s8"]]


def test_pairing_mistakes_are_refused(city, ids):
    from fieldsync.errors import Conflict, NotFound, ValidationFailed

    with pytest.raises(ValidationFailed):
        pairings.create(city, {"organisation": ids["o1"], "village": fixture.T1})
    pairings.create(city, {"organisation": ids["o1"], "village": fixture.V11})
    with pytest.raises(Conflict):
        pairings.create(city, {"organisation": ids["o1"], "village": fixture.V11})
    with pytest.raises(NotFound):   # an organisation is a record, not free text (decision 0231)
        pairings.create(city, {"organisation": "协会", "village": fixture.V12})
    with pytest.raises(NotFound):
        pairings.link(city, "no-such-pairing", ids["s3"])
