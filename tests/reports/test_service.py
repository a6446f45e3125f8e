"""上岗率 and the 一线社会体育指导员 list, against a hand count of the city (tests/reports/fixture.py).

The hand count, from the fixture's rows (2024):

Instructors (active, level not none), where they live:
    T1 张村镇: p1 王芳 三级, p3 张伟 二级        (p4 刘洋 三级 is cancelled: not counted; p2 holds no level)
    T2 羊亭镇: p5 陈静 一级                      (p6 holds no level)
    T3 石岛镇: p7 赵敏 三级, p8 王芳 二级        (p9 holds no level)
    → 5 instructors in the city, 3 in 环翠区 (T1+T2), 2 in 荣成市 (T3).

Services, every session's hours approved by the fixture:
    s3 volunteer T1: p1 1.5 h, p3 0.5 h, p5 2 h     → p1, p3, p5 served
    s4 theme T2:     p5 2.5 h, p8 1 h (p6 no level)  → p5, p8 served
    s6 volunteer T3: p7 came, but s6 was cancelled   → not a service
    s1, s2 trainings: their attendees were taught, they did not serve
    → served: p1, p3, p5, p8 = 4 of 5 (80%); 环翠区 3 of 3; 荣成市 1 of 2 (p7 did not); 2023: none.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.parts import open_store
from fieldsync.records import hour_reviews, trainers
from fieldsync.reports import kpi, registry, service
from fieldsync.reports.units import resolve
from tests.reports import fixture
from tests.reports.fixture import C1, C2, CITY, T1, T2, T3
from tests.support import run_cli, signed_in


def shares(city, year: int = 2024) -> dict[str, tuple[int, int]]:
    """code → (served, instructors) for the city, its counties and its towns."""
    return {row["code"]: (row["served"], row["instructors"])
            for row in service.rates(city.db, resolve(city.db, CITY, year), year)}


def test_the_rate_is_the_hand_count(city):
    assert shares(city) == {CITY: (4, 5), C1: (3, 3), C2: (1, 2), T1: (2, 2), T2: (1, 1), T3: (1, 2)}
    rates = {row["code"]: row["rate"] for row in service.rates(city.db, resolve(city.db, CITY, 2024), 2024)}
    assert rates[CITY] == pytest.approx(0.8) and rates[C2] == pytest.approx(0.5)
    # 2023: s7 was a training (p4 was taught, and is cancelled since): no one served.
    assert shares(city, 2023)[CITY] == (0, 5)


def test_a_correction_to_nothing_and_a_trainer_change_the_count(city, ids):
    # p3's half hour at s3 corrected to nothing: not a service any more → T1 1 of 2.
    hour_reviews.review(city, ids["s3"], "correct", actor="test", person_id=ids["p3"], minutes=0,
                        reason="到场未服务")
    # p7 led the s2 training (and scanned in at it too: one session counts once) → T3 2 of 2.
    trainers.set_trainer(city, ids["s2"], ids["p7"], actor="test")
    assert shares(city)[CITY] == (4, 5)
    assert (shares(city)[T1], shares(city)[T3]) == ((1, 2), (2, 2))
    # A cancelled instructor leads nothing.
    with pytest.raises(Conflict):
        trainers.set_trainer(city, ids["s1"], ids["p4"], actor="test")


def test_the_frontline_list_takes_the_associations_n(city, ids):
    # Services in 2024: p5 2 (s3, s4; leading s4 as well is still one service for s4), p1 1, p3 1, p8 1.
    trainers.set_trainer(city, ids["s4"], ids["p5"], actor="test")
    unit = resolve(city.db, CITY, 2024)
    assert service.min_services(city.db) == service.DEFAULT_MIN_SERVICES == 3
    assert service.frontline(city.db, unit, 2024) == []
    service.set_min_services(city, "2", actor="test")
    assert [(p["id"], p["services"]) for p in service.frontline(city.db, unit, 2024)] == [(ids["p5"], 2)]
    service.set_min_services(city, 1, actor="test")
    assert len(service.frontline(city.db, unit, 2024)) == 4
    for bad in ("0", "abc", "367", ""):
        with pytest.raises(ValidationFailed):
            service.set_min_services(city, bad)


def test_the_kpi_report_and_the_frontline_xlsx(city, ids):
    rows = list(kpi.table(city.db, resolve(city.db, CITY, 2024), 2024).rows)
    on_duty = {row[1]: (row[3], row[4]) for row in rows if row[0] == kpi.ON_DUTY}
    assert on_duty["威海市"] == ("4/5", "80%") and on_duty["荣成市"] == ("1/2", "50%")
    service.set_min_services(city, 1)
    _, chunks = registry.prepare(city.db, "frontline", "xlsx", {"year": 2024, "unit": CITY})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    assert "一线社会体育指导员" in sheet["A1"].value and sheet["A2"].value.startswith("单位名称（盖章）：威海市")
    header = [cell.value for cell in sheet[3]]
    assert header == list(service.FRONTLINE_COLUMNS)
    data = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4)]
    assert sorted(row[1] for row in data) == ["张伟", "王芳", "王芳", "陈静"]
    phones = [row[7] for row in data]
    assert all("****" in phone for phone in phones)
    assert sheet.cell(row=4, column=8).number_format == "@"


def test_the_pages_show_it_and_only_an_admin_sets_n(city_instance, ids):
    with signed_in(city_instance, "staff", fixture.PASSWORD) as staff:
        page = staff.get("/hub/?year=2024&unit=" + CITY).text
        row = re.search(rf'<tr data-unit="{CITY}">(.*?)</tr>', page, re.DOTALL).group(1)
        assert re.findall(r">([^<>]+)</td>", row) == ["威海市", "5", "4", "80%"]
        page = staff.get(f"/service/frontline?year=2024&unit={CITY}")
        assert page.status_code == 200 and 'id="min-services"' not in page.text
        assert staff.form("/service/min-services", {"min_services": "1"}, follow_redirects=False).status_code == 403
        assert staff.form("/service/frontline.xlsx", {"year": "2024", "unit": CITY, "full": "1"}, follow_redirects=False).status_code == 403
        assert staff.get(f"/service/frontline.xlsx?year=2024&unit={CITY}").status_code == 200
    with signed_in(city_instance, "admin", fixture.PASSWORD) as admin:
        assert admin.form("/service/min-services", {"min_services": "1"}, follow_redirects=False).status_code in (302, 303)
        answer = admin.form("/service/frontline.xlsx", {"year": "2024", "unit": CITY, "full": "1"}, follow_redirects=False)
        assert answer.status_code == 200
        data = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(answer.data)).active.iter_rows(
            min_row=4)]
        assert "13800000005" in [row[7] for row in data]   # whole phones for an admin
        page = admin.get(f"/service/frontline?year=2024&unit={CITY}").text
        assert 'id="min-services"' in page and "陈静" in page
        # The trainer page names one of the session's town's instructors.
        assert "赵敏" in admin.get(f"/sessions/{ids['s2']}/trainer").text
        assert admin.form(f"/sessions/{ids['s2']}/trainer", {"trainer": ids["p7"]}, follow_redirects=False).status_code in (302, 303)
        assert "赵敏" in admin.get(f"/sessions/{ids['s2']}").text


def test_the_command_line_sets_n(city_instance):
    assert "2" in run_cli(city_instance, "service", "min-services", "2").stdout
    refused = run_cli(city_instance, "service", "min-services", "0", check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    with open_store(city_instance / "fieldsync.db") as store:
        assert service.min_services(store.db) == 2
