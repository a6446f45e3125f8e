"""A hub that starts from its association's own place list, not the demo: `init --hub --unit`,
`places import`, `places population`, `targets set`; two laptops of two towns enroll and
get their own town's places; the reports divide by the imported population, share the
city's targets out by population and count only the activities that have started; one person
registered in both towns with the same ID number is flagged at the hub.
Every step is a real `fieldsync` process; the laptops sync with the hub's server over loopback.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import openpyxl
import pytest

from fieldsync.parts import open_store
from fieldsync.records import people, sessions
from fieldsync.reports import merges
from fieldsync.store import clock
from fieldsync.store.outbox import record_change
from tests.fixtures import own_city
from tests.support import LiveServer, run_cli

# Its hubs are made with `init --hub` (run_cli), not from a hub fixture: kept in the PostgreSQL pass.
pytestmark = pytest.mark.hub

PASSWORD = "own-city-admin"
ID_NUMBER = "11010519491231002X"   # GB 11643's own example


def _places_on(instance) -> set[str]:
    with open_store(instance / "fieldsync.db") as store:
        return {row["code"] for row in store.query("SELECT code FROM places")}


def _laptop(tmp_path, hub: LiveServer, town: str, name: str):
    added = run_cli(hub.instance, "nodes", "add", "--town", town, "--name", name).stdout
    code = re.search(r"Enrollment code: (\S+)", added).group(1)
    laptop = tmp_path / name
    run_cli(laptop, "init", "--town", town, "--password", PASSWORD)
    assert _places_on(laptop) == set(), "a new laptop has no demo gazetteer"
    run_cli(laptop, "enroll", hub.url, code)
    assert town in _places_on(laptop), "the town's places come with the enrollment"
    run_cli(laptop, "sync")
    return laptop


def _kpi_rows(hub_instance, unit: str, year: int, tmp_path) -> list[list]:
    output = tmp_path / f"kpi-{unit}.xlsx"
    run_cli(hub_instance, "report", "kpi", "--unit", unit, "--year", str(year), "--output", str(output))
    sheet = openpyxl.load_workbook(io.BytesIO(output.read_bytes())).active
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4)]


@pytest.fixture
def own_hub(tmp_path):
    year = clock.today().year
    place_list, population = own_city.write(tmp_path / "files", year - 1)
    instance = tmp_path / "hub"
    run_cli(instance, "init", "--hub", "--unit", own_city.CITY, "--password", PASSWORD)
    assert _places_on(instance) == set(), "init loads no demo gazetteer"
    imported = run_cli(instance, "places", "import", str(place_list)).stdout
    assert "13 places" in imported and "13 new" in imported
    run_cli(instance, "places", "population", str(population))
    run_cli(instance, "targets", "set", "--unit", own_city.CITY, "--year", str(year),
            "--instructors-per-1000", "5", "--trained", "100", "--activities", "50")
    with LiveServer(instance, hub=True) as hub:
        yield hub, year


def test_a_hub_of_another_city_from_its_own_list(own_hub, tmp_path):
    hub, year = own_hub
    qingshi = _laptop(tmp_path, hub, own_city.QINGSHI, "青石镇办公室")
    songlin = _laptop(tmp_path, hub, own_city.SONGLIN, "松林镇办公室")

    # Each laptop has its own town, its villages and the places above it; nothing of other towns.
    assert _places_on(qingshi) == {own_city.CITY, own_city.EAST, own_city.QINGSHI} | own_city.villages_of(
        own_city.QINGSHI)
    assert _places_on(songlin) == {own_city.CITY, own_city.SOUTH, own_city.SONGLIN} | own_city.villages_of(
        own_city.SONGLIN)

    # 青石镇 registers three instructors and two activities: one held, one still ahead.
    village = sorted(own_city.villages_of(own_city.QINGSHI))[1]
    with open_store(qingshi / "fieldsync.db") as store:
        for name in ("王芳", "李强", "张伟"):
            people.register(store, {"name": name, "town": own_city.QINGSHI, "village": village, "level": "level3",
                                    **({"id_number": ID_NUMBER} if name == "王芳" else {})}, actor="test")
        for title, starts in (("元旦健步走", datetime(year, 1, 1, 0, 0)), ("年末联欢", datetime(year, 12, 31, 23, 59))):
            sessions.create(store, {"kind": "volunteer", "title": title, "town": own_city.QINGSHI,
                                    "starts_at": starts, "hours": 1.0, "mode": "offline"}, actor="test")
        # A stolen laptop rewritten to rename the city: places only ever come from the hub.
        store.write(lambda db: record_change(db, "places", own_city.CITY, "upsert", store.hlc.now(), {
            "code": own_city.CITY, "name": "冒名市", "kind": "city", "parent": None}))
    run_cli(qingshi, "sync")
    with open_store(hub.instance / "fieldsync.db") as store:
        assert store.db.execute("SELECT name FROM places WHERE code = ?", [own_city.CITY]).fetchone() == ("晴川市",)
        assert store.db.execute("SELECT COUNT(*) FROM quarantine WHERE entity = 'places'").fetchone() == (1,)

    # 王芳 registers again at 松林镇, with the same ID number: the hub flags one person twice.
    with open_store(songlin / "fieldsync.db") as store:
        people.register(store, {"name": "王芳", "town": own_city.SONGLIN, "id_number": ID_NUMBER}, actor="test")
    run_cli(songlin, "sync")
    with open_store(hub.instance / "fieldsync.db") as store:
        twice = [group for group in merges.duplicates(store.db) if group["match"] == "id_number"]
    assert [sorted(p["town"] for p in group["people"]) for group in twice] == [
        sorted([own_city.QINGSHI, own_city.SONGLIN])]

    rows = _kpi_rows(hub.instance, own_city.QINGSHI, year, tmp_path)
    # 青石镇 has 30,000 of the city's 100,000 residents: 30% of the city's counts.
    assert rows[0] == ["年度培训社会体育指导员（人）", "青石镇", 30, 0, "0%", "由晴川市按人口分解"]
    assert rows[1] == ["年度国民体质监测（人）", "青石镇", 90, 0, "0%", "由晴川市按人口分解（浑南方案默认值）"]
    assert rows[2] == ["年度全民健身活动（次）", "青石镇", 15, 1, "7%", "由晴川市按人口分解"]
    assert rows[3] == ["其中：已计划、尚未举办的活动（次）", "青石镇", None, 1, None, None]
    # 3 instructors per 30,000 residents, by last year's figure (this year's is not in yet).
    assert next(row for row in rows if row[0] == "每千人社会体育指导员数") == ["每千人社会体育指导员数", "青石镇", 5, 0.1, f"未达标（按{year - 1}年人口）",
                        "沿用晴川市的目标"]
    county = _kpi_rows(hub.instance, own_city.SOUTH, year, tmp_path)
    assert county[0][2:] == [40, 0, "0%", "由晴川市按人口分解"]
