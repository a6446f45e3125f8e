"""forms.js in Debian chromium: show_if hides what does not apply (and keeps it out of the post),
and the form's page draws its charts with the vendored Chart.js."""

from __future__ import annotations

import json

import pytest

from tests.e2e.pages import db_rows, expect, sign_in

pytestmark = pytest.mark.browser


def test_only_the_fields_that_apply_are_shown_and_sent(node_instance, live_node, open_context):
    session, person = db_rows(node_instance, "SELECT s.id, p.id FROM sessions s, people p"
                                             " WHERE s.kind = 'monitoring' LIMIT 1")[0]
    page = open_context().new_page()
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
    stored = db_rows(node_instance, "SELECT data FROM submissions WHERE person_id = ? AND session_id = ?",
                     [person, session])
    answers = json.loads(stored[-1][0])
    assert "sit_ups" not in answers
    assert (answers["one_leg_stand_s"], answers["conditions"]) == (7, ["heart"])


def test_the_form_page_draws_its_charts(live_node, open_context):
    page = open_context().new_page()
    sign_in(page, live_node.url, "staff")
    page.goto(f"{live_node.url}/forms/fitness_monitoring")
    expect(page.locator("figure.chart canvas").first).to_be_visible()
    assert page.locator("figure.chart canvas").count() == page.locator("figure.chart").count() >= 8
