"""What a person does in the browser (sign in, open a kiosk) and what an auditor reads from SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support import DEMO_PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # no Playwright: the browser fixture skips these tests, or fails them in CI
    expect = None

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def open_kiosk(page, base_url: str, session_id: str) -> None:
    page.goto(f"{base_url}/kiosk/{session_id}")
    page.wait_for_selector("#kiosk[data-ready='1']")


def todays_session(instance: Path) -> str:
    """The demo's training today: the kiosk session that starts empty."""
    return db_rows(instance, "SELECT id FROM sessions WHERE kind = 'training' ORDER BY starts_at LIMIT 1")[0][0]


def db_rows(instance: Path, sql: str, params=()) -> list[tuple]:
    """Read the node's SQLite file directly, as an auditor would: what did it really store?"""
    conn = sqlite3.connect(f"file:{instance / 'fieldsync.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def wedge(page, text: str) -> None:
    """A USB keyboard-wedge scanner: types the code into the focused field, then Enter."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def person_name(instance: Path, person_id: str) -> str:
    return db_rows(instance, "SELECT name FROM people WHERE id = ?", [person_id])[0][0]


def checkins_of(instance: Path, session_id: str, person_id: str) -> list[tuple]:
    return db_rows(instance, "SELECT id, direction, method, station FROM checkins"
                             " WHERE session_id = ? AND person_id = ? ORDER BY hlc", [session_id, person_id])
