"""Chinese by default, English when the browser or the person asks; usable on a 360 px phone."""

from __future__ import annotations

import pytest

from tests.e2e.page_checks import NAV_MAX_PX
from tests.e2e.pages import (
    PHONE,
    SCREENS,
    expect,
    open_kiosk,
    sign_in,
    todays_session,
    wedge,
)

pytestmark = pytest.mark.browser


def test_kiosk_follows_the_browser_language_and_switches_on_request(open_context, kiosk_node):
    english = open_context(locale="en-US").new_page()
    english.goto(kiosk_node.url + "/login")
    expect(english.locator("h1")).to_have_text("Sign in")

    page = open_context(locale="zh-CN").new_page()
    sign_in(page, kiosk_node.url, "trainer")
    open_kiosk(page, kiosk_node.url, todays_session(kiosk_node.instance))
    expect(page.locator("#fb-headline")).to_have_text("请扫码")
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.click("text=English")
    page.wait_for_selector("#kiosk[data-ready='1']")
    expect(page.locator("#fb-headline")).to_have_text("Ready to scan")
    expect(page.locator(".direction")).to_contain_text("Check out")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(kiosk_node.url + "/kiosk/")  # the choice sticks
    expect(page.locator("h1")).to_have_text("Choose a session to scan for")


def test_kiosk_fits_a_360px_phone_with_large_targets(open_context, kiosk_node, badge_book):
    page = open_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in(page, kiosk_node.url, "trainer")
    for lang in ("zh_CN", "en"):
        page.goto(f"{kiosk_node.url}/kiosk/{todays_session(kiosk_node.instance)}?lang={lang}")
        page.wait_for_selector("#kiosk[data-ready='1']")
        page.focus("#scan-input")
        wedge(page, badge_book[1]["code"])
        expect(page.locator("#feedback")).not_to_have_attribute("data-status", "idle")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], lang
        for target in ("#camera-toggle", ".direction label >> nth=0", "#scan-input"):
            assert page.locator(target).bounding_box()["height"] >= 48, (lang, target)


def test_the_menu_folds_on_a_phone_and_is_a_bar_on_a_laptop(open_context, kiosk_node):
    page = open_context(viewport=SCREENS["phone"], locale="zh-CN").new_page()
    sign_in(page, kiosk_node.url, "admin")
    page.goto(kiosk_node.url + "/people")
    people = page.locator(".topbar nav a[href='/people']")
    assert page.locator(".topbar").bounding_box()["height"] <= NAV_MAX_PX
    expect(people).to_be_hidden()
    page.click(".menu-button")
    expect(people).to_be_visible()
    page.click(".menu-button")
    expect(people).to_be_hidden()
    page.set_viewport_size(SCREENS["laptop"])
    expect(page.locator(".menu-button")).to_be_hidden()
    expect(people).to_be_visible()
    expect(page.locator(".topbar .logout button")).to_be_visible()
