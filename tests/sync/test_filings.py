"""Filing the 统计表 upward (issue 19, decision 0150): a county hub files its table for a year,
the filing travels to the city with the county's push, and the city sees each county's filing
against the deadline it set, and what changed between versions. Each hub is its own
`fieldsync serve` process; the county's laptop syncs with the county."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest

from fieldsync.errors import FieldsyncError
from fieldsync.parts import open_store
from fieldsync.records import sessions, users
from fieldsync.reports import filings, filings_wire
from fieldsync.store.outbox import record_change
from tests.support import LiveServer, WebClient, run_cli
from tests.sync.conftest import TOWN_A
from tests.sync.test_chain import (
    CITY,
    COUNTY_1,
    COUNTY_2,
    Laptop,
    code_for,
    enroll,
    hub_sync,
    make_hub,
    query,
)


@pytest.fixture
def chain(hub_template, demo_template, tmp_path):
    """A city hub, a county hub under it and one town laptop under the county, all synced once."""
    city = make_hub(hub_template, tmp_path / "city", CITY)
    county = make_hub(hub_template, tmp_path / "county", COUNTY_1)
    with ExitStack() as stack:
        servers = {name: stack.enter_context(LiveServer(path, hub=True))
                   for name, path in (("city", city), ("county", county))}
        enroll(county, servers["city"].url, code_for(city, COUNTY_1, child_hub=True))
        shutil.copytree(demo_template, tmp_path / "laptop")
        laptop = Laptop(tmp_path / "laptop")
        stack.callback(laptop.store.close)
        enroll(laptop.instance, servers["county"].url, code_for(county, TOWN_A))
        laptop.sync()
        hub_sync(county)
        year = laptop.store.query("SELECT MAX(substr(starts_at, 1, 4)) AS y FROM sessions")[0]["y"]
        yield {"city": city, "county": county, "laptop": laptop, "servers": servers, "year": year}


def states(city: Path, year: str) -> dict:
    with open_store(city / "fieldsync.db") as store:
        return {row["unit"]: row["state"] for row in filings.status(store.db, year)[1]}


def test_a_county_files_its_table_and_the_city_sees_it_against_its_deadline(chain):
    city, county, year = chain["city"], chain["county"], chain["year"]
    run_cli(city, "filings", "deadline", "2001-05-28", "--year", year)   # long past: nothing filed is missing
    assert states(city, year) == {COUNTY_1: "missing"}
    assert "missing" in run_cli(city, "filings", "status", "--year", year).stdout

    filed = run_cli(county, "filings", "file", "--year", year).stdout
    assert "version 1" in filed
    mine = query(county, "SELECT * FROM filings")
    assert len(mine) == 1 and mine[0]["unit"] == COUNTY_1 and mine[0]["xlsx"].startswith(b"PK")
    hub_sync(county)
    theirs = query(city, "SELECT * FROM filings")
    assert [(r["unit"], r["version"], r["xlsx"]) for r in theirs] == [(COUNTY_1, 1, mine[0]["xlsx"])]
    assert states(city, year) == {COUNTY_1: "late"}
    run_cli(city, "filings", "deadline", "2099-05-28", "--year", year)
    assert states(city, year) == {COUNTY_1: "on_time"}

    staff = WebClient(chain["servers"]["city"].url)
    assert staff.login("staff").ok
    page = staff.get(f"/hub/filings/?year={year}")
    assert page.ok and f'data-unit="{COUNTY_1}" data-state="on_time"' in page.text
    download = staff.get(f"/hub/filings/{theirs[0]['id']}.xlsx")
    assert download.ok and download.content == mine[0]["xlsx"]
    with open_store(city / "fieldsync.db") as store:   # an account of one county at the city: not its business
        users.create(store, "huancui-staff", "a-long-passphrase", "staff", units=[COUNTY_2])
    limited = WebClient(chain["servers"]["city"].url)
    assert limited.login("huancui-staff", "a-long-passphrase").ok
    assert limited.get(f"/hub/filings/{theirs[0]['id']}.xlsx").status_code == 403


def test_filing_again_makes_a_new_version_and_the_city_sees_what_changed(chain):
    city, county, laptop, year = chain["city"], chain["county"], chain["laptop"], chain["year"]
    county_staff = WebClient(chain["servers"]["county"].url)
    assert county_staff.login("staff").ok
    assert county_staff.post("/hub/filings/file", data={"year": year}).ok
    held = laptop.store.query("SELECT id, title FROM sessions WHERE substr(starts_at, 1, 4) = ? ORDER BY id",
                              [year])
    sessions.modify(laptop.store, held[0]["id"], {"title": held[0]["title"] + "（改）"}, actor="a")
    laptop.sync()
    hub_sync(county)
    assert county_staff.post("/hub/filings/file", data={"year": year}).ok
    hub_sync(county)

    versions = query(city, "SELECT id, version FROM filings ORDER BY version")
    assert [v["version"] for v in versions] == [1, 2]
    with open_store(city / "fieldsync.db") as store:
        diff = filings.changes(store.db, versions[0]["id"], versions[1]["id"])
    assert [r[2] for r in diff["added"]] == [held[0]["title"] + "（改）"]
    assert [r[2] for r in diff["removed"]] == [held[0]["title"]]
    staff = WebClient(chain["servers"]["city"].url)
    assert staff.login("staff").ok
    page = staff.get(f"/hub/filings/{versions[1]['id']}/changes")
    assert page.ok and held[0]["title"] + "（改）" in page.text


def test_the_city_takes_a_filing_only_for_the_county_s_own_unit(chain):
    city, county, year = chain["city"], chain["county"], chain["year"]
    with open_store(county / "fieldsync.db") as store:   # as a county hub's stolen token would send it
        row = {**filings.get(store.db, filings.file(store, year, actor="x")["id"]), "id": "forged", "unit": COUNTY_2}
        store.write(lambda db: record_change(db, "filings", "forged", "upsert", row["hlc"], filings_wire.wire(row)))
    hub_sync(county)
    assert [r["unit"] for r in query(city, "SELECT unit FROM filings")] == [COUNTY_1]
    assert [r["code"] for r in query(city, "SELECT code FROM quarantine")] == ["not_your_record"]


def test_the_city_returns_a_filing_with_a_reason_and_the_county_sees_it(chain):
    city, county, year = chain["city"], chain["county"], chain["year"]
    run_cli(county, "filings", "file", "--year", year)
    hub_sync(county)
    admin = WebClient(chain["servers"]["city"].url)
    assert admin.login("admin").ok
    url = f"/hub/filings/units/{COUNTY_1}/decide"
    no_reason = admin.post(url, data={"year": year, "state": "returned"})
    assert no_reason.status_code == 422   # and the county's row says so by its reason field
    row = no_reason.text.split(f'data-unit="{COUNTY_1}"')[1].split("</tr>")[0]
    assert 'class="field-error"' in row.split('name="reason"')[1]
    late = admin.post("/hub/filings/deadline", data={"year": year, "due_on": "月底"})
    assert late.status_code == 422 and 'value="月底"' in late.text and "不是日期" in late.text
    assert admin.post(url, data={"year": year, "state": "returned", "reason": "缺少5月全民健身月的活动"}).ok
    assert 'data-review="returned"' in admin.get(f"/hub/filings/?year={year}").text
    with open_store(county / "fieldsync.db") as store:
        assert filings.review_of(store.db, COUNTY_1, year) is None
    hub_sync(county)
    staff = WebClient(chain["servers"]["county"].url)
    assert staff.login("staff").ok
    page = staff.get(f"/hub/filings/?year={year}")
    assert 'id="our-review" data-state="returned"' in page.text and "缺少5月全民健身月的活动" in page.text
    assert "returned version 1" in run_cli(county, "filings", "list", "--year", year).stdout
    assert refused_cli(run_cli(city, "filings", "accept", COUNTY_2, "--year", year, check=False), "No filing")


def refused_cli(result, words: str) -> bool:
    return result.returncode in (1, 2) and words in result.stderr and "Traceback" not in result.stderr


def test_an_accepted_year_is_locked_at_the_county_and_offline_on_its_laptop_and_a_late_edit_waits(chain):
    city, county, laptop, year = chain["city"], chain["county"], chain["laptop"], chain["year"]
    held = laptop.store.query("SELECT id, title FROM sessions WHERE substr(starts_at, 1, 4) = ? ORDER BY id",
                              [year])
    late, other = held[0], held[1]
    sessions.modify(laptop.store, late["id"], {"title": "改于锁定之前"}, actor="a")   # not synced yet
    run_cli(county, "filings", "file", "--year", year)
    hub_sync(county)
    assert "accepted" in run_cli(city, "filings", "accept", COUNTY_1, "--year", year).stdout
    hub_sync(county)

    with open_store(county / "fieldsync.db") as store, pytest.raises(FieldsyncError) as locked:
        sessions.modify(store, other["id"], {"title": "县里改"}, actor="admin")
    assert locked.value.code == "period_locked" and "reopens the year" in locked.value.message  # English outside a request

    laptop.sync()   # the edit made before the lock goes up and waits; the lock comes down
    waiting = query(county, "SELECT code, record_id FROM quarantine")
    assert [(w["code"], w["record_id"]) for w in waiting] == [("period_locked", late["id"])]
    assert query(county, "SELECT title FROM sessions WHERE id = ?", [late["id"]])[0]["title"] == late["title"]
    with pytest.raises(FieldsyncError) as offline:
        sessions.modify(laptop.store, other["id"], {"title": "镇里改"}, actor="a")
    assert offline.value.code == "period_locked"
    hub_sync(county)
    assert query(city, "SELECT title FROM sessions WHERE id = ?", [late["id"]])[0]["title"] == late["title"]

    run_cli(city, "filings", "reopen", COUNTY_1, "--year", year)
    hub_sync(county)
    laptop.sync()
    sessions.modify(laptop.store, other["id"], {"title": "重新开放后改"}, actor="a")
