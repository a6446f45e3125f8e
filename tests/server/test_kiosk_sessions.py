"""Picking the kiosk's session: today's first, and a session of another day only after saying so."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from fieldsync.demo import DEMO_TOWN
from fieldsync.records import sessions
from fieldsync.store import clock

TODAY = clock.today()   # China's day, as the server counts it whatever this machine's zone


def _day_text(day: date) -> str:
    return (f"{day.year}年" if day.year != TODAY.year else "") + f"{day.month}月{day.day}日"


def _make_session(staff, title: str, day: date, *, days: int = 0) -> str:
    answer = staff.post("/api/v1/sessions", json={
        "kind": "volunteer", "title": title, "town": DEMO_TOWN, "starts_at": f"{day.isoformat()}T09:00",
        "ends_at": f"{(day + timedelta(days=days)).isoformat()}T11:00"})
    assert answer.status_code == 201, answer.text
    return answer.json["id"]


def _section(page: str, day: str) -> str:
    found = re.search(rf'<section class="session-day {day}" data-day="{day}">(.*?)</section>', page, re.DOTALL)
    return found.group(1) if found else ""


@pytest.fixture
def sessions_around_today(staff) -> dict[str, str]:
    return {"yesterday": _make_session(staff, "昨天的健步走", TODAY - timedelta(days=1)),
            "tomorrow": _make_session(staff, "明天的健步走", TODAY + timedelta(days=1)),
            "two_days": _make_session(staff, "跨两天的培训", TODAY - timedelta(days=1), days=1)}


def test_the_session_list_puts_today_first_marked_today(trainer, sessions_around_today):
    page = trainer.get("/kiosk/").text
    order = [page.find(f'data-day="{day}"') for day in ("today", "upcoming", "past")]
    assert -1 not in order and order == sorted(order), order
    today, upcoming, past = (_section(page, day) for day in ("today", "upcoming", "past"))
    assert "今天" in today and "专家走基层" in today        # the demo's training is today
    assert sessions_around_today["two_days"] in today    # began yesterday, still running today
    assert sessions_around_today["tomorrow"] in upcoming and "今天" not in upcoming
    assert sessions_around_today["yesterday"] in past and "今天" not in past


@pytest.mark.parametrize("which", ["yesterday", "tomorrow"])
def test_a_session_of_another_day_asks_first_and_then_says_so_on_the_kiosk(trainer, sessions_around_today, which):
    session_id = sessions_around_today[which]
    day = TODAY + timedelta(days=-1 if which == "yesterday" else 1)
    warning = f"这不是今天的活动：{_day_text(day)}"

    asked = trainer.get(f"/kiosk/{session_id}")
    assert asked.status_code == 200
    assert warning in asked.text and 'id="kiosk"' not in asked.text   # no scanning before the answer
    assert f'href="/kiosk/{session_id}?confirm=1"' in asked.text and 'href="/kiosk/"' in asked.text

    said_yes = trainer.get(f"/kiosk/{session_id}?confirm=1", follow_redirects=False)
    assert said_yes.status_code == 302 and said_yes.headers["Location"].endswith(f"/kiosk/{session_id}")
    kiosk = trainer.get(f"/kiosk/{session_id}").text   # and when coming back from a form page
    assert 'id="kiosk"' in kiosk
    assert re.search(r'<p id="other-day"[^>]*>' + re.escape(warning) + "</p>", kiosk)


def test_todays_session_opens_at_once_without_a_banner(trainer, sessions_around_today):
    kiosk = trainer.get(f"/kiosk/{sessions_around_today['two_days']}").text
    assert 'id="kiosk"' in kiosk and 'id="other-day"' not in kiosk


def test_today_is_the_laptops_day_by_its_hub_corrected_clock(store):
    store.hlc.synced(2 * 86_400_000, number=1_000_000)   # the last sync found the hub two days ahead
    assert sessions.local_today(store) == TODAY + timedelta(days=2)
