"""One clock (store/clock.py): the stored text of a moment, and China's wall clock for session times
whatever zone the computer is set to."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from fieldsync.records import stations
from fieldsync.store import clock


@pytest.fixture
def laptop_in_new_york(monkeypatch):
    """The computer's own zone set far from China's: 12 hours behind it in May."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_stored_moment_is_utc_with_milliseconds_and_reads_back():
    moment = datetime(2026, 5, 28, 1, 2, 3, 456000, tzinfo=UTC)
    assert clock.utc_text(moment) == "2026-05-28T01:02:03.456Z"
    assert clock.parse(clock.utc_text(moment)) == moment
    assert clock.utc_text(moment) < clock.utc_text(moment + timedelta(milliseconds=1))


def test_china_days_and_minutes_of_a_stored_moment():
    late = "2026-05-28T17:30:00.000Z"                         # 01:30 the next morning in China
    assert clock.local_day(late) == "2026-05-29"
    assert clock.local_time(late) == "2026-05-29 01:30"
    assert clock.minute(clock.parse(late)) == "2026-05-29T01:30"
    assert clock.today(int(clock.parse(late).timestamp() * 1000)) == date(2026, 5, 29)


def test_a_session_time_is_chinas_wall_clock_whatever_the_computer_is_set_to(laptop_in_new_york):
    station = {"token_at": "2026-05-28T00:00:00.000Z", "created_at": "2026-05-28T00:00:00.000Z",
               "lifetime_minutes": None, "session_ends_at": "2026-05-28T18:00", "session_starts_at": None}
    assert stations.expires_at(station) == datetime(2026, 5, 28, 10, 0, tzinfo=UTC) + stations.GRACE
    assert clock.today(int(datetime(2026, 5, 28, 20, 0, tzinfo=UTC).timestamp() * 1000)) == date(2026, 5, 29)
