"""The demo city's hub as the page crawl and the screenshots show it: the city's year of records,
one enrolled town laptop, one item in each review queue (an instructor's correction request too),
and this year's 最美 nominees (one put forward to the province, one selected, one waiting; two
consent to be shown), so that no table and no card list is empty."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from fieldsync import demo
from fieldsync.parts import open_store
from fieldsync.records import awards, consents, people, profile_requests
from fieldsync.reports import hours, rollup, units
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.sync import enrollment
from tests.backends import save_hub_config

LAPTOP_NAME = "张村镇文体站笔记本"


def build_hub(folder: Path) -> Path:
    save_hub_config(folder)
    with open_store(folder / "fieldsync.db") as store:
        demo.load_hub(store)
        node, _code = enrollment.add_node(store, demo.DEMO_TOWN, LAPTOP_NAME, actor="admin")
        person = store.query_one("SELECT id, phone FROM people WHERE town = ? ORDER BY name LIMIT 1",
                                 [demo.DEMO_TOWN])
        store.write(lambda db: _waiting_for_review(db, node["id"], person))
        _nominees(store)
        profile_requests.ask(store, people.get(store, person["id"]), "specialty", "太极拳", "去年考了太极拳二级")
    return folder


def _nominees(store: Store) -> None:
    year = date.today().year
    rollup.current(store)
    chosen = hours.leaderboard(store.db, units.resolve(store.db), year, limit=3)   # the year's most hours
    for person, result, reason in zip(chosen, ("province", "selected", None), (
            "常年带领村民开展健步走和广场舞，全年服务不间断。", "组织老年人太极拳晨练。", "热心为社区居民服务。")):
        made = awards.nominate(store, person["id"], year, reason, actor="staff", unit=person["town"])
        if result:
            awards.decide(store, made["id"], result, "事迹突出" if result == "province" else None, actor="admin")
            consents.record(store, person["id"], "give", recorded_by="staff")


def _waiting_for_review(db, node_id: str, person: dict) -> None:
    """The laptop synced (its clock 7 minutes off), and left a conflict and a move request."""
    now = utc_now()
    db.execute("UPDATE nodes SET enrolled_at = ?, last_seen = ?, records_received = 1234, clock_skew_ms = 420000"
               " WHERE id = ?", [now, now, node_id])
    db["conflicts"].insert({"entity": "people", "record_id": person["id"], "field": "phone",
                            "kept_value": json.dumps(person["phone"]), "lost_value": '"13912345678"',
                            "node_id": node_id, "created_at": now})
    # worded as sync/downstream/policy.py refuses a change of town
    db["quarantine"].insert({"node_id": node_id, "entity": "people", "record_id": person["id"],
                             "change": json.dumps({"town": "371002101000"}), "code": "move_request",
                             "reason": f"moves people {person['id']} from {demo.DEMO_TOWN} to 371002101000: a move"
                                       " waits for an admin of the hub.", "created_at": now})
