"""Property: whatever a hostile town laptop pushes about other towns' records, town B's laptops pull
the same and town B's reports say the same (issue 12, DESIGN §8).

The world is real: a hub process with town A's and town B's laptops synced into it. Then, for
each example, a copy of the hub's SQLite file takes a batch forged with A's identity through the
hub's own receive() (the push and bundle path), and the quarantine is retried as the hub does at
every merge. Town B's pull (the hub log read for B, from the start) and B's report figures
(statistics, coverage, KPIs, volunteer hours) must not move, and the batch is still acknowledged.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldsync.parts import open_store
from fieldsync.reports import registry, rollup, units
from fieldsync.store import Store, clock, new_id
from fieldsync.sync import hublog
from fieldsync.sync.downstream import merge, policy, receive
from tests.backends import copy_instance
from tests.fault.support import soak_only
from tests.sync.conftest import TOWN_A, TOWN_B
from tests.sync.forger import Forger

REPORTS = ("statistics", "coverage", "kpi", "volunteer-hours")


@dataclass
class World:
    hub: Path                    # the hub's instance folder (its server stopped)
    sender: dict                 # town A's laptop as receive() takes it
    origin: str
    b: dict[str, list[str]]      # town B's record ids at the hub, by table
    a_people: list[str]
    a_session: str
    elsewhere: str               # a third town
    form: tuple[str, int]
    years: list[int]
    before: tuple


def observe(store: Store, years: list[int]) -> tuple:
    """What town B's laptop would pull from scratch, and B's report figures."""
    rollup.current(store)
    db = store.db
    pulled, _, _ = hublog.read_page(db, TOWN_B, 0, 1_000_000)
    unit = units.resolve(db, TOWN_B)
    figures = {(name, year): [list(row) for row in registry.get(name).build(db, year=year, unit=unit).rows]
               for name in REPORTS for year in years}
    return pulled, figures


@pytest.fixture
def world(cluster, tmp_path) -> World:
    a, b = cluster.add_node(TOWN_A), cluster.add_node(TOWN_B)
    b.sync()
    a.sync()
    cluster.hub.stop()
    with cluster.hub_store() as hub:
        ids = {table: [r["id"] for r in hub.query(f"SELECT id FROM {table} WHERE {where} ORDER BY id LIMIT 8",
                                                  [TOWN_B])]
               for table, where in (("people", "town = ?"), ("sessions", "town = ?"),
                                    ("checkins", "session_id IN (SELECT id FROM sessions WHERE town = ?)"))}
        ids["submissions"] = [new_id()]
        years = sorted({int(r["y"]) for r in hub.query(
            "SELECT DISTINCT substr(starts_at, 1, 4) AS y FROM sessions WHERE town = ?", [TOWN_B])}
            | {clock.today().year})
        form = hub.query("SELECT id, version FROM forms ORDER BY ref LIMIT 1")[0]
        elsewhere = hub.query("SELECT code FROM places WHERE kind = 'town' AND code NOT IN (?, ?) LIMIT 1",
                              [TOWN_A, TOWN_B])[0]["code"]
        a_people = [r["id"] for r in hub.query("SELECT id FROM people WHERE town = ? LIMIT 4", [TOWN_A])]
        a_session = hub.query("SELECT id FROM sessions WHERE town = ? LIMIT 1", [TOWN_A])[0]["id"]
        before = observe(hub, years)
    assert all(ids.values()) and before[0]
    return World(cluster.hub.instance, {"id": a.node_id, "name": a.name, "origin": a.store.node_id}, a.store.node_id,
                 ids, a_people, a_session, elsewhere, (form["id"], form["version"]), years, before)


# -- what a hostile laptop sends ----------------------------------------------------------------------
OPS = ("edit", "create_as", "move_in", "move_away", "restore", "new_person", "new_session", "delete",
       "revoke", "checkin", "submission", "loose_submission")


def forge(world: World, forger: Forger, op: str, pick: int) -> int:
    """Add one hostile change to the batch; returns how many legitimate ones came with it."""
    b = world.b

    def one(table: str) -> str:
        return b[table][pick % len(b[table])]

    person, session = one("people"), one("sessions")
    if op == "edit":
        if pick % 2:
            forger.upsert("people", person, {"phone": "13900000000", "level": "national", "status": "cancelled"})
        else:
            forger.upsert("sessions", session, {"title": "冒改", "status": "cancelled"})
    elif op == "create_as":
        forger.upsert("people", person, {"name": "冒名", "town": (TOWN_A, TOWN_B)[pick % 2], "level": "none",
                                         "status": "active", "badge_generation": 1}, action="register")
    elif op == "move_in":
        forger.upsert(("people", "sessions")[pick % 2], (person, session)[pick % 2], {"town": TOWN_A})
    elif op == "move_away":
        forger.upsert("people", person, {"town": world.elsewhere, "village": None})
    elif op == "restore":
        forger.upsert("people", person, {"name": "复活", "town": TOWN_B}, action="restore")
    elif op == "new_person":
        newcomer = new_id()
        forger.upsert("people", newcomer, {"name": "假人", "town": (TOWN_B, world.elsewhere)[pick % 2],
                                           "level": "national", "status": "active", "badge_generation": 1},
                      action="register")
        if pick % 3 == 0:   # checked in at A's own session, as a walk-in: the scan goes in, not the rank
            forger.checkin(world.a_session, newcomer)
            return 1
    elif op == "new_session":
        forger.upsert("sessions", new_id(), {"title": "假培训", "kind": "training", "mode": "offline",
                                             "town": TOWN_B, "status": "active"}, action="create")
    elif op == "delete":
        table = ("people", "sessions", "checkins", "submissions")[pick % 4]
        forger.delete(table, one(table))
    elif op == "revoke":
        forger.revoke(person)
    elif op == "checkin":
        forger.checkin(session, (person, world.a_people[pick % len(world.a_people)])[pick % 2])
    elif op == "submission":
        forger.submission(world.form, session, (person, None)[pick % 2])
    else:
        forger.submission(world.form, None, person)
    return 0


hostile_batches = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 63)), min_size=1, max_size=12)


def check_batch(world: World, tmp_path: Path, ops: list[tuple[str, int]]) -> None:
    copy = copy_instance(world.hub, tmp_path / f"hub-{new_id()}") / "fieldsync.db"
    forger = Forger(world.origin)
    legit = sum(forge(world, forger, op, pick) for op, pick in ops)
    forger.upsert("people", world.a_people[0], {"specialty": "八段锦"})   # and one of its own, which goes
    body = forger.body()
    try:
        with open_store(copy) as hub:
            ack = receive.receive(hub, world.sender, body)
            assert ack["acked_to"] == body["to_seq"]
            assert len(ack["rejected"]) == body["to_seq"] - 1 - legit, ack["rejected"]
            codes = {r["code"] for r in hub.query("SELECT code FROM quarantine")}
            assert codes <= set(policy.CODES), codes
            assert hub.query("SELECT 1 FROM sync_audit WHERE action LIKE 'refused_%' AND target = ?",
                             [world.sender["id"]])
            # The hub retries its quarantine at every merge: refused changes stay refused.
            hub.write(lambda db: db.execute("UPDATE quarantine SET last_tried_at = '2000-01-01T00:00:00.000Z'"))
            assert hub.write(lambda db: merge.retry_quarantine(db, hub, merge.MergeResult(), limit=100)) == 0
            assert observe(hub, world.years) == world.before
            assert hub.query("SELECT specialty FROM people WHERE id = ?", [world.a_people[0]]) == \
                [{"specialty": "八段锦"}]
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)


def property_test(examples: int):
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(ops=hostile_batches)
    def run(world, tmp_path, ops):
        check_batch(world, tmp_path, ops)

    return run


test_a_hostile_laptop_never_changes_what_another_town_pulls_or_reports = property_test(25)
# The long variant: FIELDSYNC_SOAK=1 make soak.
test_soak_a_hostile_laptop_never_changes_what_another_town_pulls_or_reports = \
    soak_only(pytest.mark.soak(property_test(400)))
