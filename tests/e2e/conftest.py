"""Browser fixtures: one Debian chromium for the whole run, its fake camera showing a real badge.

Without chromium or Playwright these tests skip, unless FIELDSYNC_REQUIRE_BROWSER=1
(set by .ci/run), where a missing browser is a failure: CI must never pass by
skipping the kiosk.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fieldsync.parts import open_store
from fieldsync.records import badges, people
from tests.backends import copy_instance
from tests.e2e.fake_camera import write_y4m
from tests.e2e.pages import LAPTOP
from tests.e2e.tls_server import TLSLiveServer
from tests.support import LiveServer

CHROMIUM = os.environ.get("FIELDSYNC_CHROMIUM", "/usr/bin/chromium")
BADGES = 6                         # people with printed badges in the e2e instance


def _missing(reason: str):
    if os.environ.get("FIELDSYNC_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (FIELDSYNC_REQUIRE_BROWSER=1: browser tests may not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def kiosk_template(demo_template, tmp_path_factory) -> Path:
    """The demo town with printed badges for its first people (the camera shows badge 0)."""
    path = tmp_path_factory.mktemp("kiosk-template") / "node"
    copy_instance(demo_template, path)
    with open_store(path / "fieldsync.db") as store:
        roster = people.search(store, "", limit=BADGES)
        codes = [badges.issue(store, person) for person in roster]
    (path / "e2e-badges.txt").write_text("\n".join(f"{p['id']} {c}" for p, c in zip(roster, codes)))
    return path


@pytest.fixture(scope="session")
def badge_book(kiosk_template) -> list[dict]:
    """[{person, code}] for the people with badges, in the order printed."""
    lines = (kiosk_template / "e2e-badges.txt").read_text().splitlines()
    return [dict(zip(("person", "code"), line.split(" ", 1))) for line in lines]


@pytest.fixture(scope="session")
def browser(badge_book, tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed")
    if not Path(CHROMIUM).exists():
        _missing(f"no chromium at {CHROMIUM}")
    video = write_y4m(tmp_path_factory.mktemp("camera") / "badge.y4m", badge_book[0]["code"])
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
        yield launched
        launched.close()


@pytest.fixture
def kiosk_node(kiosk_template, tmp_path):
    """A running town node on its own copy of the e2e instance."""
    instance = tmp_path / "node"
    copy_instance(kiosk_template, instance)
    with LiveServer(instance) as server:
        yield server


@pytest.fixture
def tls_node(kiosk_template, tmp_path):
    """The same, served the way phones reach it: `fieldsync serve --tls`."""
    instance = tmp_path / "node"
    copy_instance(kiosk_template, instance)
    with TLSLiveServer(instance) as server:
        yield server


@pytest.fixture
def serve_city(city_template, tmp_path):
    """serve_city(prepare): a hub process on a fresh copy of the hand-computed city (built once per
    session), `prepare(store, ids)` run on it first; `server.ids` names the city's records."""
    servers = []

    def serve(prepare=None) -> LiveServer:
        instance = copy_instance(city_template[0], tmp_path / "hub")
        if prepare:
            with open_store(instance / "fieldsync.db") as store:
                prepare(store, city_template[1])
        server = LiveServer(instance, hub=True).start()
        server.ids = city_template[1]
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture
def open_context(browser):
    """Make browser contexts (fresh cookies and IndexedDB each); all closed after the test."""
    made = []

    def make(**options):
        options.setdefault("viewport", LAPTOP)
        options.setdefault("locale", "zh-CN")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
