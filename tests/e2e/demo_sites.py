"""The demo city's hub as the page crawl and the screenshots show it: the city's year of records,
one enrolled town laptop, and one item in each review queue, so that no table is empty."""

from __future__ import annotations

import json
from pathlib import Path

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.store.outbox import utc_now
from fieldsync.sync import enrollment

LAPTOP_NAME = "张村镇文体站笔记本"


def build_hub(folder: Path) -> Path:
    config.save(folder, mode="hub")
    with open_store(folder / "fieldsync.db") as store:
        demo.load_hub(store)
        node, _code = enrollment.add_node(store, demo.DEMO_TOWN, LAPTOP_NAME, actor="admin")
        person = store.query_one("SELECT id, phone FROM people WHERE town = ? ORDER BY name LIMIT 1",
                                 [demo.DEMO_TOWN])
        store.write(lambda db: _waiting_for_review(db, node["id"], person))
    return folder


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
