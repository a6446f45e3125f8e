"""The hub's theme-days page on a 390 px phone, in Chinese; the session form suggests a theme day
from the date (issue 19)."""

from __future__ import annotations

import pytest

from fieldsync.parts import open_store
from fieldsync.records import theme_days
from fieldsync.store import clock
from tests.e2e.pages import SCREENS, expect, fits, phone_page, sign_in

pytestmark = pytest.mark.browser
YEAR = clock.today().year


@pytest.fixture
def city_hub(serve_city):
    return serve_city(lambda store, ids: theme_days.seed(store, YEAR, actor="test"))



def test_an_admin_edits_the_years_theme_days_on_a_phone(open_context, city_hub):
    page = phone_page(open_context, city_hub.url, "admin")
    page.goto(f"{city_hub.url}/hub/theme-days/?year={YEAR}")
    expect(page.locator("h1")).to_have_text(f"主题活动日 · {YEAR}")
    assert fits(page)
    card = page.locator(f"#theme-day-{YEAR}-fitness-day")
    card.locator("input[name=starts_on]").fill(f"{YEAR}-08-09")
    card.locator("button.primary").click()
    expect(page.locator(".flash.ok")).to_contain_text("已保存全民健身日")
    add = page.locator("#add-theme-day")
    add.locator("input[name=name]").fill("重阳节登高")
    add.locator("input[name=starts_on]").fill(f"{YEAR}-10-11")
    add.locator("button.primary").click()
    expect(page.locator(".flash.ok")).to_contain_text("已添加重阳节登高")
    assert fits(page)
    with open_store(city_hub.instance / "fieldsync.db") as store:
        names = {d["name"]: d["starts_on"] for d in theme_days.for_year(store.db, YEAR)}
    assert names["全民健身日"] == f"{YEAR}-08-09" and names["重阳节登高"] == f"{YEAR}-10-11"
    page.goto(f"{city_hub.url}/hub/theme-days/?year={YEAR + 1}")   # a year without a list yet
    page.click("#seed-theme-days")
    expect(page.locator(f"#theme-day-{YEAR + 1}-labour-day")).to_be_visible()


def test_staff_see_the_list_but_no_editing(open_context, city_hub):
    page = open_context(viewport=SCREENS["phone"]).new_page()
    sign_in(page, city_hub.url, "staff")
    page.goto(f"{city_hub.url}/hub/theme-days/?year={YEAR}")
    expect(page.locator("h2", has_text="劳动节")).to_be_visible()
    assert page.locator("input[name=name]").count() == 0


def test_the_session_form_suggests_the_theme_day_of_the_date(open_context, city_hub):
    page = phone_page(open_context, city_hub.url, "staff")
    page.goto(city_hub.url + "/sessions/new")
    page.fill("input[name=starts_at]", f"{YEAR}-05-01T09:00")
    expect(page.locator("#theme-day")).to_have_value(f"{YEAR}-labour-day")
    page.fill("input[name=starts_at]", f"{YEAR}-05-20T09:00")
    expect(page.locator("#theme-day")).to_have_value(f"{YEAR}-fitness-month")
    assert fits(page)
