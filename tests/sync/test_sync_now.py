"""The "Sync now" button on node pages: a node process enrolled at a hub process, pressed over HTTP."""

from __future__ import annotations

import re
import time

from fieldsync.sync import enrollment
from tests.support import WebClient
from tests.sync.conftest import TOWN_A

FLASH = re.compile(r'<p class="flash (\w+)" role="status">([^<]+)</p>')


def press(client: WebClient, page: str = "/people", **fields):
    """Open the page in English, then press the button on it as a browser does (no redirect followed)."""
    assert 'action="/sync"' in client.get(page + "?lang=en").text
    return client.form("/sync", {"next": page, **fields}, allow_redirects=False, timeout=120)   # a whole sync, as Node.sync


def flashes(client: WebClient, page: str) -> list[tuple[str, str]]:
    answer = client.get(page)
    assert answer.status_code == 200
    return FLASH.findall(answer.text)


def test_the_button_pushes_the_laptops_records_to_the_hub(cluster):
    laptop = cluster.add_node(TOWN_A)
    scans = laptop.query("SELECT COUNT(*) AS n FROM checkins")[0]["n"]
    assert scans > 0 and cluster.hub_query("SELECT COUNT(*) AS n FROM checkins")[0]["n"] == 0
    staff = laptop.serve().staff
    waiting = staff.get("/api/v1/sync/status").json()["waiting"]

    answer = press(staff, "/sessions")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/sessions")
    [(state, message)] = flashes(staff, "/sessions")
    assert state == "ok", message
    assert re.fullmatch(rf"Synced: pushed {waiting:,} records in \d+ batch(?:es)?, pulled [\d,]+ changes, 0 rejected\.", message)
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM checkins")[0]["n"] == scans
    assert staff.get("/api/v1/sync/status").json()["waiting"] == 0

    press(staff, "/people")
    assert flashes(staff, "/people")[0][1].startswith("Synced: pushed 0 records")


def test_with_the_hub_stopped_the_page_says_so_quickly(cluster):
    staff = cluster.add_node(TOWN_A).serve().staff
    cluster.hub.stop()
    started = time.monotonic()
    answer = press(staff, "/people")
    assert answer.status_code == 303 and time.monotonic() - started < 10
    [(state, message)] = flashes(staff, "/people")
    assert state == "error" and message.startswith("Sync failed: the hub could not be reached")
    line = re.search(r'class="syncbar (\w+)"[^>]*>([^<]+)<', staff.get("/people").text)
    assert line.group(1) == "error" and "could not be reached" in line.group(2)


def test_a_revoked_laptop_is_told_so(cluster):
    laptop = cluster.add_node(TOWN_A)
    staff = laptop.serve().staff
    with cluster.hub_store() as hub:
        enrollment.revoke(hub, laptop.node_id, actor="test")
    assert press(staff).status_code == 303
    [(state, message)] = flashes(staff, "/people")
    assert state == "error" and "revoked this laptop" in message


def test_a_laptop_not_enrolled_is_told_so(live_node, live_staff):
    assert press(live_staff).status_code == 303
    [(state, message)] = flashes(live_staff, "/people")
    assert state == "error" and "not enrolled with a hub yet" in message


def test_only_staff_press_it_from_our_own_pages(live_node, live_staff, live_trainer):
    assert 'action="/sync"' not in live_trainer.get("/kiosk/?lang=en").text
    assert live_trainer.form("/sync", {}, allow_redirects=False).status_code == 403
    assert live_staff.http.post(live_node.url + "/sync", data={"next": "/people"}).status_code == 403   # no CSRF
    elsewhere = press(live_staff, "/people", next="//evil.example/")
    assert elsewhere.status_code == 303 and elsewhere.headers["Location"] in ("/", live_node.url + "/")
