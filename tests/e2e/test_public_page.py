"""The association's public page and its 电子显示屏 in a browser (decision 0241): on a 390 px phone
and a 1280 px screen they fit without sideways scrolling, speak Chinese, and name a chosen
instructor only while their consent stands (withdrawn on the 最美 page, the name is gone)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fieldsync.parts import open_store
from fieldsync.records import awards, consents, sessions
from tests.e2e.page_checks import english_words, layout_faults
from tests.e2e.pages import SCREENS, expect, sign_in
from tests.reports import fixture
from tests.support import LiveServer

pytestmark = pytest.mark.browser
YEAR = datetime.now().year
PAGES = ("/public/", "/public/display")


@pytest.fixture(scope="module")
def public_hub(tmp_path_factory):
    folder = tmp_path_factory.mktemp("public-hub") / "hub"
    ids = fixture.build_instance(folder)
    with open_store(folder / "fieldsync.db") as store:
        soon = datetime.now() + timedelta(days=5)
        sessions.create(store, fixture._session("theme", "重阳节登山健身活动暨全民健身志愿服务", fixture.T2, soon, 3.0),
                        actor="staff")
        for person, result in (("p1", "province"), ("p5", "selected")):
            made = awards.nominate(store, ids[person], YEAR, "带动全村健身", actor="staff", unit=fixture.T1)
            awards.decide(store, made["id"], result, None, actor="admin")
            consents.record(store, ids[person], "give", recorded_by="staff")
    with LiveServer(folder, hub=True) as server:
        yield server


def test_the_public_page_and_display_fit_phone_and_screen_in_chinese(public_hub, open_context):
    for screen, size in SCREENS.items():
        page = open_context(viewport=size, locale="zh-CN", is_mobile=screen == "phone").new_page()
        for path in PAGES:
            assert page.goto(public_hub.url + path).status == 200
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            expect(page.locator("#public-honours")).to_contain_text("王芳")
            expect(page.locator("#public-honours")).to_contain_text("推荐参加全省交流展示大会")
            expect(page.locator("main")).to_contain_text("重阳节登山健身活动")
            assert layout_faults(page) == [], (screen, path)
            assert english_words(page) == set(), (screen, path)
            assert "138" not in page.locator("main").inner_text()   # no phone, masked or not
    display = open_context(viewport=SCREENS["laptop"]).new_page()
    display.goto(public_hub.url + "/public/display")
    assert display.locator("meta[http-equiv=refresh]").get_attribute("content") == "60"
    title, body = (display.evaluate(f"parseFloat(getComputedStyle(document.querySelector('{sel}')).fontSize)")
                   for sel in (".display-title", "body"))
    assert title >= 2 * body   # large type for a screen read from across the room


def test_a_withdrawn_consent_takes_the_name_off_the_public_page_and_display(public_hub, open_context):
    visitor = open_context(viewport=SCREENS["phone"], is_mobile=True).new_page()
    visitor.goto(public_hub.url + "/public/")
    expect(visitor.locator("#public-honours")).to_contain_text("陈静")
    admin = open_context(viewport=SCREENS["phone"], is_mobile=True).new_page()
    sign_in(admin, public_hub.url, "admin")
    admin.goto(f"{public_hub.url}/awards/?year={YEAR}")
    card = admin.locator(".nominee", has_text="陈静")
    expect(card).to_contain_text("本人同意公开展示")
    card.locator("button.withdraw-consent").click()
    expect(admin.locator(".flash.ok")).to_contain_text("已撤回同意")
    expect(admin.locator(".nominee", has_text="陈静")).to_contain_text("未登记本人同意公开展示")
    for path in PAGES:
        visitor.goto(public_hub.url + path)
        expect(visitor.locator("#public-honours")).to_contain_text("王芳")
        expect(visitor.locator("main")).not_to_contain_text("陈静")
