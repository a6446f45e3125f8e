"""Volunteer hours: first in to last out, capped by the session's credited hours; and the
rollups that hold them staying equal to a rebuild from the raw check-ins whatever the order."""

from __future__ import annotations

import functools
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from itertools import groupby

import openpyxl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from fieldsync.parts import migrate
from fieldsync.records import hour_reviews, sessions
from fieldsync.reports import dashboard, hours, registry, rollup, units
from fieldsync.store import new_id
from tests.reports import fixture


def _minutes(db, ids, session, person) -> int:
    rows = [r for r in hours.history(db, ids[person]) if r["session_id"] == ids[session]]
    assert len(rows) == 1
    return rows[0]["minutes"]


@pytest.mark.parametrize("session, person, minutes", [
    ("s1", "p1", 120),   # 09:00-11:00
    ("s1", "p2", 180),   # no out: the 3 credited hours
    ("s1", "p3", 180),   # 4 h, capped at 3
    ("s2", "p8", 120),   # no out: the 2 credited hours
    ("s3", "p3", 30),
    ("s3", "p5", 120),   # 3 h 20, capped at 2
    ("s4", "p6", 150),   # in, out, in again, out: first in 08:00 to last out 10:30
])
def test_credited_minutes(city, ids, session, person, minutes):
    assert _minutes(city.db, ids, session, person) == minutes


def test_leaderboard_of_instructors_and_of_everyone(city):
    board = hours.leaderboard(city.db, units.resolve(city.db), 2024)
    assert [(p["name"], p["hours"], p["sessions"]) for p in board] == [
        ("陈静", 4.5, 2), ("王芳", 1.5, 1), ("王芳", 1.0, 1), ("张伟", 0.5, 1)]
    everyone = hours.leaderboard(city.db, units.resolve(city.db), 2024, instructors_only=False)
    assert [p["name"] for p in everyone] == ["陈静", "杨磊", "王芳", "王芳", "张伟"]
    assert hours.totals(city.db, units.resolve(city.db), 2024) == {"volunteers": 5, "hours": 10.0}
    assert hours.totals(city.db, units.resolve(city.db, fixture.C1), 2024) == {"volunteers": 4, "hours": 9.0}


def test_cancelled_session_earns_nothing_but_stays_in_history(city, ids):
    history = {r["session_id"]: r for r in hours.history(city.db, ids["p7"])}
    assert history[ids["s6"]]["minutes"] == 60 and not history[ids["s6"]]["volunteer"]
    assert all(p["name"] != "赵敏" for p in hours.leaderboard(city.db, units.resolve(city.db), 2024))


def test_changing_the_credited_hours_recounts(city, ids):
    sessions.modify(city, ids["s3"], {"hours": 1.0})
    assert _minutes(city.db, ids, "s3", "p5") == 60
    assert _minutes(city.db, ids, "s3", "p3") == 30
    assert hours.totals(city.db, units.resolve(city.db), 2024)["hours"] == 10.0 - 0.5 - 1.0   # p1 and p5 lose
    sessions.modify(city, ids["s3"], {"starts_at": "2025-05-01T08:30"})
    assert hours.totals(city.db, units.resolve(city.db), 2025) == {"volunteers": 3, "hours": 1.0 + 0.5 + 1.0}
    fixture.assert_rollups_equal_a_rebuild(city)


def test_checkins_before_their_session_and_an_out_before_the_in(city, ids):
    """Scans are facts that arrive in any order: the session comes later, a clock is off."""
    session_id = new_id()
    scans = [("in", "2024-07-01T01:00:00.000Z"), ("out", "2024-07-01T00:30:00.000Z")]
    city.write(lambda db: db["checkins"].insert_all(
        [{"id": new_id(), "session_id": session_id, "person_id": ids["p3"], "direction": direction,
          "scanned_at": at, "hlc": city.hlc.now(), "node": "elsewhere", "method": "qr"} for direction, at in scans]))
    assert [r["minutes"] for r in hours.history(city.db, ids["p3"]) if r["session_id"] == session_id] == [0]
    sessions.create(city, {**fixture.SESSIONS["s3"], "title": "迟到的活动", "hours": 2.0}, session_id=session_id)
    late = [r for r in hours.history(city.db, ids["p3"]) if r["session_id"] == session_id]
    assert late[0]["minutes"] == 120   # the out is before the in: no valid out, the credited hours
    assert hours.totals(city.db, units.resolve(city.db), 2024)["hours"] == 10.0   # not reviewed yet
    hour_reviews.review(city, session_id, "approve", actor="staff")
    assert hours.totals(city.db, units.resolve(city.db), 2024)["hours"] == 12.0
    fixture.assert_rollups_equal_a_rebuild(city)


def test_fixture_rollups_equal_a_rebuild(city):
    fixture.assert_rollups_equal_a_rebuild(city)


def test_bulk_load_leaves_the_same_rollups(city, ids):
    rows = [{"id": new_id(), "session_id": ids["s4"], "person_id": ids["p1"], "direction": "in",
             "scanned_at": "2024-08-08T00:05:00.000Z", "hlc": city.hlc.now(), "node": "bulk", "method": "qr"}]

    def load(db):
        with rollup.bulk_load(db):
            db["checkins"].insert_all(rows)

    city.write(load)
    assert _minutes(city.db, ids, "s4", "p1") == 150
    fixture.assert_rollups_equal_a_rebuild(city)


def test_attendance_sheet(city, ids):
    _, chunks = registry.prepare(city.db, "attendance", "xlsx", {"session": ids["s1"]})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    assert sheet["A1"].value == "张村镇社会体育指导员培训 签到表"
    assert sheet["A2"].value == "单位名称（盖章）：张村镇文体站"
    assert sheet["H2"].value == "举办时间：2024年3月10日"      # over the last three columns
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert rows == [
        [1, "王芳", "张村镇", "梨林村", "三级", "2024-03-10 09:00", "2024-03-10 11:00", 2, "138****0001", None],
        [2, "张伟", "张村镇", "泉埠村", "二级", "2024-03-10 09:00", "2024-03-10 13:00", 3, "138****0003", None],
        [3, "李强", "张村镇", "梨林村", "无", "2024-03-10 09:05", None, 3, "138****0002", None],
        [4, "黄娟", "石岛镇", "西山村", "无", "2024-03-10 09:10", "2024-03-10 10:10", 1, "138****0009", None],
    ]


def test_volunteer_hours_workbook(city):
    _, chunks = registry.prepare(city.db, "volunteer-hours", "xlsx", {"year": "2024"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    assert [[c.value for c in row][:7] for row in sheet.iter_rows(min_row=4)] == [
        [1, "陈静", "羊亭镇", "羊亭村", "一级", 2, 4.5], [2, "王芳", "张村镇", "梨林村", "三级", 1, 1.5],
        [3, "王芳", "石岛镇", "东山村", "二级", 1, 1], [4, "张伟", "张村镇", "泉埠村", "二级", 1, 0.5]]


def test_an_earlier_scan_arriving_late_moves_the_day(city, ids):
    def scan(direction, at):
        city.write(lambda db: db["checkins"].insert(
            {"id": new_id(), "session_id": ids["s3"], "person_id": ids["p9"], "direction": direction,
             "scanned_at": at, "hlc": city.hlc.now(), "node": "late", "method": "qr"}))

    def day_counts():
        return {r["day"]: r["people"] for r in dashboard.checkins_per_day(city.db, units.resolve(city.db), 2024)}

    scan("out", "2024-05-02T03:00:00.000Z")          # only an out so far: nobody counted yet
    assert day_counts()["2024-05-01"] == 3 and "2024-05-02" not in day_counts()
    scan("in", "2024-05-02T01:00:00.000Z")           # 2 May, China time
    assert day_counts()["2024-05-02"] == 1
    scan("in", "2024-04-30T23:00:00.000Z")           # an earlier in, 1 May China time, arrives last
    assert day_counts()["2024-05-01"] == 4 and "2024-05-02" not in day_counts()
    fixture.assert_rollups_equal_a_rebuild(city)


@functools.cache
def _migrated() -> sqlite3.Connection:
    db = Database(memory=True)
    migrate(db)
    return db.conn


def _fresh_database() -> Database:
    """An empty database with every migration, copied from one made once (migrating takes 0.1 s)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    _migrated().backup(conn)
    return Database(conn)


SCAN = st.tuples(st.just("scan"), st.integers(0, 1), st.integers(0, 2), st.sampled_from(["in", "out"]),
                 st.integers(0, 60 * 30))
SESSION = st.tuples(st.just("session"), st.integers(0, 1), st.sampled_from(["volunteer", "training"]),
                    st.sampled_from([None, 0.5, 2.0]), st.sampled_from(["active", "cancelled"]),
                    st.sampled_from(["2024-06-30T23:00", "2025-01-01T00:30"]))
PERSON = st.tuples(st.just("person"), st.integers(0, 2), st.sampled_from(["T1", "T2"]),
                   st.sampled_from(["none", "level3"]), st.sampled_from(["active", "cancelled"]))
MERGE = st.tuples(st.just("merge"), st.integers(0, 2), st.integers(0, 2))
FOLD = st.tuples(st.just("fold"), st.sampled_from([1, 3, 1000]))   # check-ins to fold, about


def _apply(db: Database, event: tuple) -> None:
    kind, *rest = event
    if kind == "fold":
        with db.atomic():
            rollup.fold(db, rows=rest[0])
    elif kind == "scan":
        session, person, direction, minute = rest
        at = datetime(2024, 6, 30, 22, tzinfo=UTC) + timedelta(minutes=minute)
        db["checkins"].insert({"id": new_id(), "session_id": f"s{session}", "person_id": f"p{person}",
                               "direction": direction, "hlc": "h", "node": "n", "method": "qr",
                               "scanned_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z")})
    elif kind == "session":
        session, session_kind, credited, status, starts = rest
        db["sessions"].upsert({"id": f"s{session}", "kind": session_kind, "title": "t", "hours": credited,
                               "status": status, "starts_at": starts}, pk="id")
    elif kind == "person":
        person, town, level, status = rest
        db["people"].upsert({"id": f"p{person}", "name": "某", "town": town, "village": town + "V",
                             "level": level, "status": status}, pk="id")
    else:   # a merge, made as merges.merge makes it: the link, then chains collapsed
        merged, kept = (f"p{n}" for n in rest)
        linked = {row[0] for row in db.execute("SELECT merged_id FROM person_merges")}
        if merged != kept and merged not in linked and kept not in linked:
            db["person_merges"].insert({"merged_id": merged, "kept_id": kept, "merged_at": "now"})
            db.execute("UPDATE person_merges SET kept_id = ? WHERE kept_id = ?", [kept, merged])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(SCAN, SESSION, PERSON, MERGE, FOLD), max_size=20), st.booleans())
# Cases a random search finds only now and then: a promotion alone, a chain of merges, a block
# folded after its session changed.
@example([("session", 0, "volunteer", 2.0, "active", "2024-06-30T23:00"), ("person", 0, "T1", "none", "active"),
          ("scan", 0, 0, "in", 0), ("person", 0, "T1", "level3", "active")], False)
@example([("session", 0, "volunteer", 2.0, "active", "2024-06-30T23:00"), ("scan", 0, 1, "in", 0),
          ("person", 0, "T1", "level3", "active"), ("person", 2, "T2", "none", "active"),
          ("merge", 1, 2), ("merge", 2, 0)], False)
@example([("session", 0, "volunteer", 2.0, "active", "2024-06-30T23:00"), ("scan", 0, 0, "in", 0),
          ("scan", 0, 0, "out", 90), ("session", 0, "volunteer", 0.5, "active", "2024-06-30T23:00"),
          ("scan", 0, 1, "in", 5), ("fold", 1), ("scan", 0, 0, "in", 3)], True)
def test_rollups_equal_a_rebuild_whatever_arrives_in_whatever_order(events, deferred):
    """Scans, session versions, people and merges in any order, sessions and people known or not
    yet, scans one by one or as synced blocks folded in later, a few at a time, between other
    changes: once nothing waits, the rollups agree with a rebuild from the raw rows."""
    db = _fresh_database()
    for scans_together, group in groupby(events, key=lambda event: deferred and event[0] == "scan"):
        if scans_together:
            with db.atomic(), rollup.deferred(db):
                for event in group:
                    _apply(db, event)
        else:
            for event in group:
                _apply(db, event)
    with db.atomic():
        while rollup.fold(db, rows=2):
            pass
    assert not db.execute("SELECT 1 FROM rollup_pending").fetchone()
    kept = {t: sorted(map(tuple, db.execute(f"SELECT * FROM {t}").fetchall())) for t in fixture.ROLLUPS}
    rollup.rebuild(db)
    assert {t: sorted(map(tuple, db.execute(f"SELECT * FROM {t}").fetchall())) for t in fixture.ROLLUPS} == kept
    assert db.execute("SELECT 1 FROM sqlite_master WHERE name = 'rollup_checkin'").fetchone()
