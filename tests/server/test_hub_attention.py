"""The hub dashboard's "needs attention" strip, in process, against what the hub's database holds."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from fieldsync.parts import open_store
from fieldsync.store import Store
from fieldsync.sync import enrollment
from tests.backends import copy_instance
from tests.reports import fixture
from tests.support import AppClient, in_process

NOW = datetime.now(UTC)


def ago(**delta) -> str:
    return (NOW - timedelta(**delta)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# name: (enrolled_at, last_seen, revoked_at); quiet means enrolled, not revoked, nothing for 3 days
LAPTOPS = {
    "synced an hour ago": (ago(days=40), ago(hours=1), None),
    "synced 2 days 23 hours ago": (ago(days=40), ago(days=2, hours=23), None),
    "synced 4 days ago": (ago(days=40), ago(days=4), None),                 # quiet
    "enrolled 5 days ago, never synced": (ago(days=5), None, None),        # quiet
    "enrolled yesterday, never synced": (ago(days=1), None, None),
    "revoked, silent for weeks": (ago(days=40), ago(days=20), ago(days=19)),
    "code given, not enrolled": (None, None, None),
}


def seed(store: Store) -> None:
    for name, (enrolled, seen, revoked) in LAPTOPS.items():
        node, _code = enrollment.add_node(store, fixture.T1, name, actor="test")
        store.write(lambda db, node=node, enrolled=enrolled, seen=seen, revoked=revoked: db.execute(
            "UPDATE nodes SET enrolled_at = ?, last_seen = ?, revoked_at = ? WHERE id = ?",
            [enrolled, seen, revoked, node["id"]]))

    def review_queues(db) -> None:
        for n, resolved in enumerate([None, None, None, ago(hours=2)]):
            db["conflicts"].insert({"entity": "people", "record_id": f"01HZZZZZZZZZZZZZZZZZZZZZZ{n}",
                                    "field": "phone", "kept_value": '"13800000001"',
                                    "lost_value": '"13800000002"', "created_at": ago(days=1),
                                    "resolved_at": resolved})
        for n, resolved in enumerate([None, None, ago(hours=1)]):
            db["quarantine"].insert({"entity": "people", "record_id": f"01HYYYYYYYYYYYYYYYYYYYYYY{n}",
                                     "change": "{}", "reason": "town 379999999999 is not in the gazetteer",
                                     "created_at": ago(days=1), "resolved_at": resolved})

    store.write(review_queues)


@pytest.fixture(scope="module")
def hub(city_template, tmp_path_factory):
    path = copy_instance(city_template[0], tmp_path_factory.mktemp("hub-attention") / "hub")
    with open_store(path / "fieldsync.db") as store:
        seed(store)
    with in_process(path, ids=city_template[1]) as site:
        yield site


@pytest.fixture(scope="module")
def staff(hub):
    return hub.signed_in("staff")


def strip(client: AppClient) -> dict[str, tuple[str, int]]:
    """Each link of the strip: where it goes and the number it shows."""
    page = client.get("/hub/?year=2024&lang=en")
    assert page.status_code == 200
    nav = re.search(r'<nav class="attention[^"]*" id="needs-attention".*?</nav>', page.text, re.DOTALL).group(0)
    return {key: (href, int(count)) for href, key, count in
            re.findall(r'<a href="([^"]+)" id="attention-(\w+)"[^>]*>(\d+) ', nav)}


def in_database(hub) -> dict[str, int]:
    with open_store(hub.instance / "fieldsync.db") as store:
        count = lambda sql: store.query_one(sql)["n"]
        quiet = [n["name"] for n in store.query("SELECT name, enrolled_at, last_seen, revoked_at FROM nodes")
                 if n["enrolled_at"] and not n["revoked_at"]
                 and datetime.fromisoformat(n["last_seen"] or n["enrolled_at"]) < NOW - timedelta(days=3)]
        assert sorted(quiet) == ["enrolled 5 days ago, never synced", "synced 4 days ago"]
        return {"conflicts": count("SELECT COUNT(*) AS n FROM conflicts WHERE resolved_at IS NULL"),
                "quarantine": count("SELECT COUNT(*) AS n FROM quarantine WHERE resolved_at IS NULL"),
                "doubles": count("SELECT COUNT(DISTINCT session_id || person_id) AS n FROM checkins"
                                 " WHERE flags LIKE '%double%'"),
                "nodes": len(quiet)}


def test_the_strip_counts_what_the_hub_holds_and_links_to_each_queue(hub, staff):
    shown = strip(staff)
    js365_href, unfiled = shown.pop("js365")       # the year's ended activities not yet filed on js365
    js365_href = html.unescape(js365_href)
    with open_store(hub.instance / "fieldsync.db") as store:
        assert unfiled == store.query_one("SELECT COUNT(*) AS n FROM sessions WHERE status = 'active'"
                                          " AND starts_at LIKE '2024-%' AND js365_filed_at IS NULL")["n"] > 0
    assert js365_href.startswith("/exports?") and "year=2024" in js365_href and staff.get(js365_href).status_code == 200
    assert {key: n for key, (_, n) in shown.items()} == in_database(hub) == \
        {"conflicts": 3, "quarantine": 2, "doubles": 0, "nodes": 2}
    assert {key: href for key, (href, _) in shown.items()} == \
        {"conflicts": "/hub/conflicts", "quarantine": "/hub/quarantine", "doubles": "/hub/double-scans",
         "nodes": "/hub/nodes"}
    for href, count in shown.values():
        assert staff.get(href).status_code == 200
    queue = staff.get("/hub/conflicts").text
    assert queue.count("data-conflict=") == shown["conflicts"][1]


def test_the_strip_follows_decisions_made_on_the_queue_pages(hub, staff):
    before = strip(staff)
    conflict = re.search(r'data-conflict="(\d+)"', staff.get("/hub/conflicts").text).group(1)
    assert staff.form(f"/hub/conflicts/{conflict}", {"choice": "keep"}).status_code == 200
    quarantined = re.search(r'data-quarantine="(\d+)"', staff.get("/hub/quarantine").text).group(1)
    assert staff.form(f"/hub/quarantine/{quarantined}/dismiss", {"note": "typo"}).status_code == 200
    after = strip(staff)
    assert after["conflicts"][1] == before["conflicts"][1] - 1 == in_database(hub)["conflicts"]
    assert after["quarantine"][1] == before["quarantine"][1] - 1 == in_database(hub)["quarantine"]
