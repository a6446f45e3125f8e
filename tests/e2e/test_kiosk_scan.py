"""A trainer at the laptop with a USB scanner: what the kiosk shows, and what SQLite keeps."""

from __future__ import annotations

import pytest

from tests.e2e.pages import (
    checkins_of,
    db_rows,
    expect,
    open_kiosk,
    person_name,
    sign_in,
    todays_session,
    wedge,
)
from tests.support import WebClient

pytestmark = pytest.mark.browser


def test_wedge_scans_show_ok_already_invalid_and_store_once(open_context, kiosk_node, badge_book):
    page = open_context().new_page()
    sign_in(page, kiosk_node.url, "trainer")
    session_id = todays_session(kiosk_node.instance)
    open_kiosk(page, kiosk_node.url, session_id)
    feedback, headline = page.locator("#feedback"), page.locator("#fb-headline")
    badge = badge_book[1]
    name = person_name(kiosk_node.instance, badge["person"])

    wedge(page, badge["code"])
    expect(feedback).to_have_attribute("data-status", "ok")
    expect(headline).to_have_text("签到成功")
    expect(page.locator("#fb-detail")).to_contain_text(name)
    expect(feedback).to_have_css("background-color", "rgb(10, 125, 50)")  # green, white text
    expect(page.locator("#attendee-list")).to_contain_text(name)
    expect(page.locator("#count")).to_have_text("1")
    fill_in = page.locator("#fb-form")  # today's training carries the assessment form
    expect(fill_in).to_be_visible()
    expect(fill_in).to_have_attribute("href", f"/kiosk/{session_id}/form/{badge['person']}")
    assert [(d, m, s) for _, d, m, s in checkins_of(kiosk_node.instance, session_id, badge["person"])] \
        == [("in", "qr", "kiosk")]

    wedge(page, badge["code"][:-6] + "AAAAAA")  # a forged signature
    expect(feedback).to_have_attribute("data-status", "bad")
    expect(headline).to_have_text("无效胸卡")
    expect(fill_in).to_be_hidden()

    wedge(page, badge["code"])   # another code came between: this is a scan again, not the same one held up
    expect(feedback).to_have_attribute("data-status", "warn")
    expect(headline).to_contain_text("已签到")
    assert len(checkins_of(kiosk_node.instance, session_id, badge["person"])) == 1

    lost = badge_book[3]  # reported lost: staff print a new badge, the old one is revoked
    staff = WebClient(kiosk_node.url)
    staff.login("staff")
    assert staff.post(f"/api/v1/people/{lost['person']}/badge").status_code == 201
    wedge(page, lost["code"])
    expect(feedback).to_have_attribute("data-status", "bad")
    expect(headline).to_contain_text("胸卡已挂失")

    page.get_by_text("签退", exact=True).click()
    wedge(page, badge["code"])
    expect(headline).to_have_text("签退成功")
    assert [d for _, d, _, _ in checkins_of(kiosk_node.instance, session_id, badge["person"])] == ["in", "out"]


def test_manual_search_checks_in_without_a_badge(open_context, kiosk_node, badge_book):
    page = open_context().new_page()
    sign_in(page, kiosk_node.url, "trainer")
    session_id = todays_session(kiosk_node.instance)
    open_kiosk(page, kiosk_node.url, session_id)
    person = badge_book[2]["person"]
    name = person_name(kiosk_node.instance, person)

    wedge(page, name)
    page.locator("#search-list button.person", has_text=name).first.click()
    expect(page.locator("#feedback")).to_have_attribute("data-status", "ok")
    assert [(d, m) for _, d, m, _ in checkins_of(kiosk_node.instance, session_id, person)] == [("in", "manual")]


def test_an_unknown_person_is_registered_as_a_walk_in_and_checked_in(open_context, kiosk_node):
    page = open_context().new_page()
    sign_in(page, kiosk_node.url, "trainer")
    session_id = todays_session(kiosk_node.instance)
    open_kiosk(page, kiosk_node.url, session_id)

    wedge(page, "欧阳新来")
    expect(page.locator("#search-list")).to_contain_text("没有找到此人")
    page.click("#walkin-open")
    expect(page.locator("#walkin input[name=name]")).to_have_value("欧阳新来")
    page.fill("#walkin input[name=phone]", "13912345678")
    page.click("#walkin button[type=submit]")
    expect(page.locator("#feedback")).to_have_attribute("data-status", "ok")
    expect(page.locator("#fb-detail")).to_contain_text("欧阳新来")
    person = db_rows(kiosk_node.instance, "SELECT id FROM people WHERE name = ?", ["欧阳新来"])[0][0]
    assert [(d, m) for _, d, m, _ in checkins_of(kiosk_node.instance, session_id, person)] == [("in", "walk-in")]
