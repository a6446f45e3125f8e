"""Badges at a live node: forged, altered, replayed and revoked ones are refused and record nothing."""

from __future__ import annotations

import base64
import sqlite3

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ulid import ULID

from fieldsync.parts import open_store
from fieldsync.records import badges, people, sessions, stations
from fieldsync.store import clock, new_id


def encode(payload: bytes, signature: bytes) -> str:
    return badges.PREFIX + base64.b32encode(payload + signature).decode().rstrip("=")


def signed(private: Ed25519PrivateKey, person_id: str, key_id: int, generation: int) -> str:
    payload = ULID.from_str(person_id).bytes + key_id.to_bytes(2, "big") + generation.to_bytes(2, "big")
    return encode(payload, private.sign(badges.PREFIX.encode() + payload))


def parts(code: str) -> tuple[bytes, bytes]:
    return badges.parse(code)


@pytest.fixture
def scene(node_instance):
    """Two people with badges, the node's issuer key, a session, and a station token — before the server starts."""
    with open_store(node_instance / "fieldsync.db") as store:
        alice, bob = people.search(store, limit=2)
        key_id, private = badges.signing_key(store)
        today = clock.today().isoformat()   # a station tied to a session expires after its day
        session = sessions.create(store, {"kind": "training", "title": "徽章测试",
                                          "starts_at": f"{today}T09:00:00", "town": alice["town"]})
        other = sessions.create(store, {"kind": "theme", "title": "另一场",
                                        "starts_at": f"{today}T14:00:00", "town": alice["town"]})
        _, token = stations.create(store, "安检")
        _, tied_token = stations.create(store, "只管一场", session_id=session["id"])
    return {"alice": alice, "bob": bob, "key_id": key_id, "private": private, "session": session["id"],
            "other_session": other["id"], "token": token, "tied_token": tied_token,
            "db": node_instance / "fieldsync.db", "instance": node_instance}


class Station:
    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def scan(self, session_id: str, code: str, **extra) -> requests.Response:
        return self.http.post(self.base_url + "/api/v1/checkins", timeout=10,
                              json={"session": session_id, "code": code, **extra})


def stored_checkins(db_path) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]


def refused(station: Station, scene: dict, code: str, status: str, reason: str) -> None:
    before = stored_checkins(scene["db"])
    answer = station.scan(scene["session"], code)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["reason"], body["recorded"]) == (status, reason, False), body
    assert stored_checkins(scene["db"]) == before


def test_forged_and_altered_badges(scene, live_node):
    station = Station(live_node.url, scene["token"])
    alice, bob = scene["alice"]["id"], scene["bob"]["id"]
    genuine = signed(scene["private"], alice, scene["key_id"], 1)
    payload, signature = parts(genuine)
    attacker = Ed25519PrivateKey.generate()
    bob_bytes = ULID.from_str(bob).bytes
    cases = {
        "forged with our key id": (signed(attacker, alice, scene["key_id"], 1), "invalid", "bad_signature"),
        "signed by an unknown key": (signed(attacker, alice, 7, 1), "invalid", "unknown_key"),
        "person swapped": (encode(bob_bytes + payload[16:], signature), "invalid", "bad_signature"),
        "generation raised": (encode(payload[:18] + (9).to_bytes(2, "big"), signature), "invalid", "bad_signature"),
        "key id changed": (encode(payload[:16] + (scene["key_id"] ^ 1).to_bytes(2, "big") + payload[18:],
                                  signature), "invalid", "unknown_key"),
        "signature flipped": (encode(payload, bytes([signature[0] ^ 1]) + signature[1:]), "invalid", "bad_signature"),
        "truncated": (genuine[:-8], "invalid", "malformed"),
        "padded": (genuine + "AAAA", "invalid", "malformed"),
        "not base32": (badges.PREFIX + "1" * 134, "invalid", "malformed"),
        "not a badge": ("https://evil.example/?q=<script>", "unknown", "not_a_badge"),
    }
    for name, (code, status, reason) in cases.items():
        try:
            refused(station, scene, code, status, reason)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
    answer = station.scan(scene["session"], genuine)
    assert answer.status_code == 201 and answer.json()["status"] == "ok", "the genuine badge still works"


def test_replayed_badges_and_replayed_scans(scene, live_node):
    station = Station(live_node.url, scene["token"])
    alice = scene["alice"]["id"]
    old_card = signed(scene["private"], alice, scene["key_id"], 1)
    first = station.scan(scene["session"], old_card, id=new_id())
    assert first.status_code == 201
    # The same card scanned again is "already in", not a second record.
    again = station.scan(scene["session"], old_card)
    assert again.json()["status"] == "already" and again.json()["recorded"] is False
    # The same request sent again (same id) answers as the first time, even with another badge in it.
    replayed = station.scan(scene["session"], signed(scene["private"], scene["bob"]["id"], scene["key_id"], 1),
                            id=first.json()["checkin"]["id"])
    assert replayed.status_code == 200 and replayed.json()["replay"] is True
    assert replayed.json()["person"]["id"] == alice
    # A lost card is revoked and reprinted: the old card is refused, the new one works.
    with open_store(scene["db"]) as store:
        new_card = badges.reissue(store, alice, reason="lost")
    refused(station, scene, old_card, "revoked", "revoked")
    out = station.scan(scene["session"], new_card, direction="out")
    assert out.status_code == 201 and out.json()["status"] == "ok"
    with sqlite3.connect(scene["db"]) as conn:
        rows = conn.execute("SELECT person_id, direction FROM checkins WHERE session_id = ?",
                            [scene["session"]]).fetchall()
    assert sorted(rows) == [(alice, "in"), (alice, "out")]


def test_badges_of_a_revoked_issuer_key_and_cancelled_people(scene, live_node):
    station = Station(live_node.url, scene["token"])
    with open_store(scene["db"]) as store:
        people.cancel(store, scene["bob"]["id"])
        store.write(lambda db: db.execute("UPDATE badge_keys SET revoked_at = '2025-01-01' WHERE key_id = ?",
                                          [scene["key_id"]]))
    refused(station, scene, signed(scene["private"], scene["alice"]["id"], scene["key_id"], 1),
            "revoked", "key_revoked")
    with open_store(scene["db"]) as store:
        store.write(lambda db: db.execute("UPDATE badge_keys SET revoked_at = NULL"))
    refused(station, scene, signed(scene["private"], scene["bob"]["id"], scene["key_id"], 1),
            "cancelled", "person_cancelled")


def test_a_station_tied_to_one_session_cannot_scan_for_another(scene, live_node):
    station = Station(live_node.url, scene["tied_token"])
    code = signed(scene["private"], scene["alice"]["id"], scene["key_id"], 1)
    assert station.scan(scene["session"], code).status_code == 201
    elsewhere = station.scan(scene["other_session"], code)
    assert elsewhere.status_code == 403, elsewhere.text
