"""Reports at every level (issue 19): a county, a city and a province hub each report on their own
area, by default their own unit, and refuse a unit outside it; a county's reports are the same
whether its own hub or the city's builds them from the same records."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from fieldsync.errors import Forbidden
from fieldsync.parts import open_store
from fieldsync.records import places, sessions
from fieldsync.reports import registry
from tests.reports import fixture
from tests.support import LiveServer, run_cli

# Its hubs are made with `init --hub` (run_cli), not from a hub fixture: kept in the PostgreSQL pass.
pytestmark = pytest.mark.hub

PROVINCE = "370000"
AREA = {fixture.C1: (fixture.T1, fixture.T2), fixture.CITY: None, PROVINCE: None}
NAMES = {fixture.C1: "环翠区", fixture.CITY: "威海市", PROVINCE: "山东省"}
UNIT_REPORTS = [name for name, report in registry.REPORTS.items() if "unit" in report.params]
# What the 临汾 notice asks of an activity, set alike at both hubs.
TAGS = {"venue_type": "campus", "groups_served": "elderly,youth", "safety_plan": True}


def make_hub(folder: Path, unit: str) -> Path:
    """`fieldsync init --hub --unit`, then the records of the unit's area (a county hub holds its
    towns' records only) and the gazetteer up to the province."""
    run_cli(folder, "init", "--hub", "--unit", unit, "--password", fixture.PASSWORD)
    with open_store(folder / "fieldsync.db") as store:
        ids = fixture.build(store, AREA[unit])
        places.import_places(store, [{"code": PROVINCE, "name": "山东省", "kind": "province", "parent": None},
                                     {**fixture.PLACES[0], "parent": PROVINCE}])
        sessions.modify(store, ids["s3"], TAGS, actor="test")
    return folder


@pytest.fixture(scope="module")
def hubs(tmp_path_factory) -> dict[str, Path]:
    return {unit: make_hub(tmp_path_factory.mktemp(f"hub-{unit}"), unit) for unit in AREA}


def _cells(chunks) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _report(hub: Path, name: str, **params) -> tuple[str, list[list]]:
    with open_store(hub / "fieldsync.db") as store:
        file_name, chunks = registry.prepare(store.db, name, "xlsx", {"year": "2024", **params})
        return file_name, _cells(chunks)


@pytest.mark.parametrize("unit", list(AREA))
@pytest.mark.parametrize("name", UNIT_REPORTS)
def test_every_report_defaults_to_the_hubs_own_unit(hubs, unit, name):
    file_name, cells = _report(hubs[unit], name)
    assert file_name == f"{name}-{unit}-2024.xlsx"
    assert cells[1][0] == f"单位名称（盖章）：{NAMES[unit]}"


@pytest.mark.parametrize("unit, inside", [(PROVINCE, fixture.CITY), (PROVINCE, fixture.T3),
                                          (fixture.CITY, fixture.C2), (fixture.C1, fixture.T2)])
def test_a_hub_reports_on_any_unit_inside_its_area(hubs, unit, inside):
    for name in UNIT_REPORTS:
        file_name, _ = _report(hubs[unit], name, unit=inside)
        assert file_name == f"{name}-{inside}-2024.xlsx"


@pytest.mark.parametrize("unit, outside", [(fixture.C1, fixture.C2), (fixture.C1, fixture.T3),
                                           (fixture.C1, fixture.CITY), (fixture.CITY, PROVINCE)])
def test_a_unit_outside_the_hubs_area_is_refused(hubs, unit, outside):
    for name in UNIT_REPORTS:
        with pytest.raises(Forbidden) as caught:
            _report(hubs[unit], name, unit=outside)
        assert caught.value.status == 403 and caught.value.code == "unit_outside_area"
        assert "unit" in caught.value.fields


def test_the_command_line_says_the_unit_is_outside_in_one_line(hubs, tmp_path):
    target = tmp_path / "x.xlsx"
    result = run_cli(hubs[fixture.C1], "report", "statistics", "--unit", fixture.C2, "--output", str(target),
                     check=False)
    assert result.returncode == 1 and "outside this hub's area" in result.stderr
    assert "Traceback" not in result.stderr and not target.exists()


@pytest.mark.parametrize("name", ["statistics", "coverage", "volunteer-hours"])
def test_a_county_report_is_the_same_at_the_county_and_at_the_city(hubs, name):
    """The county hub holds only its towns' records; the city hub holds every county's."""
    _, at_county = _report(hubs[fixture.C1], name)
    _, at_city = _report(hubs[fixture.CITY], name, unit=fixture.C1)
    assert at_county == at_city
    assert len(at_county) > 4


@pytest.mark.parametrize("unit", [fixture.C1, PROVINCE])
def test_a_hubs_pages_show_its_own_unit_and_refuse_another(hubs, unit):
    outside = fixture.C2 if unit == fixture.C1 else "440000"
    with LiveServer(hubs[unit], hub=True) as server:
        client = fixture.signed_in(server, "admin")
        page = client.get("/hub/?year=2024")
        assert page.status_code == 200 and f"{NAMES[unit]} · 2024" in page.text
        kpi = client.get("/hub/reports/kpi.xlsx?year=2024")
        assert kpi.status_code == 200 and _cells([kpi.content])[1][0] == f"单位名称（盖章）：{NAMES[unit]}"
        refused = client.get(f"/hub/reports/kpi.xlsx?year=2024&unit={outside}")
        assert refused.status_code in (403, 404) and "Traceback" not in refused.text
        with open_store(hubs[unit] / "fieldsync.db") as store:
            s3 = store.query_one("SELECT id FROM sessions WHERE title = '劳动节全民健身志愿服务'")["id"]
        page = client.get(f"/sessions/{s3}")   # what its 备注 will say, before anyone files it
        assert "六进：校园；服务对象：老年人、青少年/幼儿；有应急预案；与梨林村结对" in page.text


def test_the_province_table_groups_by_city_then_county(hubs):
    _, cells = _report(hubs[PROVINCE], "statistics")
    subtotals = [(row[1], row[2]) for row in cells[3:] if row[0] is None]
    assert subtotals == [("环翠区小计", "活动5次"), ("荣成市小计", "活动1次"), ("威海市小计", "活动6次"),
                         ("合计", "活动6次")]
    assert [row[0] for row in cells[3:] if row[0] is not None] == [1, 2, 3, 4, 5, 6]
