"""The hub's filings page (报送统计表, decision 0150) on a 390 px phone, in Chinese: the city
files its own table, sets the deadline, and returns a county's filing with a reason."""

from __future__ import annotations

import pytest

from fieldsync.reports import filings
from fieldsync.sync import enrollment
from tests.e2e.pages import expect, fits, phone_page
from tests.reports import fixture

pytestmark = pytest.mark.browser
YEAR = 2024   # the fixture's activities


@pytest.fixture
def city_hub(serve_city):
    def prepare(store, ids):
        node, _ = enrollment.add_node(store, fixture.C1, "环翠区平台", hub=True)
        store.write(lambda db: db.execute("UPDATE nodes SET enrolled_at = created_at WHERE id = ?", [node["id"]]))
        # The county's filing as its push would leave it here (the sync itself: tests/sync/test_filings.py).
        filed = filings.file(store, YEAR, actor="环翠区")
        store.write(lambda db: db.execute("UPDATE filings SET unit = ? WHERE id = ?", [fixture.C1, filed["id"]]))

    return serve_city(prepare)



def test_an_admin_files_sets_the_deadline_and_returns_a_county_filing_on_a_phone(open_context, city_hub):
    page = phone_page(open_context, city_hub.url, "admin")
    page.goto(f"{city_hub.url}/hub/filings/?year={YEAR}")
    expect(page.locator("h1")).to_have_text(f"报送 · {YEAR}")
    assert fits(page)
    page.click("#file-statistics")
    expect(page.locator(".flash.ok")).to_contain_text("第1版")
    expect(page.locator("#own-filings tr[data-version='1']")).to_be_visible()
    page.locator("#child-filings input[name=due_on]").fill("2099-05-28")
    page.locator("#child-filings button", has_text="设定截止日期").click()
    expect(page.locator("#filing-deadline")).to_have_text("2099-05-28")
    row = page.locator(f"tr[data-unit='{fixture.C1}']")
    expect(row).to_contain_text("按时报送")
    row.locator("input[name=reason]").fill("缺少5月的活动")
    row.locator("button", has_text="退回").click()
    expect(page.locator(".flash.ok")).to_contain_text("已退回第1版")
    expect(page.locator(f"tr[data-unit='{fixture.C1}']")).to_contain_text("缺少5月的活动")
    assert fits(page)
