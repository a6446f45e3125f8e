"""Check-ins over real HTTP against a real `fieldsync serve` process."""

from __future__ import annotations

import concurrent.futures

from fieldsync.parts import open_store
from fieldsync.records import badges, people, sessions
from fieldsync.store import new_id


def _roster(instance, n=20):
    with open_store(instance / "fieldsync.db") as store:
        training = next(s for s in sessions.listing(store) if s["kind"] == "training")
        codes = [badges.issue(store, p) for p in people.search(store, limit=n)]
    return training["id"], codes


def test_acknowledged_scans_survive_sigkill(node_instance, live_node, live_trainer):
    session_id, codes = _roster(node_instance, 30)

    def post(code):
        client_id = new_id()
        answer = live_trainer.post("/api/v1/checkins", json={"id": client_id, "session": session_id, "code": code})
        return client_id, answer

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        acked = [cid for cid, answer in pool.map(post, codes) if answer.status_code == 201]
    assert len(acked) == len(codes)
    live_node.kill()  # SIGKILL: no shutdown, no checkpoint
    with open_store(node_instance / "fieldsync.db") as store:
        stored = {r["id"] for r in store.query("SELECT id FROM checkins WHERE session_id = ?", [session_id])}
        outbox = {r["record_id"] for r in store.query("SELECT record_id FROM changes WHERE entity = 'checkins'")}
    assert set(acked) <= stored and set(acked) <= outbox
    live_node.start()
    again = live_trainer.post("/api/v1/checkins", json={"id": acked[0], "session": session_id, "code": codes[0]})
    assert again.status_code == 200 and again.json()["replay"] is True


def test_forged_badge_is_refused_over_http(node_instance, live_node, live_trainer):
    session_id, codes = _roster(node_instance, 1)
    forged = codes[0][:-2] + ("AA" if codes[0][-2:] != "AA" else "BB")
    answer = live_trainer.post("/api/v1/checkins", json={"session": session_id, "code": forged})
    assert answer.status_code == 200
    assert answer.json()["status"] == "invalid" and answer.json()["recorded"] is False


def test_checkin_needs_a_signed_in_account(live_node):
    import requests

    answer = requests.post(live_node.url + "/api/v1/checkins", json={"session": "x", "code": "FS1:A"}, timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "login_required"


def test_bad_checkin_bodies_get_specific_4xx(node_instance, live_node, live_trainer):
    session_id, _ = _roster(node_instance, 1)
    cases = [
        ({"data": "{oops", "headers": {"Content-Type": "application/json"}}, 400, "bad_json"),
        ({"data": "code=1", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415, "not_json"),
        ({"json": {"session": session_id}}, 422, "validation_failed"),
        ({"json": {"session": session_id, "code": "x", "id": "not-a-ulid"}}, 422, "validation_failed"),
        ({"json": {"session": "no-such-session", "code": "FS1:AAAA"}}, 404, "session_not_found"),
        ({"json": [1, 2]}, 400, "bad_request"),
        ({"data": b"\xff\xfe{}", "headers": {"Content-Type": "application/json"}}, 400, "bad_encoding"),
    ]
    for kwargs, status, code in cases:
        answer = live_trainer.post("/api/v1/checkins", **kwargs)
        assert answer.status_code == status, (kwargs, answer.text)
        assert answer.json()["error"]["code"] == code
        assert set(answer.json()["error"]) >= {"code", "message", "fields"}
