"""A phone on the Wi-Fi: joins by QR over HTTPS, scans with its camera, fills the session's form, no password;
revoked, it stops."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.e2e.pages import PHONE, checkins_of, db_rows, expect, sign_in, todays_session

pytestmark = pytest.mark.browser


def make_station(page, base_url: str, name: str, session_id: str) -> str:
    page.goto(base_url + "/kiosk/stations")
    page.fill("input[name=name]", name)
    page.select_option("select[name=session]", session_id)
    page.select_option("select[name=lifetime]", "4")   # not "until the session's end": today's ends at noon
    page.click("form[action$='/kiosk/stations'] button[type=submit]")
    return page.inner_text("#join-url")


def test_phone_joins_by_token_and_scans_with_the_camera(open_context, tls_node, badge_book):
    session_id = todays_session(tls_node.instance)
    staff = open_context(ignore_https_errors=True).new_page()
    sign_in(staff, tls_node.url, "staff")
    join_url = make_station(staff, tls_node.url, "门口手机1", session_id)
    assert join_url.startswith(tls_node.url + "/kiosk/join?token=")

    phone = open_context(viewport=PHONE, is_mobile=True, has_touch=True, ignore_https_errors=True).new_page()
    phone.goto(join_url)
    phone.wait_for_url(f"**/kiosk/{session_id}")
    expect(phone.locator(".station-name")).to_contain_text("门口手机1")
    (cookie,) = [c for c in phone.context.cookies() if c["name"] == "fieldsync_session"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"  # served over https only
    phone.wait_for_selector("#kiosk[data-ready='1']")
    phone.click("#camera-toggle")
    expect(phone.locator("#feedback")).to_have_attribute("data-status", "ok", timeout=15_000)
    person = badge_book[0]["person"]
    assert [(d, m, s) for _, d, m, s in checkins_of(tls_node.instance, session_id, person)] \
        == [("in", "qr", "门口手机1")]

    # The badge stays in front of the lens: read again only after the cool-down, and never recorded twice.
    time.sleep(4)
    attempts = db_rows(tls_node.instance, "SELECT result FROM scan_log WHERE person_id = ? AND station = ?",
                       [person, "门口手机1"])
    assert 1 <= len(attempts) <= 3, attempts  # ~8 frames a second would be 30 reads without it
    assert attempts[0] == ("ok",) and set(attempts[1:]) <= {("already",)}
    assert len(checkins_of(tls_node.instance, session_id, person)) == 1
    phone.click("#camera-toggle")

    # The session asks for the training assessment: the phone fills it, with its cookie and the page's CSRF token.
    expect(phone.locator("#fb-form")).to_be_visible()
    phone.click("#fb-form")
    phone.wait_for_url(f"**/kiosk/{session_id}/form/{person}")
    certificate = phone.locator("input[name=certificate_no]")
    expect(certificate).to_be_hidden()
    phone.check("input[name=result][value=pass]")
    phone.fill("input[name=theory_score]", "92")
    certificate.fill("SD26-0007")
    phone.click("form.fs-form button[type=submit]")
    expect(phone.locator(".feedback.ok")).to_be_visible()
    assert db_rows(tls_node.instance, "SELECT form_id, actor, json_extract(data, '$.certificate_no')"
                                      " FROM submissions WHERE person_id = ? AND session_id = ?",
                   [person, session_id]) == [("training_assessment", "门口手机1", "SD26-0007")]
    phone.click("a.button.primary")   # back to the kiosk, where the walk-in dialog links the walk-in form
    phone.wait_for_selector("#kiosk[data-ready='1']")
    assert phone.locator(f"#walkin a[href='/kiosk/{session_id}/walk-in']").count() == 1

    staff.goto(tls_node.url + "/kiosk/stations")
    staff.click("button.danger")
    token = join_url.split("token=", 1)[1]
    refused = requests.post(tls_node.url + "/api/v1/checkins", json={"session": session_id, "code": "FS1:X"},
                            headers={"Authorization": f"Bearer {token}"}, verify=str(tls_node.certificate),
                            timeout=10)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "bad_token"
    phone.reload()
    assert "/login" in phone.url


def test_plain_http_on_the_tls_port_is_sent_to_https(tls_node):
    answer = requests.get(tls_node.url.replace("https:", "http:") + "/kiosk/", allow_redirects=False, timeout=10)
    assert answer.status_code == 301
    assert answer.headers["Location"] == tls_node.url + "/kiosk/"


def test_an_expired_phone_says_so_and_keeps_what_it_scans(open_context, kiosk_node, badge_book):
    session_id = todays_session(kiosk_node.instance)
    staff = open_context().new_page()
    sign_in(staff, kiosk_node.url, "staff")
    staff.goto(kiosk_node.url + "/kiosk/stations")
    staff.fill("input[name=name]", "一小时手机")
    staff.select_option("select[name=session]", session_id)
    staff.select_option("select[name=lifetime]", "1")
    staff.click("form[action$='/kiosk/stations'] button[type=submit]")
    join_url = staff.inner_text("#join-url")

    phone = open_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(join_url)
    phone.wait_for_url(f"**/kiosk/{session_id}")
    phone.wait_for_selector("#kiosk[data-ready='1']")
    an_hour_and_more_ago = (datetime.now(UTC) - timedelta(minutes=61)).isoformat()
    with sqlite3.connect(kiosk_node.instance / "fieldsync.db") as conn:   # the hour staff chose passes
        conn.execute("UPDATE stations SET token_at = ? WHERE name = '一小时手机'", [an_hour_and_more_ago])
    # The page's own refresh of the attendee list hears it first.
    expect(phone.locator("#kiosk")).to_have_attribute("data-expired", "1", timeout=30_000)
    expect(phone.locator("#fb-headline")).to_have_text("此设备的签到授权已过期，请重新扫码加入")

    badge = badge_book[1]
    phone.fill("#scan-input", badge["code"])
    phone.press("#scan-input", "Enter")
    expect(phone.locator("#queue-count")).to_have_text("1")   # the scan happened: it waits on the phone
    expect(phone.locator("#fb-headline")).to_have_text("此设备的签到授权已过期，请重新扫码加入")
    assert checkins_of(kiosk_node.instance, session_id, badge["person"]) == []
