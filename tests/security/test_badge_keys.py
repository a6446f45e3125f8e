"""Badge keys are certified per town (decision 0065): a stolen laptop's key signs badges for its
own town's people and the people it registered, not for the whole city.

A hub and two enrolled laptops, A (张村镇) and B (羊亭镇), each its own process; scans reach B's
server from a phone station, as at a venue.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldsync.records import badges, checkins, people, sessions, stations
from fieldsync.store import clock
from fieldsync.sync import entities, hublog
from tests.security.test_badges import Station, signed, stored_checkins
from tests.sync.conftest import TOWN_A, TOWN_B


@pytest.fixture
def city(cluster):
    """Laptops A and B enrolled (A first), B synced: the hub has B's people, B has A's key."""
    a = cluster.add_node(TOWN_A, name="a")
    b = cluster.add_node(TOWN_B, name="b")
    b.sync()
    return cluster, a, b


def open_venue(node) -> tuple[Station, str]:
    """Start the laptop's server with a session today and a phone station scanning for it."""
    session = sessions.create(node.store, {"kind": "training", "title": "徽章钥匙", "town": node.town,
                                           "starts_at": clock.wall().replace(microsecond=0)})
    _, token = stations.create(node.store, "门口")
    node.serve()
    return Station(node.server.url, token), session["id"]


def resident(node) -> dict:
    """A person the laptop registered for its own town."""
    return node.store.query_one("SELECT * FROM people WHERE origin = ? AND town = ? ORDER BY id LIMIT 1",
                                [node.store.node_id, node.town])


def badge_of(private: Ed25519PrivateKey, key_id: int, person: dict) -> str:
    return signed(private, person["id"], key_id, int(person["badge_generation"]))


def scan(node, station: Station, session_id: str, code: str) -> dict:
    before = stored_checkins(node.instance / "fieldsync.db")
    answer = station.scan(session_id, code)
    assert answer.status_code in (200, 201), answer.text
    body = answer.json()
    assert stored_checkins(node.instance / "fieldsync.db") == before + body["recorded"]
    return body


def outcome(body: dict) -> tuple[str, str]:
    return body["status"], body["reason"]


def test_a_badge_for_a_b_person_signed_with_a_key_is_refused_on_b(city):
    _, a, b = city
    a_key_id, a_private = badges.signing_key(a.store)
    neighbour = resident(b)
    forged = badge_of(a_private, a_key_id, neighbour)
    genuine = badges.issue(b.store, neighbour)
    station, session_id = open_venue(b)
    assert outcome(scan(b, station, session_id, forged)) == ("invalid", "key_not_for_town")
    assert outcome(scan(b, station, session_id, genuine)) == ("ok", "")
    assert b.query("SELECT town FROM badge_keys WHERE key_id = ?", [a_key_id]) == [{"town": TOWN_A}], \
        "B holds A's key, certified for A's town"


def test_a_walk_in_badge_printed_at_a_verifies_where_the_person_lives(city):
    _, a, b = city
    walk_in = people.register(a.store, {"name": "过路客", "town": TOWN_B}, actor="trainer")
    printed_at_a = badges.issue(a.store, walk_in)
    # A walk-in: registered and checked in at A's own session (decision 0050 lets A create them).
    at_a = sessions.create(a.store, {"kind": "training", "title": "邻镇来客", "town": a.town,
                                     "starts_at": clock.wall().replace(microsecond=0)})
    checkins.check_in(a.store, session_id=at_a["id"], person_id=walk_in["id"], method="walk-in")
    assert not a.sync()["rejected"]
    b.sync()
    assert b.query("SELECT origin FROM people WHERE id = ?", [walk_in["id"]]) == [{"origin": a.store.node_id}]
    a_key_id, a_private = badges.signing_key(a.store)
    not_theirs = badge_of(a_private, a_key_id, resident(b))   # a B person that A did not register
    station, session_id = open_venue(b)
    answer = scan(b, station, session_id, printed_at_a)
    assert outcome(answer) == ("ok", "") and answer["person"]["name"] == "过路客"
    assert outcome(scan(b, station, session_id, not_theirs)) == ("invalid", "key_not_for_town")


def test_the_hubs_key_vouches_everywhere_and_a_look_alike_does_not(city):
    cluster, a, b = city
    neighbour, local = resident(b), resident(a)
    impostor = Ed25519PrivateKey.generate()
    with cluster.hub_store() as hub:
        hub_key_id, _ = badges.signing_key(hub)
        for_b, for_a = badges.issue(hub, neighbour), badges.issue(hub, local)
        hub_node = hub.node_id
        # A key that calls itself the hub's (same owner), but is not the key the laptops learned.
        hub.write(lambda db: db["badge_keys"].insert({
            "key_id": 4243, "public_key": badges.public_b64(impostor), "owner": hub_node,
            "created_at": "2026-01-01T00:00:00Z"}))
    a.sync()
    b.sync()
    station, session_id = open_venue(b)
    assert outcome(scan(b, station, session_id, for_b)) == ("ok", "")
    assert outcome(scan(b, station, session_id, badge_of(impostor, 4243, neighbour))) == \
        ("invalid", "uncertified_key")
    a_station, a_session = open_venue(a)
    assert outcome(scan(a, a_station, a_session, for_a)) == ("ok", "")
    assert hub_key_id >= 0x8000


def test_a_key_with_a_forged_or_borrowed_certificate_is_refused(city):
    cluster, _, b = city
    neighbour = resident(b)
    attacker, fake_hub = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    mine = badges.public_b64(attacker)
    origins = badges.canonical_origins([b.store.node_id])
    b_key_id = badges.signing_key(b.store)[0]
    with cluster.hub_store() as hub:
        real = hub.query_one("SELECT certificate FROM badge_keys WHERE key_id = ?", [b_key_id])["certificate"]
        forged = {"key_id": 4242, "public_key": mine, "owner": None, "town": TOWN_B, "origins": origins,
                  "certificate": badges.certify(fake_hub, 4242, mine, TOWN_B, origins),
                  "created_at": "2026-01-01T00:00:00Z"}
        borrowed = {**forged, "key_id": 4244, "certificate": real}   # B's genuine certificate, on another key

        def plant(db):
            for row in (forged, borrowed):
                db["badge_keys"].insert(row)
                hublog.publish(db, entities.get("badge_keys"), row["key_id"])

        hub.write(plant)
    b.sync()
    assert {r["key_id"] for r in b.query("SELECT key_id FROM badge_keys")} >= {4242, 4244}
    station, session_id = open_venue(b)
    for key_id in (4242, 4244):
        answer = scan(b, station, session_id, badge_of(attacker, key_id, neighbour))
        assert outcome(answer) == ("invalid", "uncertified_key"), key_id


def test_keys_enrolled_before_certificates_get_them_and_the_hub_key_at_the_next_pull(city):
    cluster, a, b = city
    with cluster.hub_store() as hub:   # as the hub and B were before this change
        hub.write(lambda db: db.execute("UPDATE badge_keys SET town = NULL, origins = NULL, certificate = NULL"))
    b.store.write(lambda db: db.execute("UPDATE badge_keys SET town = NULL, origins = NULL, certificate = NULL"))
    b.store.write(lambda db: db.execute("DELETE FROM meta WHERE key = ?", [badges.HUB_KEY_META]))
    a_key_id, a_private = badges.signing_key(a.store)
    neighbour = resident(b)
    forged = badge_of(a_private, a_key_id, neighbour)
    genuine = badges.issue(b.store, neighbour)
    b_key_id = badges.signing_key(b.store)[0]
    station, session_id = open_venue(b)
    assert outcome(scan(b, station, session_id, forged)) == ("invalid", "uncertified_key")
    assert outcome(scan(b, station, session_id, genuine)) == ("ok", "")   # its own key, certificate or not
    b.sync()
    assert b.query("SELECT value FROM meta WHERE key = ?", [badges.HUB_KEY_META])
    assert outcome(scan(b, station, session_id, forged)) == ("invalid", "key_not_for_town")  # now certified
    certified = cluster.hub_query("SELECT key_id FROM badge_keys WHERE certificate IS NOT NULL")
    assert {r["key_id"] for r in certified} >= {a_key_id, b_key_id}
