"""Reviewing an activity's hours on a 390 px phone, in Chinese (issue 15, decision 0170): the
volunteer hours page counts what waits, the session's page shows who came with in, out and
estimated hours, and a correction and an approval land in the history and the totals."""

from __future__ import annotations

from datetime import datetime

import pytest

from fieldsync.parts import open_store
from fieldsync.records import checkins, sessions
from fieldsync.reports import hours, units
from tests.e2e.pages import expect, fits, phone_page
from tests.reports import fixture

pytestmark = pytest.mark.browser
STARTS = datetime(2024, 9, 1, 8)


@pytest.fixture
def city_hub(serve_city):
    made = {}

    def prepare(store, ids):
        made.update(sessions.create(store, fixture._session("volunteer", "九月健步走", fixture.T1, STARTS, 8.0),
                                    actor="staff"))
        for person, scans in (("p3", (("in", 8), ("out", 10))), ("p1", (("in", 8),))):
            for direction, hour in scans:
                checkins.check_in(store, session_id=made["id"], person_id=ids[person], direction=direction,
                                  station="test", scanned_at=STARTS.replace(hour=hour, tzinfo=fixture.CHINA))
    server = serve_city(prepare)
    server.session_id = made["id"]
    return server



def test_staff_review_an_activitys_hours_on_a_phone(open_context, city_hub):
    page = phone_page(open_context, city_hub.url, "staff")
    page.goto(f"{city_hub.url}/hub/volunteers?year=2024")
    expect(page.locator("#hours-waiting-count")).to_contain_text("待审核：1 个活动")
    page.click("text=九月健步走")
    expect(page.locator("#hours-verdict")).to_contain_text("待审核")
    rows = page.locator("#hours-attendees tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#hours-attendees tr", has_text="王芳")).to_contain_text("估算")   # no out: 4 h, not 8
    expect(page.locator("#hours-attendees tr", has_text="王芳")).to_contain_text("4")
    assert fits(page)
    form = page.locator("#correct-hours")
    form.locator("select[name=person_id]").select_option(label="王芳")
    form.locator("input[name=hours]").fill("1.5")
    form.locator("input[name=reason]").fill("九点半离开")
    form.locator("button").click()
    expect(page.locator(".flash.ok")).to_contain_text("时长已更正")
    page.click("#approve-hours")
    expect(page.locator("#hours-verdict")).to_contain_text("已审核通过")
    history = page.locator("#hours-history li")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("staff")
    expect(history.first).to_contain_text("九点半离开")
    assert fits(page)
    with open_store(city_hub.instance / "fieldsync.db") as store:
        board = {p["id"]: p["hours"] for p in hours.leaderboard(store.db, units.resolve(store.db), 2024)}
    assert board[city_hub.ids["p3"]] == 0.5 + 2 and board[city_hub.ids["p1"]] == 1.5 + 1.5
