"""Hours that are reviewed (decision 0170): an activity's hours count once it has ended and
a reviewer approved them; a forgotten scan-out is estimated and capped; a correction changes
the totals and stays in the history."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import openpyxl
import pytest

from fieldsync.errors import Conflict, Forbidden, ValidationFailed
from fieldsync.records import checkins, hour_reviews, scope, sessions
from fieldsync.reports import dashboard, hours, registry, units
from fieldsync.store import clock
from tests.reports import fixture


def _activity(city, ids, *, credited: float, starts=datetime(2024, 9, 1, 8), scans=(("in", 8, 0), ("out", 9, 0)),
              person="p3") -> str:
    session = sessions.create(city, fixture._session("volunteer", "九月健步走", fixture.T1, starts, credited),
                              actor="staff")
    for direction, hour, minute in scans:
        at = starts.replace(hour=hour, minute=minute, tzinfo=fixture.CHINA)
        assert checkins.check_in(city, session_id=session["id"], person_id=ids[person], direction=direction,
                                 station="test", scanned_at=at).recorded
    return session["id"]


def _board(city) -> dict[str, float]:
    return {p["id"]: p["hours"] for p in hours.leaderboard(city.db, units.resolve(city.db), 2024)}


def _sheet_rows(city) -> list[list]:
    _, chunks = registry.prepare(city.db, "volunteer-hours", "xlsx", {"year": "2024"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]


def test_an_unreviewed_activity_does_not_count(city, ids):
    before = hours.totals(city.db, units.resolve(city.db), 2024)
    session_id = _activity(city, ids, credited=2.0)
    assert _board(city)[ids["p3"]] == 0.5                    # s3's half hour only
    assert hours.totals(city.db, units.resolve(city.db), 2024) == before
    assert [s["id"] for s in hours.waiting(city.db, units.resolve(city.db), 2024)] == [session_id]
    assert dashboard.build(city.db, units.resolve(city.db), 2024)["hours_waiting"] == 1
    assert next(r for r in _sheet_rows(city) if r[1] == "张伟")[6] == 0.5
    hour_reviews.review(city, session_id, "approve", actor="staff")
    assert _board(city)[ids["p3"]] == 1.5
    assert hours.waiting(city.db, units.resolve(city.db), 2024) == []
    hour_reviews.review(city, session_id, "reject", actor="association", reason="活动未备案")
    assert _board(city)[ids["p3"]] == 0.5                    # rejected: its hours do not count


def test_an_activity_not_ended_cannot_be_reviewed_and_does_not_count(city, ids):
    tomorrow = clock.wall() + timedelta(days=1)
    session_id = sessions.create(city, fixture._session("volunteer", "明天的活动", fixture.T1, tomorrow, 2.0),
                                 actor="staff")["id"]
    with pytest.raises(Conflict):
        hour_reviews.review(city, session_id, "approve", actor="staff")
    assert hour_reviews.steps(city.db, session_id) == []


def test_a_missing_out_is_capped_and_marked_estimated(city, ids):
    session_id = _activity(city, ids, credited=8.0, scans=(("in", 8, 0),))
    hour_reviews.review(city, session_id, "approve", actor="staff")
    row = next(r for r in hours.history(city.db, ids["p3"]) if r["session_id"] == session_id)
    assert (row["minutes"], row["estimated"]) == (hour_reviews.ESTIMATE_CAP_MINUTES, 1)   # not the 8 h planned
    leader = next(p for p in hours.leaderboard(city.db, units.resolve(city.db), 2024) if p["id"] == ids["p3"])
    assert (leader["hours"], leader["estimated"]) == (4.5, 1)
    assert next(r for r in _sheet_rows(city) if r[1] == "张伟")[6:8] == [4.5, hours.ESTIMATED_MARK]
    attendee = hour_reviews.attendees(city.db, session_id)[0]
    assert (attendee["minutes"], attendee["estimated"], attendee["last_out"]) == (240, 1, None)


def test_a_correction_changes_the_totals_and_the_history_says_who_and_why(city, ids):
    session_id = _activity(city, ids, credited=3.0, scans=(("in", 8, 0), ("out", 10, 0)))
    hour_reviews.review(city, session_id, "approve", actor="staff")
    total = hours.totals(city.db, units.resolve(city.db), 2024)["hours"]
    with pytest.raises(ValidationFailed):
        hour_reviews.review(city, session_id, "correct", actor="staff", person_id=ids["p3"], minutes=30)
    hour_reviews.review(city, session_id, "correct", actor="admin", person_id=ids["p3"], minutes=30,
                        reason="中途离开，未扫签退")
    assert hours.totals(city.db, units.resolve(city.db), 2024)["hours"] == total - 1.5
    assert _board(city)[ids["p3"]] == 1.0
    assert [(s["action"], s["actor"], s["name"], s["minutes"], s["reason"])
            for s in hour_reviews.steps(city.db, session_id)] == [
        ("approve", "staff", None, None, None), ("correct", "admin", "张伟", 30, "中途离开，未扫签退")]
    with pytest.raises(ValidationFailed):   # only someone who came
        hour_reviews.review(city, session_id, "correct", actor="admin", person_id=ids["p5"], minutes=30,
                            reason="x")


def test_a_town_account_cannot_review_another_towns_activity(city, ids):
    """The account's units are known on the request's thread, not on the store's writer: the check
    must come before the write (it was inside it, so a 羊亭镇 account could approve 张村镇's hours)."""
    session_id = _activity(city, ids, credited=2.0)
    scope.set_units(city, [fixture.T2])
    try:
        with pytest.raises(Forbidden):
            hour_reviews.review(city, session_id, "approve", actor="staff-t2")
    finally:
        scope.set_units(city, None)
    assert hour_reviews.steps(city.db, session_id) == []
