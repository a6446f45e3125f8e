"""Double scans (issue 14): a person scanned in to one session by two laptops of the town. The
hub's merge flags both check-ins; the session page, the attendance sheet and the hub's review
list show who, where and when, and staff record what they found. A laptop's own second station
is told "already checked in", so a laptop never holds a double itself. Hub and laptops as in
tests/sync/conftest.py; the pages over real HTTP."""

from __future__ import annotations

import io
import re

import openpyxl

from fieldsync.records import checkins, users
from tests.support import WebClient
from tests.sync.conftest import TOWN_A, TOWN_B


def _signed_in(url: str, who: str, password: str = "fieldsync-demo") -> WebClient:
    client = WebClient(url)
    assert client.login(who, password).ok
    return client


def _rows(page: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-double="([^"]+)">(.*?)</tr>', page, re.DOTALL))


def _waiting(client: WebClient) -> int:
    """The dashboard's "needs attention" count of double scans to review."""
    page = client.get("/hub/?lang=en").text
    return int(re.search(r'id="attention-doubles"[^>]*>(\d+) double scans to review<', page).group(1))


def _scan_in(laptop, session: str, person: str, station: str) -> checkins.ScanResult:
    return checkins.check_in(laptop.store, session_id=session, person_id=person, station=station)


def test_a_double_scan_shows_on_the_session_page_the_sheet_and_the_review_list(cluster):
    one, two = cluster.add_node(TOWN_A, name="一号机"), cluster.add_node(TOWN_A, name="二号机")
    one.sync(), two.sync()
    session = one.query("SELECT id, starts_at FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]
    person = one.query("SELECT id, name, phone FROM people WHERE phone IS NOT NULL ORDER BY id LIMIT 1")[0]
    sid, pid, day = session["id"], person["id"], session["starts_at"][:10]
    assert _scan_in(one, sid, pid, "南门").recorded
    assert _scan_in(one, sid, pid, "侧门").status == checkins.ALREADY      # the laptop's second station
    assert _scan_in(two, sid, pid, "北门").recorded
    one.sync(), two.sync()
    assert one.query("SELECT flags FROM checkins WHERE session_id = ? AND person_id = ?", [sid, pid]) == \
        [{"flags": ""}]                                                       # the laptop holds no double
    staff = _signed_in(cluster.hub.url, "staff")

    page = staff.get(f"/sessions/{sid}?lang=en").text
    block = re.search(rf'<div class="double-scan" data-double="{pid}">(.*?)</div>', page, re.DOTALL).group(1)
    assert "Scanned in by two laptops" in block and "一号机 · 南门" in block and "二号机 · 北门" in block
    assert 'id="double-note"' in page and 'href="/hub/double-scans"' in page

    sheet = openpyxl.load_workbook(io.BytesIO(staff.get(f"/hub/reports/attendance.xlsx?session={sid}").content)).active
    assert sheet["J3"].value == "备注"
    notes = {row[1]: row[9] for row in sheet.iter_rows(min_row=4, values_only=True)}
    label, scans = notes[person["name"]].split("：")
    assert label == "两台电脑重复签到" and sorted(re.sub(r" \d\d:\d\d$", "", scan) for scan in scans.split("；")) \
        == ["一号机（南门）", "二号机（北门）"]                      # in the order of the laptops' clocks
    assert sum(1 for note in notes.values() if note) == 1

    assert 'href="/hub/double-scans"' in staff.get("/hub/quarantine").text     # in the hub's review menu
    assert _waiting(staff) == 1
    rows = _rows(staff.get("/hub/double-scans?lang=en").text)
    assert list(rows) == [f"{sid}/{pid}"]
    row = rows[f"{sid}/{pid}"]
    assert person["name"] in row and person["phone"] not in row and person["phone"][-4:] in row
    assert "一号机 · 南门" in row and "二号机 · 北门" in row and day in row
    assert _rows(staff.get(f"/hub/double-scans?town={TOWN_B}").text) == {}
    assert _rows(staff.get(f"/hub/double-scans?town={TOWN_A}&since={day}&until={day}").text).keys() == rows.keys()
    assert _rows(staff.get("/hub/double-scans?since=2999-01-01").text) == {}
    assert staff.get("/hub/double-scans?since=yesterday").status_code == 422

    reviewed = staff.form("/hub/double-scans/review", {"session": sid, "person": pid, "note": "两个入口<script>"})
    assert reviewed.status_code == 200 and _rows(reviewed.text) == {}
    assert staff.form("/hub/double-scans/review", {"session": sid, "person": pid}).status_code == 409
    assert _waiting(staff) == 0
    assert staff.form("/hub/double-scans/review", {"session": sid, "person": "nobody"}).status_code == 404
    done = staff.get("/hub/double-scans?state=reviewed").text
    assert "两个入口&lt;script&gt;" in _rows(done)[f"{sid}/{pid}"] and "<script>" not in done
    trail = re.search(r'<ul id="double-trail">(.*?)</ul>', done, re.DOTALL).group(1)
    assert " · staff · " in trail and person["name"] in trail

    three = cluster.add_node(TOWN_A, name="三号机")      # a third laptop scans the person in again
    three.sync()
    assert _scan_in(three, sid, pid, "西门").recorded
    three.sync()
    again = _rows(staff.get("/hub/double-scans?lang=en").text)[f"{sid}/{pid}"]
    assert "三号机 · 西门" in again and "Scanned again since the review" in again and _waiting(staff) == 1


def test_an_account_of_another_town_neither_sees_nor_reviews_the_double(cluster):
    one, two = cluster.add_node(TOWN_A), cluster.add_node(TOWN_A)
    one.sync(), two.sync()
    sid = one.query("SELECT id FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]["id"]
    pid = one.query("SELECT id FROM people ORDER BY id LIMIT 1")[0]["id"]
    for laptop in (one, two):
        assert _scan_in(laptop, sid, pid, laptop.name).recorded
    one.sync(), two.sync()
    with cluster.hub_store() as store:
        users.create(store, "town-b", "town-b-password", "staff", units=[TOWN_B])
    other = _signed_in(cluster.hub.url, "town-b", "town-b-password")
    assert _rows(other.get("/hub/double-scans?state=all").text) == {} and _waiting(other) == 0
    assert other.form("/hub/double-scans/review", {"session": sid, "person": pid}).status_code == 403
    trainer = _signed_in(cluster.hub.url, "trainer")
    assert trainer.get("/hub/double-scans").status_code == 403
    staff = _signed_in(cluster.hub.url, "staff")
    assert list(_rows(staff.get("/hub/double-scans").text)) == [f"{sid}/{pid}"]
