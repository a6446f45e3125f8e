"""A phone on the venue's Wi-Fi holding a station token: it reaches its own session only, and its
token stops working by itself (at the session's end plus two hours, or the lifetime staff chose).
Real servers, real HTTP."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import requests

from fieldsync.parts import open_store
from fieldsync.records import checkins, people, sessions, stations
from fieldsync.server import create_app
from fieldsync.store import clock
from tests.security.routes import routes
from tests.server.test_stations import create_station
from tests.support import LiveServer, WebClient

EXPIRED_ZH = "此设备的签到授权已过期，请重新扫码加入"


def _phone(url: str, token: str) -> requests.Session:
    phone = requests.Session()
    phone.headers["Authorization"] = f"Bearer {token}"
    phone.base = url
    return phone


def _refused(answer: requests.Response, status: int, code: str) -> dict:
    assert answer.status_code == status, (answer.request.method, answer.request.url, answer.text)
    error = answer.json()["error"]
    assert error["code"] == code and error["message"] and "fields" in error
    return error


def test_a_station_tied_to_one_session_reaches_nothing_of_another(node_instance):
    today = clock.today().isoformat()
    with open_store(node_instance / "fieldsync.db") as store:
        alice, bob = people.search(store, limit=2)
        mine = sessions.create(store, {"kind": "training", "title": "上午场", "town": alice["town"],
                                       "starts_at": f"{today}T09:00"})["id"]
        theirs = sessions.create(store, {"kind": "theme", "title": "下午场", "town": alice["town"],
                                         "starts_at": f"{today}T14:00"})["id"]
        checkins.check_in(store, session_id=theirs, person_id=bob["id"], station="laptop")
        _, token = stations.create(store, "只管上午", session_id=mine)
    app = create_app({"AUTO_SYNC_SECONDS": 0}, instance=node_instance)
    try:   # every route a station may call that names a session in its path
        scoped = [r for r in routes(app, {"session_id": theirs})
                  if "station" in r.kinds and theirs in r.path]
    finally:
        app.extensions["fieldsync.store"].close()
    assert {r.endpoint for r in scoped} >= {"api.attendees", "api.get_session", "kiosk.station"}
    with LiveServer(node_instance) as server:
        phone = _phone(server.url, token)
        for route in scoped:
            answer = phone.request(route.method, server.url + route.path, timeout=10,
                                   headers={"Accept": "application/json"})
            _refused(answer, 403, "station_session_forbidden")
            assert bob["name"] not in answer.text
        for path, body in (("/api/v1/checkins", {"session": theirs, "person": alice["id"]}),
                           ("/api/v1/submissions", {"session": theirs, "form": "activity_feedback",
                                                    "person": alice["id"], "answers": {}})):
            _refused(phone.post(server.url + path, json=body, timeout=10), 403, "station_session_forbidden")
        own = phone.get(f"{server.url}/api/v1/sessions/{mine}/attendees", timeout=10)
        assert own.status_code == 200 and own.json()["attendees"] == []
        assert phone.post(server.url + "/api/v1/checkins", json={"session": mine, "person": alice["id"]},
                          timeout=10).status_code == 201
    with sqlite3.connect(node_instance / "fieldsync.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM checkins WHERE session_id = ? AND person_id = ?",
                            [theirs, alice["id"]]).fetchone()[0] == 0


def test_an_expired_station_token_is_refused_with_a_sentence_the_phone_shows(node_instance, live_node, live_staff):
    yesterday = clock.wall() - timedelta(days=1)
    with open_store(node_instance / "fieldsync.db") as store:
        alice = people.search(store, limit=1)[0]
        over = sessions.create(store, {"kind": "training", "title": "昨天的培训", "town": alice["town"],
                                       "starts_at": yesterday.replace(hour=9, minute=0, second=0, microsecond=0),
                                       "ends_at": yesterday.replace(hour=11, minute=0, second=0, microsecond=0)})
        running = sessions.create(store, {"kind": "training", "title": "今天的培训", "town": alice["town"],
                                          "starts_at": clock.wall().replace(second=0, microsecond=0)})
    _, after_its_session = stations.create(open_store(node_instance / "fieldsync.db"), "昨天的手机",
                                           session_id=over["id"])
    join_url, short_id = create_station(live_staff, "一小时手机", running["id"], lifetime="1")
    short_token = join_url.split("token=", 1)[1]
    join_url, _ = create_station(live_staff, "今天的手机", running["id"])
    scan = {"session": running["id"], "person": alice["id"]}
    assert _phone(live_node.url, join_url.split("token=", 1)[1]).post(
        live_node.url + "/api/v1/checkins", json=scan, timeout=10).status_code == 201
    _assert_expired(live_node.url, after_its_session, over["id"], alice["id"])
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    with sqlite3.connect(node_instance / "fieldsync.db") as conn:   # the hour staff chose has passed
        conn.execute("UPDATE stations SET token_at = ? WHERE id = ?", [two_hours_ago, short_id])
    _assert_expired(live_node.url, short_token, running["id"], alice["id"])
    listed = WebClient.get(live_staff, "/kiosk/stations").text
    assert listed.count("已过期") >= 2


def _assert_expired(url: str, token: str, session_id: str, person_id: str) -> None:
    """Scans, reads and joining again all answer 401 station_expired, in the phone's language."""
    phone = _phone(url, token)
    answer = phone.post(url + "/api/v1/checkins", json={"session": session_id, "person": person_id}, timeout=10)
    assert _refused(answer, 401, "station_expired")["message"] == EXPIRED_ZH
    english = phone.get(f"{url}/api/v1/sessions/{session_id}", headers={"Accept-Language": "en"}, timeout=10)
    assert "expired" in _refused(english, 401, "station_expired")["message"]
    joined_again = requests.get(f"{url}/kiosk/join", params={"token": token}, timeout=10)
    assert joined_again.status_code == 401 and EXPIRED_ZH in joined_again.text
