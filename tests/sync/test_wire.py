"""Protocol 2's smaller batches (decision 0270): people the hub holds named by 8 characters of their ids,
checked by a digest. The hub still takes protocol 1's blocks."""

from __future__ import annotations

import base64
import functools
import gzip
import json
import random
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from fieldsync.errors import BadRequest, Conflict
from fieldsync.store import new_id
from fieldsync.sync import batches, column_checks, columnar, refs
from fieldsync.sync.protocol import CheckinWire
from tests.sync.conftest import TOWN_A
from tests.sync.test_blocks import as_columns, checkin
from tests.sync.test_push import client_of

TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", columnar.CROCKFORD)
CODECS = {"id": "ulid", "session_id": "dict", "person_id": "person", "badge_key": "dict",
          "badge_generation": "dict", "direction": "dict", "scanned_at": "time", "hlc": "hlc",
          "node": "dict", "station": "dict", "method": "dict", "flags": "dict"}


def ulid(ms: int, random_bytes: bytes) -> str:
    return columnar.ms_ulid_prefix(ms) + base64.b32encode(random_bytes).decode().translate(TO_CROCKFORD)


def hub_people(ids) -> Database:
    """The hub's people table as the resolver reads it (a real SQLite database)."""
    db = Database(memory=True)
    db.execute("CREATE TABLE people (id TEXT PRIMARY KEY)")
    db.execute(f"CREATE INDEX people_tail ON people({refs.TAIL_SQL})")
    db.conn.executemany("INSERT OR IGNORE INTO people (id) VALUES (?)", [(i,) for i in ids])
    return db


def round_trip(rows: list[tuple], *, protocol_2: bool, held: set[str] | None, at_hub) -> tuple[dict, list[tuple], dict]:
    block = columnar.encode(list(range(1, len(rows) + 1)), as_columns(rows), CODECS, held=held if protocol_2 else None)
    block = json.loads(json.dumps(block))               # as it travels
    seqs, decoded = columnar.decode(block, CODECS)
    decoded = columnar.resolve_refs(decoded, functools.partial(refs.resolve, hub_people(at_hub)))
    values, bad = column_checks.validate(seqs, decoded, CheckinWire())
    return block, list(zip(*values)), bad


ulids = st.builds(ulid, st.integers(0, 2 ** 48 - 1), st.binary(min_size=10, max_size=10))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=st.lists(ulids, min_size=1, max_size=12, unique=True), data=st.data())
def test_blocks_round_trip_in_both_protocols_with_any_people_named_by_reference(people, data):
    node, ms = new_id(), 1_732_500_000_000
    picks = data.draw(st.lists(st.sampled_from([*people, None]), min_size=1, max_size=40))
    rows = [checkin(node, session=new_id(), person=p, ms=ms + i * 733, direction="in" if i % 3 else "out")
            for i, p in enumerate(picks)]
    held = set(data.draw(st.lists(st.sampled_from(people), unique=True)))
    at_hub = {*held, *data.draw(st.lists(ulids, max_size=5))}     # and people of other towns
    named = {p for p in picks if p in held}
    # By reference: each person held that no other person of the batch shares 8 characters with;
    # refused when another person at the hub shares them (the laptop then sends whole ids).
    referred = {p for p in named if [refs.tail(q) for q in named].count(refs.tail(p)) == 1}
    ambiguous = any([refs.tail(q) for q in at_hub].count(refs.tail(p)) > 1 for p in referred)
    for protocol_2 in (True, False):
        if protocol_2 and ambiguous:
            with pytest.raises(Conflict):
                round_trip(rows, protocol_2=protocol_2, held=held, at_hub=at_hub)
            continue
        block, back, bad = round_trip(rows, protocol_2=protocol_2, held=held, at_hub=at_hub)
        assert back == rows and bad == {}
        assert (block["cols"]["person_id"]["c"] == "ref") == (protocol_2 and bool(referred))


def test_a_reference_the_hub_cannot_pin_down_is_refused_never_guessed():
    node, ms = new_id(), 1_732_500_000_000
    mine = new_id()
    twin = new_id()[:10] + mine[10:18] + new_id()[18:]       # another person, the same 8 characters
    rows = [checkin(node, session=new_id(), person=mine, ms=ms)]
    for at_hub in ([twin], [mine, twin], []):                 # the wrong one; both; nobody
        with pytest.raises(Conflict) as refused:
            round_trip(rows, protocol_2=True, held={mine}, at_hub=at_hub)
        assert refused.value.code == "refs_unresolved"
    # Two of the laptop's own people sharing the characters travel whole.
    block, back, _ = round_trip([*rows, checkin(node, session=new_id(), person=twin, ms=ms + 5)],
                                protocol_2=True, held={mine, twin}, at_hub=[mine, twin])
    assert block["cols"]["person_id"]["c"] == "dict" and [r[2] for r in back] == [mine, twin]
    block = columnar.encode([1], as_columns(rows), CODECS, held={mine})
    for bad in ({"x": "not-a-tail"}, {"x": "ABCD"}, {"h": 5}):
        with pytest.raises(BadRequest):
            columnar.decode({**block, "cols": {**block["cols"], "person_id": {**block["cols"]["person_id"], **bad}}},
                            CODECS)


def a_towns_days(count: int, *, seed: int) -> list[tuple]:
    """Sessions of 30-300 of a town's 3,000 people scanning in and (mostly) out, at four stations."""
    rng, node = random.Random(seed), new_id()
    people = [ulid(1_700_000_000_000 + rng.randrange(3 * 10 ** 10), rng.randbytes(10)) for _ in range(3000)]
    rows, ms = [], 1_732_500_000_000
    while len(rows) < count:
        session, attendees = ulid(ms, rng.randbytes(10)), rng.sample(people, rng.randint(30, 300))
        ms += rng.randint(3_600_000, 86_400_000)
        for person, direction in [(p, "in") for p in attendees] + [(p, "out") for p in attendees if rng.random() < .7]:
            ms += rng.randint(200, 4_000) if direction == "in" else rng.randint(10, 400)
            rows.append((ulid(ms, rng.randbytes(10)), session, person, 40001, 1, direction,
                         columnar.iso_ms(ms - rng.randint(0, 3)), f"{ms:016d}-00000-{node}", node,
                         f"station-{rng.randint(1, 4)}", "qr", ""))
    return rows[:count]


def test_a_check_in_takes_under_18_bytes_on_a_towns_days():
    rows = a_towns_days(10_000, seed=17)
    people = {row[2] for row in rows}

    def size(**how) -> float:
        return sum(len(gzip.compress(json.dumps(columnar.encode(
            list(range(at, at + 5000)), as_columns(rows[at:at + 5000]), CODECS, **how),
            separators=(",", ":")).encode(), 6)) for at in range(0, len(rows), 5000)) / len(rows)

    protocol_2, protocol_1 = size(held=people), size()
    assert protocol_2 <= 18.0 and protocol_1 >= 21.0


def push_body(node, rows: list[tuple], *, protocol: int, held: set[str] | None = None) -> dict:
    block = columnar.encode(list(range(1, len(rows) + 1)), as_columns(rows), CODECS,
                            held=held if protocol > 1 else None)
    body = {"protocol": protocol, "replica": secrets.token_hex(8), "hub_epoch": None, "acked_to": 0,
            "origin": node.store.node_id, "batch_id": new_id(), "from_seq": 1, "to_seq": len(rows),
            "changes": [], "blocks": {"checkins": block}}
    return client_of(node).push(gzip.compress(json.dumps(body).encode()))


def test_the_hub_takes_an_old_laptops_batch_and_a_new_ones_references(cluster):
    node = cluster.add_node(TOWN_A)
    node.sync()
    own = node.store.node_id
    session = node.store.query("SELECT id FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]["id"]
    people = [p["id"] for p in node.store.query("SELECT id FROM people ORDER BY id LIMIT 6")]
    old = [checkin(own, session=session, person=people[i % 6], ms=1_732_500_000_000 + i * 1000) for i in range(8)]
    new = [checkin(own, session=session, person=people[i % 6], ms=1_732_600_000_000 + i * 1000) for i in range(8)]
    assert push_body(node, old, protocol=1)["accepted"] == 8
    assert push_body(node, new, protocol=2, held=set(people))["accepted"] == 8
    stored = cluster.hub_query("SELECT id, person_id FROM checkins WHERE id IN (SELECT value FROM json_each(?))",
                               [json.dumps([r[0] for r in old + new])])
    assert {(s["id"], s["person_id"]) for s in stored} == {(r[0], r[2]) for r in old + new}


def test_a_person_the_hub_no_longer_holds_goes_again_by_whole_id(cluster):
    from fieldsync.records import checkins

    node = cluster.add_node(TOWN_A)
    node.sync()
    session = node.store.query("SELECT id FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]["id"]
    gone, kept = [p["id"] for p in node.store.query("SELECT id FROM people ORDER BY id LIMIT 2")]
    with cluster.hub_store() as hub:                    # a hub admin removed them meanwhile
        hub.write(lambda db: db.execute("DELETE FROM people WHERE id = ?", [gone]))
    for person in (gone, kept):
        checkins.check_in(node.store, session_id=session, person_id=person, station=node.name)
    acked = node.store.query("SELECT last_acked_seq FROM sync_state WHERE peer = 'hub'")[0]["last_acked_seq"]
    batch = batches.read_batch(node.store.db, acked, max_changes=50, max_bytes=10 ** 6, replica="0" * 16,
                               hub_acked=acked)
    assert batch.body["blocks"]["checkins"]["cols"]["person_id"]["c"] == "ref"   # the laptop thinks it is there
    result = node.sync()
    assert result["pushed"] == 2 and result["rejected"] == []
    stored = cluster.hub_query("SELECT person_id, flags FROM checkins WHERE session_id = ? AND person_id IN (?, ?)",
                               [session, gone, kept])
    assert sorted((s["person_id"], s["flags"]) for s in stored) == sorted([(gone, "unknown_person"), (kept, "")])
