"""Columnar blocks: every codec round-trips or falls back to a plain list, and the hub takes a block a
column at a time without losing the per-row answers (quarantine, duplicates, flags, origins)."""

from __future__ import annotations

import gzip
import json
import secrets
from collections import defaultdict

from fieldsync.records.checkins import CHECKIN_COLUMNS
from fieldsync.store import new_id
from fieldsync.sync import column_checks, columnar
from fieldsync.sync.protocol import CheckinWire
from tests.sync.conftest import TOWN_A
from tests.sync.test_push import client_of

CODECS = {"id": "ulid", "session_id": "dict", "person_id": "dict", "badge_key": "dict",
          "badge_generation": "dict", "direction": "dict", "scanned_at": "time", "hlc": "hlc",
          "node": "dict", "station": "dict", "method": "dict", "flags": "dict"}


def as_columns(rows: list[tuple]) -> dict[str, list]:
    return {name: [row[i] for row in rows] for i, name in enumerate(CHECKIN_COLUMNS)}


def checkin(node: str, *, session: str, person: str | None, ms: int, direction: str = "in",
            station: str | None = "station-1", generation: int | None = 1) -> tuple:
    checkin_id = columnar.ms_ulid_prefix(ms) + new_id()[10:]
    return (checkin_id, session, person, 40001, generation, direction, columnar.iso_ms(ms - 2),
            f"{ms:016d}-00000-{node}", node, station, "qr", "")


def round_trip(rows: list[tuple]) -> tuple[dict, list[tuple], dict]:
    block = columnar.encode(list(range(1, len(rows) + 1)), as_columns(rows), CODECS)
    block = json.loads(json.dumps(block))               # as it travels
    seqs, decoded = columnar.decode(block, CODECS)
    values, bad = column_checks.validate(seqs, decoded, CheckinWire())
    return block, list(zip(*values)), bad


def test_every_codec_round_trips_and_values_that_do_not_fit_travel_as_plain_lists():
    node, ms = new_id(), 1_732_500_000_000
    rows = [checkin(node, session=new_id(), person=new_id(), ms=ms + i * 997, direction="in" if i % 3 else "out",
                    station=None if i == 4 else f"station-{i % 4}", generation=None if i == 5 else 1)
            for i in range(40)]
    rows[7] = rows[7][:2] + (None,) + rows[7][3:]             # a walk-in without a person
    block, back, bad = round_trip(rows)
    assert back == rows and bad == {}
    assert {name: column["c"] for name, column in block["cols"].items()} == CODECS
    assert set(block["cols"]["scanned_at"]["t"]) == {-2}      # offsets from the id's own time

    odd = list(rows[:6])
    odd[0] = (odd[0][0].lower(),) + odd[0][1:]                                # not a ULID: ids as a list
    odd[1] = odd[1][:6] + ("1969-12-31T23:59:59.999Z",) + odd[1][7:]          # before 1970
    odd[2] = odd[2][:6] + ("2024-02-30T00:00:00.000Z",) + odd[2][7:]          # no such day
    odd[3] = odd[3][:7] + ("not a stamp",) + odd[3][8:]
    block, back, bad = round_trip(odd)
    assert [block["cols"][c]["c"] for c in ("id", "scanned_at", "hlc")] == ["raw", "raw", "raw"]
    assert back[1:3] == odd[1:3] and back[4:] == odd[4:]
    assert set(bad) == {0, 3} and "id" in bad[0] and "hlc" in bad[3]   # the hub's schema refuses these


def test_column_checks_name_the_rows_that_fail():
    node, ms = new_id(), 1_732_500_000_000
    rows = [checkin(node, session=new_id(), person=new_id(), ms=ms + i) for i in range(8)]
    rows[1] = rows[1][:5] + ("sideways",) + rows[1][6:]
    rows[2] = rows[2][:4] + (True,) + rows[2][5:]           # a boolean is not a generation
    rows[3] = rows[3][:4] + (70_000,) + rows[3][5:]
    rows[4] = rows[4][:2] + ("",) + rows[4][3:]
    block = columnar.encode(list(range(1, 9)), as_columns(rows), CODECS)
    block["cols"]["id"]["r"] = block["cols"]["id"]["r"][:80] + "UUUUIIIIOOOOLLLL" + block["cols"]["id"]["r"][96:]
    block["cols"]["scanned_at"]["t"][6] = -10 ** 15
    block["cols"]["hlc"]["k"][7] = 1.5
    seqs, decoded = columnar.decode(json.loads(json.dumps(block)), CODECS)
    values, bad = column_checks.validate(seqs, decoded, CheckinWire())
    assert sorted(bad) == [1, 2, 3, 4, 5, 6, 7]
    assert [bad[i].split(":")[0] for i in sorted(bad)] == ["direction", "badge_generation", "badge_generation",
                                                          "person_id", "id", "scanned_at", "hlc"]
    assert [column[0] for column in values] == list(rows[0])


def push_block(node, rows: list[tuple], *, replica: str, from_seq: int = 1) -> dict:
    body = {"protocol": 1, "replica": replica, "hub_epoch": None, "acked_to": 0, "origin": node.store.node_id,
            "batch_id": new_id(), "from_seq": from_seq, "to_seq": from_seq + len(rows) - 1, "changes": [],
            "blocks": {"checkins": columnar.encode(list(range(from_seq, from_seq + len(rows))), as_columns(rows),
                                                   CODECS)}}
    return client_of(node).push(gzip.compress(json.dumps(body).encode()))


def test_the_hub_takes_a_block_whole_and_answers_for_each_row(cluster):
    node = cluster.add_node(TOWN_A)
    node.sync()
    own = node.store.node_id
    session = node.store.query("SELECT id FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]["id"]
    people = [p["id"] for p in node.store.query("SELECT id FROM people ORDER BY id LIMIT 6")]
    ms = 1_732_500_000_000
    rows = [checkin(own, session=session, person=people[i % 6], ms=ms + i * 1000,
                    direction="in" if i < 6 else "out") for i in range(12)]
    replica = secrets.token_hex(8)
    first = push_block(node, rows[:4], replica=replica)
    assert (first["accepted"], first["duplicates"], first["rejected"]) == (4, 0, [])

    stranger = new_id()
    more = [*rows[4:], rows[1], rows[5],                                      # at the hub already; twice here
            checkin(own, session=session, person=stranger, ms=ms + 50_000),  # not at the hub (yet)
            checkin(stranger, session=session, person=people[0], ms=ms + 51_000),  # another laptop's scan
            (rows[0][0][:-1] + "U",) + rows[0][1:]]                           # not a ULID
    ack = push_block(node, more, replica=replica, from_seq=5)
    assert (ack["accepted"], ack["duplicates"], ack["flagged"]) == (9, 2, 1)
    assert sorted(r["seq"] for r in ack["rejected"]) == [16, 17]
    reasons = {r["seq"]: r["reason"] for r in ack["rejected"]}
    assert "another laptop" in reasons[16] and "id" in reasons[17]
    sent = json.dumps([row[0] for row in rows + more])
    stored = cluster.hub_query("SELECT id, flags FROM checkins WHERE id IN (SELECT value FROM json_each(?))", [sent])
    assert len(stored) == 13 and {s["id"] for s in stored} == {row[0] for row in rows + more[-3:-2]}
    assert [s["flags"] for s in stored if s["flags"]] == ["unknown_person"]
    quarantined = cluster.hub_query("SELECT seq, reason, change FROM quarantine WHERE seq IN (16, 17) ORDER BY seq")
    assert [q["seq"] for q in quarantined] == [16, 17]
    assert json.loads(quarantined[0]["change"])["row"]["node"] == stranger
    again = push_block(node, more, replica=replica, from_seq=5)
    assert again["replay"] and again["accepted"] == 9


def test_revoked_badges_and_scans_from_two_laptops_are_flagged_in_a_block(cluster):
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_A)
    a.sync(), b.sync()
    session = a.query("SELECT id FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]["id"]
    people = [p["id"] for p in a.query("SELECT id FROM people ORDER BY id LIMIT 3")]
    with cluster.hub_store() as hub:
        hub.write(lambda db: db.execute("INSERT INTO badge_revocations (person_id, min_generation, hlc, revoked_at)"
                                        " VALUES (?, 2, ?, '2025-01-01T00:00:00.000Z')",
                                        [people[2], hub.hlc.now()]))
    ms = 1_732_500_000_000
    mine = [checkin(a.store.node_id, session=session, person=p, ms=ms + i * 1000) for i, p in enumerate(people)]
    assert push_block(a, mine, replica=secrets.token_hex(8))["flagged"] == 1        # the revoked badge
    theirs = [checkin(b.store.node_id, session=session, person=people[0], ms=ms + 9000)]
    assert push_block(b, theirs, replica=secrets.token_hex(8))["flagged"] == 1      # scanned in on a too
    flags = defaultdict(list)
    for row in cluster.hub_query("SELECT person_id, flags FROM checkins WHERE session_id = ?"
                                 " AND id IN (SELECT value FROM json_each(?)) ORDER BY id",
                                 [session, json.dumps([r[0] for r in mine + theirs])]):
        flags[row["person_id"]].append(row["flags"])
    flags = {person: "|".join(each) for person, each in flags.items()}
    assert flags == {people[0]: "double|double", people[1]: "", people[2]: "revoked_badge"}
