"""The laptop's server goes away for a moment: scans wait in the browser and arrive exactly once."""

from __future__ import annotations

import pytest

from tests.e2e.pages import (
    checkins_of,
    db_rows,
    expect,
    open_kiosk,
    sign_in,
    todays_session,
    wedge,
)

pytestmark = pytest.mark.browser

QUEUED = "() => idb.openDB('fieldsync-kiosk', 1).then((db) => db.getAll('scans'))"
RESEND = """(items) => Promise.all(items.map((item) => fetch('/api/v1/checkins', {
  method: 'POST', credentials: 'same-origin', body: JSON.stringify(item),
  headers: {'Content-Type': 'application/json',
            'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}}).then((r) => r.status)))"""


def test_scans_made_while_the_server_is_down_are_stored_once_when_it_returns(open_context, kiosk_node, badge_book):
    page = open_context().new_page()
    sign_in(page, kiosk_node.url, "trainer")
    session_id = todays_session(kiosk_node.instance)
    open_kiosk(page, kiosk_node.url, session_id)
    scanned = badge_book[1:4]

    kiosk_node.kill()
    for badge in scanned:
        wedge(page, badge["code"])
        expect(page.locator("#feedback")).to_have_attribute("data-status", "warn")
    expect(page.locator("#queue-bar")).to_be_visible()
    expect(page.locator("#queue-count")).to_have_text("3")
    queued = page.evaluate(QUEUED)
    assert sorted(item["code"] for item in queued) == sorted(b["code"] for b in scanned)

    kiosk_node.start()  # same port, same database
    expect(page.locator("#queue-bar")).to_be_hidden(timeout=30_000)
    expect(page.locator("#fb-headline")).to_contain_text("3")
    for badge in scanned:
        assert len(checkins_of(kiosk_node.instance, session_id, badge["person"])) == 1

    # An answer lost on the way back makes the page send again: still one row each.
    assert page.evaluate(RESEND, queued) == [200, 200, 200]
    ids = [item["id"] for item in queued]
    stored = db_rows(kiosk_node.instance, f"SELECT id FROM checkins WHERE id IN ({','.join('?' * 3)})", ids)
    assert sorted(row[0] for row in stored) == sorted(ids)
    assert db_rows(kiosk_node.instance, "SELECT COUNT(*) FROM checkins WHERE session_id = ?", [session_id]) \
        == [(3,)]


def test_a_refused_scan_leaves_the_queue_and_says_why(open_context, kiosk_node):
    page = open_context().new_page()
    sign_in(page, kiosk_node.url, "trainer")
    open_kiosk(page, kiosk_node.url, todays_session(kiosk_node.instance))

    page.evaluate("() => fieldsyncKiosk.submitCheckin({id: fieldsyncKiosk.ulid(), session: 'NO-SUCH-SESSION',"
                  " code: 'FS1:ABC'})")
    expect(page.locator("#feedback")).to_have_attribute("data-status", "bad")
    expect(page.locator("#fb-headline")).to_have_text("未记录")
    assert page.evaluate(QUEUED) == []
    expect(page.locator("#queue-bar")).to_be_hidden()
