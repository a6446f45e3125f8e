"""Theme days (issue 19): the association's list for each year, activities tagged with one, and
each level's activities held and people reached per theme day."""

from __future__ import annotations

import io

import openpyxl
import pytest

from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.records import sessions, theme_days
from fieldsync.reports import dashboard, registry, units
from tests.reports import fixture


def _tag(city, ids):
    for key, day in (("s3", "2024-labour-day"), ("s4", "2024-fitness-day"), ("s8", "2024-volunteer-day")):
        sessions.modify(city, ids[key], {"theme_day": day}, actor="test")


def _figures(city, unit):
    return {d["name"]: (d["activities"], d["reached"])
            for d in dashboard.build(city.db, units.resolve(city.db, unit), 2024)["theme_days"]
            if d["activities"]}


def test_each_level_counts_activities_and_people_per_theme_day(city, ids):
    _tag(city, ids)
    # s3 (张村镇, 劳动节): p1, p3, p5; s4 (羊亭镇, 全民健身日): p5, p6, p8 (p6 twice: once); s8: nobody came.
    assert _figures(city, None) == {"劳动节": (1, 3), "全民健身日": (1, 3), "国际志愿者日": (1, 0)}
    assert _figures(city, fixture.C1) == {"劳动节": (1, 3), "全民健身日": (1, 3), "国际志愿者日": (1, 0)}
    assert _figures(city, fixture.T2) == {"全民健身日": (1, 3)}
    assert _figures(city, fixture.C2) == {}


def test_the_theme_day_report_as_filed(city, ids):
    _tag(city, ids)
    _, chunks = registry.prepare(city.db, "theme-days", "xlsx", {"year": "2024", "unit": fixture.T1})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    assert (sheet["A1"].value, sheet["A2"].value) == ("2024年全民健身主题日活动情况表", "单位名称（盖章）：张村镇")
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=3)] == [
        ["序号", "主题日", "日期", "活动次数", "参与人次"],
        [1, "全民健身月", "5月1日—5月31日", 0, 0],
        [2, "劳动节", "5月1日", 1, 3],
        [3, "毛泽东发展体育运动题词纪念日", "6月10日", 0, 0],
        [4, "全民健身日", "8月8日", 0, 0],
        [5, "国庆节", "10月1日", 0, 0],
        [6, "国际志愿者日", "12月5日", 1, 0],
        ["合计", None, None, 2, 3],
    ]
    assert sheet["A10"].font.b and not sheet["A9"].font.b


def test_the_association_edits_a_years_list(city, ids):
    moved = theme_days.save(city, {"name": "全民健身日", "starts_on": "2024-08-10"},
                            theme_day_id="2024-fitness-day", actor="test")
    assert (moved["starts_on"], moved["ends_on"]) == ("2024-08-10", "2024-08-10")
    added = theme_days.save(city, {"name": "重阳节", "starts_on": "2024-10-11"}, actor="test")
    assert "重阳节" in [d["name"] for d in theme_days.for_year(city.db, 2024)]
    assert theme_days.for_year(city.db, 2025) == []                   # each year its own list
    assert theme_days.seed(city, 2025) == len(theme_days.DEFAULTS) and theme_days.seed(city, 2025) == 0
    sessions.modify(city, ids["s6"], {"theme_day": added["id"]}, actor="test")
    with pytest.raises(Conflict):
        theme_days.delete(city, added["id"])                          # an activity is tagged with it
    theme_days.delete(city, "2024-june-10")
    assert "2024-june-10" not in [d["id"] for d in theme_days.for_year(city.db, 2024)]


@pytest.mark.parametrize("data, field", [
    ({"name": "", "starts_on": "2024-05-01"}, "name"),
    ({"name": "x", "starts_on": "2024-13-01"}, "starts_on"),
    ({"name": "x", "starts_on": "2024-05-02", "ends_on": "2024-05-01"}, "ends_on"),
    ({"name": "x", "starts_on": "2024-12-30", "ends_on": "2025-01-02"}, "ends_on"),
    ({"name": "x", "starts_on": "1800-01-01"}, "starts_on"),
])
def test_a_bad_theme_day_names_the_field(city, data, field):
    with pytest.raises(ValidationFailed) as caught:
        theme_days.save(city, data)
    assert field in caught.value.fields


def test_an_activity_takes_a_theme_day_of_its_own_year_only(city, ids):
    with pytest.raises(ValidationFailed) as caught:
        sessions.modify(city, ids["s7"], {"theme_day": "2024-labour-day"})     # s7 is of 2023
    assert "theme_day" in caught.value.fields
    with pytest.raises(ValidationFailed):
        sessions.modify(city, ids["s3"], {"theme_day": "no-such-day"})
    assert theme_days.suggest(city.db, "2024-05-01T08:30")["name"] == "劳动节"   # not the month around it
    assert theme_days.suggest(city.db, "2024-05-20")["name"] == "全民健身月"
    assert theme_days.suggest(city.db, "2024-07-01") is None
