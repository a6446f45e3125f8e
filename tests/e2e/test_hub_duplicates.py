"""The hub's duplicates page on a 390 px phone, in Chinese: the two records stack one above the
other, every field and merge button stays on the screen, and the button says which record stays."""

from __future__ import annotations

import pytest

from tests.e2e.pages import sign_in

PHONE_390 = {"width": 390, "height": 844}


@pytest.fixture
def hub(serve_city):
    return serve_city()


def test_duplicates_stack_on_a_phone_and_the_kept_record_is_named(open_context, hub):
    page = open_context(viewport=PHONE_390).new_page()
    sign_in(page, hub.url, "admin")
    page.goto(hub.url + "/hub/people/duplicates")
    a, b = (page.locator(f'article.dup-record[data-person="{hub.ids[key]}"]') for key in ("p1", "p8"))
    first, second = a.bounding_box(), b.bounding_box()
    assert second["y"] >= first["y"] + first["height"]          # stacked, not squeezed side by side
    assert first["x"] >= 0 and first["x"] + first["width"] <= PHONE_390["width"]
    assert "登记A" in a.locator("h3").inner_text() and "张村镇" in a.inner_text()
    for field in page.locator(".dup-field").all():
        box = field.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_390["width"]
    town = a.locator('[data-field="town"]')
    assert "不同" in town.inner_text() or "≠" in town.inner_text()
    assert town.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    buttons = page.locator(".dup-actions button")
    assert buttons.count() == 2
    for button in buttons.all():
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_390["width"]
    keep_b = page.get_by_role("button", name="保留登记B（石岛镇")
    keep_b.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/hub/people/{hub.ids['p8']}")
