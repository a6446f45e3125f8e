"""The hub's sync pages (nodes, conflicts, quarantine) and the node's sync line on every page."""

from __future__ import annotations

import re

from fieldsync.records import badges, checkins, people
from fieldsync.store.outbox import record_change
from fieldsync.sync.upstream.scheduler import MAX_BACKOFF_SECONDS, next_delay
from tests.support import LiveServer, WebClient
from tests.sync.conftest import TOWN_A
from tests.sync.test_push import scan_everyone


def signed_in(url: str, who: str) -> WebClient:
    client = WebClient(url)
    assert client.login(who).ok
    return client


def test_nodes_page_adds_a_laptop_with_code_and_qr_shows_clocks_and_revokes(cluster):
    admin = signed_in(cluster.hub.url, "admin")
    admin.get("/hub/nodes")
    added = admin.form("/hub/nodes", {"town": TOWN_A, "name": "<b>温泉</b>办公室"})
    assert added.status_code == 201
    code = re.search(r'id="enrollment-code">([A-Z0-9-]+)<', added.text).group(1)
    assert "<svg" in added.text and f"fieldsync enroll {cluster.hub.url} {code}" in added.text
    assert "&lt;b&gt;温泉&lt;/b&gt;办公室" in added.text and "<b>温泉</b>" not in added.text
    bad = admin.form("/hub/nodes", {"town": "999999999999", "name": "温泉二号"})
    assert bad.status_code == 422 and 'value="温泉二号"' in bad.text      # the form comes back as typed
    assert "未知乡镇" in bad.text.split('name="town"')[1].split("</label>")[0]
    node = cluster.add_node(TOWN_A, name="slow-clock")
    node.store.hlc  # noqa: B018  (the laptop's clock is 10 minutes behind: the hub says so)
    with cluster.hub_store() as store:
        store.write(lambda db: db.execute("UPDATE nodes SET clock_skew_ms = -600000 WHERE id = ?", [node.node_id]))
    page = admin.get("/hub/nodes").text
    assert 'id="clock-warning"' in page and "slow-clock (慢 10分钟)" in page
    admin.form(f"/hub/nodes/{node.node_id}/revoke", {})
    assert cluster.hub_query("SELECT revoked_at FROM nodes WHERE id = ?", [node.node_id])[0]["revoked_at"]
    staff = signed_in(cluster.hub.url, "staff")
    assert staff.get("/hub/nodes").status_code == 200
    assert staff.form("/hub/nodes", {"town": TOWN_A, "name": "x"}).status_code == 403
    assert admin.http.post(cluster.hub.url + "/hub/nodes", data={"town": TOWN_A, "name": "x"}).status_code == 403


def test_concurrent_edits_land_in_conflicts_and_review_can_choose_the_other_value(cluster):
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_A)
    a.sync(), b.sync()
    person = a.query("SELECT id FROM people ORDER BY id LIMIT 1")[0]["id"]
    people.modify(a.store, person, {"specialty": "柔力球"}, actor="a")
    people.modify(b.store, person, {"specialty": "门球"}, actor="b")
    a.sync()
    assert b.sync()["result"].push.conflicts == 1
    staff = signed_in(cluster.hub.url, "staff")
    page = staff.get("/hub/conflicts").text
    conflict_id = re.search(r'data-conflict="(\d+)"', page).group(1)
    kept = cluster.hub_query("SELECT specialty FROM people WHERE id = ?", [person])[0]["specialty"]
    other = "柔力球" if kept == "门球" else "门球"
    assert staff.form(f"/hub/conflicts/{conflict_id}", {"choice": "use_other"}).ok
    assert cluster.hub_query("SELECT specialty FROM people WHERE id = ?", [person])[0]["specialty"] == other
    a.sync(), b.sync()
    assert {n.query("SELECT specialty FROM people WHERE id = ?", [person])[0]["specialty"] for n in (a, b)} == {other}
    page = staff.get("/hub/conflicts").text
    assert 'data-conflict="' not in page and "staff" in page.split('id="conflict-trail"')[1]
    assert staff.form(f"/hub/conflicts/{conflict_id}", {"choice": "keep"}).status_code == 409
    assert staff.form(f"/hub/conflicts/{conflict_id}", {"choice": "both"}).status_code == 422


def test_quarantine_retry_applies_once_the_hub_knows_more_and_dismiss_is_recorded(cluster):
    node = cluster.add_node(TOWN_A)
    hlc = node.store.hlc.now()
    stranger = {"fields": {"name": "新来的", "town": "371099100000", "level": "none", "status": "active",
                           "badge_generation": 1}, "hlcs": {}, "base": {}}
    stranger["hlcs"] = {k: hlc for k in stranger["fields"]}
    node.store.write(lambda db: record_change(db, "people", "01HZZZZZZZZZZZZZZZZZZZZZZZ", "upsert", hlc, stranger))
    node.store.write(lambda db: record_change(db, "people", "01HZZZZZZZZZZZZZZZZZZZZZZY", "upsert", hlc,
                                              {"fields": {"phone": "12"}, "hlcs": {"phone": hlc}}))
    # A walk-in from that town, checked in at this town's session: what lets a laptop register them.
    session = node.query("SELECT id FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]["id"]
    badge = badges.issue(node.store, {"id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "badge_generation": 1})
    assert checkins.check_in(node.store, session_id=session, code=badge).recorded
    assert len(node.sync()["rejected"]) == 2
    staff = signed_in(cluster.hub.url, "staff")
    page = staff.get("/hub/quarantine").text
    ids = re.findall(r'data-quarantine="(\d+)"', page)
    assert len(ids) == 2 and "此处的区划表中没有乡镇 371099100000" in page   # worded in the page's language
    unknown_town, bad_phone = sorted(ids)
    assert "failed" in staff.form(f"/hub/quarantine/{unknown_town}/retry", {}).url
    with cluster.hub_store() as store:        # the gazetteer learns the new town
        store.write(lambda db: db["places"].insert({"code": "371099100000", "name": "新镇", "kind": "town",
                                                    "parent": "371002"}))
        # Time passes: the next merge retries what waits in quarantine, by itself.
        store.write(lambda db: db.execute("UPDATE quarantine SET last_tried_at = '2000-01-01T00:00:00.000Z'"))
    scan_everyone(node, limit=1)
    node.sync()
    assert cluster.hub_query("SELECT name FROM people WHERE id = '01HZZZZZZZZZZZZZZZZZZZZZZZ'") == [{"name": "新来的"}]
    assert cluster.hub_query("SELECT resolved_by FROM quarantine WHERE id = ?", [unknown_town]) == \
        [{"resolved_by": "retry"}]
    assert "applied" not in staff.form(f"/hub/quarantine/{unknown_town}/retry", {}).url
    staff.form(f"/hub/quarantine/{bad_phone}/dismiss", {"note": "typo <script>"})
    page = staff.get("/hub/quarantine").text
    assert 'data-quarantine="' not in page and "typo &lt;script&gt;" in page


def test_double_scans_from_two_laptops_are_kept_and_flagged(cluster):
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_A)
    a.sync(), b.sync()
    session = a.query("SELECT id FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]["id"]
    person = a.query("SELECT id FROM people ORDER BY id LIMIT 1")[0]["id"]
    for laptop in (a, b):
        assert checkins.check_in(laptop.store, session_id=session, person_id=person, station=laptop.name).recorded
    a.sync(), b.sync()
    flags = cluster.hub_query("SELECT flags FROM checkins WHERE session_id = ? AND person_id = ?", [session, person])
    assert [f["flags"] for f in flags] == ["double", "double"]


def test_every_node_page_shows_the_sync_line(cluster):
    node = cluster.add_node(TOWN_A)
    node.close_store()
    server = node.serve()
    staff = server.staff
    line = re.search(r'class="syncbar (\w+)"[^>]*>([^<]+)<', staff.get("/sessions").text)
    assert line.group(1) == "ok" and "never" not in line.group(2) or "waiting" in line.group(2)
    assert staff.post("/api/v1/sync/run", timeout=120).ok   # the town's first sync: everything it holds
    line = re.search(r'class="syncbar (\w+)"[^>]*>([^<]+)<', staff.get("/people?lang=en").text)
    assert line.group(1) == "ok" and "0 records waiting" in line.group(2)
    cluster.hub.stop()
    failed = staff.post("/api/v1/sync/run")
    assert failed.status_code == 503 and failed.json()["error"]["code"] == "hub_unreachable"
    line = re.search(r'class="syncbar (\w+)"[^>]*>([^<]+)<', staff.get("/people?lang=en").text)
    assert line.group(1) == "error" and "could not be reached" in line.group(2)
    status = staff.get("/api/v1/sync/status").json()
    assert status["last_error"]["code"] == "hub_unreachable" and status["last_success"]
    trainer = WebClient(server.server.url)
    assert trainer.login("trainer").ok and trainer.post("/api/v1/sync/run").status_code == 403


def test_auto_sync_backs_off_when_the_hub_is_away():
    class Fixed:
        def uniform(self, low, high):
            return 1.0

    assert [next_delay(300, n, rng=Fixed()) for n in range(6)] == [300, 600, 1200, 2400, MAX_BACKOFF_SECONDS,
                                                                   MAX_BACKOFF_SECONDS]
    assert 270 <= next_delay(300, 0) <= 330


def test_a_node_server_syncs_by_itself(cluster):
    node = cluster.add_node(TOWN_A)
    node.close_store()
    server = LiveServer(node.instance, env={"FIELDSYNC_AUTO_SYNC_SECONDS": "1"}).start()
    try:
        import time

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not cluster.hub_query("SELECT 1 FROM checkins LIMIT 1"):
            time.sleep(0.2)
        assert cluster.hub_query("SELECT COUNT(*) AS n FROM checkins")[0]["n"] == \
            node.query("SELECT COUNT(*) AS n FROM checkins")[0]["n"]
    finally:
        server.stop()
