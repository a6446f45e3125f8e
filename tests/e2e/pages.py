"""What a person does in the browser (sign in, open a kiosk), the pages each role can open,
and what an auditor reads from the database (a laptop's SQLite file, a hub's SQLite or PostgreSQL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fieldsync import config
from fieldsync.records.users import RANK
from fieldsync.server import create_app
from fieldsync.store import dialect
from tests.security.routes import routes
from tests.support import DEMO_PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # no Playwright: the browser fixture skips these tests, or fails them in CI
    expect = None

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
ROLES = ("trainer", "staff", "admin")
# A page opened as its links open it: the badge sheet of one person (the person page's link),
# not of the whole roster, which on the hub is a 10 MB print job.
QUERIES = {"roster_pages.badge_page": "?person={person_id}"}
SCREENS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 900}}  # crawl, screenshots


def phone_page(open_context, base_url: str, role: str):
    """A 390 px phone signed in as `role`: how the association's pages are judged."""
    page = open_context(viewport=SCREENS["phone"], is_mobile=True, has_touch=True).new_page()
    sign_in(page, base_url, role)
    return page


def fits(page) -> bool:
    """The page does not scroll sideways."""
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


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
    """Read the instance's database directly, as an auditor would: what did it really store? (A
    hub on PostgreSQL: its database, the SQL translated as the program's own is.)"""
    database = config.load(instance).get("DATABASE")
    if dialect.is_postgres(database):
        import psycopg

        with psycopg.connect(database, autocommit=True, connect_timeout=10) as conn:
            return conn.execute(dialect.postgres(sql), list(params)).fetchall()
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


def demo_ids(instance: Path) -> dict[str, str]:
    """Real ids from a demo node or hub, by the names route arguments use."""
    first = {name: db_rows(instance, sql) for name, sql in (
        ("person_id", "SELECT id FROM people WHERE status = 'active' ORDER BY name LIMIT 1"),
        ("form_id", "SELECT id FROM forms ORDER BY id LIMIT 1"),
        ("pairing_id", "SELECT id FROM pairings ORDER BY id LIMIT 1"))}
    return {"session_id": todays_session(instance), "fmt": "csv", "name": "attendance",
            **{name: rows[0][0] for name, rows in first.items() if rows}}


def role_pages(instance: Path, role: str, *, hub: bool = False) -> list[str]:
    """The paths of every page `role` may open on this node or hub, derived from the app's routes:
    GET, neither API nor static, asking for no more than the role, arguments filled with the
    instance's real ids. Downloads are among them: a browser crawl tells them by content type."""
    app = create_app({"MODE": "hub" if hub else "node", "AUTO_SYNC_SECONDS": 0}, instance=instance)
    ids = demo_ids(instance)
    try:
        found = routes(app, ids)
    finally:
        app.extensions["fieldsync.store"].close()
    return sorted({r.path + QUERIES.get(r.endpoint, "").format(**ids) for r in found
                   if r.method == "GET" and not r.api and r.endpoint != "static" and "node" not in r.kinds
                   and RANK.get(r.role or "trainer", 0) <= RANK[role]})
