"""forms.js in Debian chromium: show_if hides what does not apply (and keeps it out of the post),
and the form's page draws its charts with the vendored Chart.js."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM
from tests.e2e.pages import LAPTOP, db_rows, expect, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def in_chromium():
    """Run work(page) in a chromium of its own, on a thread of its own: Playwright's sync API
    allows one instance per thread, and the kiosk suite's may still be open on this one."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = "Playwright is not installed" if sync_playwright is None else \
        None if Path(CHROMIUM).exists() else f"no chromium at {CHROMIUM}"
    if missing:
        if os.environ.get("FIELDSYNC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{missing} (FIELDSYNC_REQUIRE_BROWSER=1: browser tests may not skip)", pytrace=False)
        pytest.skip(missing)

    def run(work):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            try:
                context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
                context.set_default_timeout(10_000)
                return work(context.new_page())
            finally:
                browser.close()

    def submit(work):
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(run, work).result()

    return submit


def test_only_the_fields_that_apply_are_shown_and_sent(node_instance, live_node, in_chromium):
    session, person = db_rows(node_instance, "SELECT s.id, p.id FROM sessions s, people p"
                                             " WHERE s.kind = 'monitoring' LIMIT 1")[0]

    def fill(page):
        sign_in(page, live_node.url, "trainer")
        page.goto(f"{live_node.url}/kiosk/{session}/form/{person}")
        sit_ups, stand = page.locator('[data-field="sit_ups"]'), page.locator('[data-field="one_leg_stand_s"]')
        conditions = page.locator('[data-field="conditions"]')
        expect(sit_ups).to_be_hidden()
        expect(stand).to_be_hidden()
        page.check("input[name=age_group][value=adult]")
        expect(sit_ups).to_be_visible()
        page.fill("input[name=sit_ups]", "30")
        page.check("input[name=age_group][value=senior]")  # changed their mind: sit-ups no longer apply
        expect(sit_ups).to_be_hidden()
        expect(stand).to_be_visible()
        page.fill("input[name=measured_at]", "2025-05-20")
        page.fill("input[name=height_cm]", "158")
        page.fill("input[name=weight_kg]", "55.5")
        page.fill("input[name=one_leg_stand_s]", "7")
        expect(conditions).to_be_hidden()
        page.check("input[name=chronic_condition][value=true]")
        page.check("input[name=conditions][value=heart]")
        page.click("form.fs-form button[type=submit]")
        expect(page.locator(".feedback.ok")).to_be_visible()

    in_chromium(fill)
    stored = db_rows(node_instance, "SELECT data FROM submissions WHERE person_id = ? AND session_id = ?",
                     [person, session])
    answers = json.loads(stored[-1][0])
    assert "sit_ups" not in answers
    assert (answers["one_leg_stand_s"], answers["conditions"]) == (7, ["heart"])


def test_the_form_page_draws_its_charts(live_node, in_chromium):
    def look(page):
        sign_in(page, live_node.url, "staff")
        page.goto(f"{live_node.url}/forms/fitness_monitoring")
        expect(page.locator("figure.chart canvas").first).to_be_visible()
        return page.locator("figure.chart canvas").count(), page.locator("figure.chart").count()

    canvases, charts = in_chromium(look)
    assert canvases == charts >= 8
