"""The Content-Security-Policy in a real browser: every page a trainer, the staff and the city's
admin open runs with it on, and chromium reports no script, handler or style it refused.
A crawl from the start page follows the links, so a page added later is covered."""

from __future__ import annotations

import re

import pytest

from tests.e2e.pages import expect, open_kiosk, sign_in, todays_session
from tests.support import LiveServer
from tests.sync.conftest import hub_instance, hub_template  # noqa: F401  (a city hub on disk)

pytestmark = pytest.mark.browser

# Downloads (exports, reports, bundles), language switches and sign-out are not pages to crawl.
NOT_A_PAGE = re.compile(r"\.[a-z]{3,4}(\?|$)|[?&]lang=|/logout|/bundle|/join")
PAGES = 80


def watch_for_refusals(page) -> list[str]:
    refused = []
    page.on("console", lambda message: message.type == "error" and "Content Security Policy" in message.text
            and refused.append(f"{page.url}: {message.text}"))
    return refused


def crawl(page, base_url: str, start: list[str]) -> set[str]:
    """Open each page reachable from start by same-site links (up to PAGES), checking it carries the policy."""
    seen, waiting = set(), list(start)
    while waiting and len(seen) < PAGES:
        path = waiting.pop(0)
        if path in seen:
            continue
        seen.add(path)
        answer = page.goto(base_url + path)
        policy = answer.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, (path, policy)
        page.wait_for_load_state("load")
        links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
        waiting += [link for link in links if link.startswith("/") and not NOT_A_PAGE.search(link)]
    return seen


def test_node_pages_and_the_camera_kiosk_run_under_the_policy(open_context, kiosk_node):
    page = open_context().new_page()
    refused = watch_for_refusals(page)
    sign_in(page, kiosk_node.url, "admin")
    seen = crawl(page, kiosk_node.url, ["/"])
    assert {"/people", "/sessions", "/forms", "/badges", "/kiosk/stations"} <= seen

    open_kiosk(page, kiosk_node.url, todays_session(kiosk_node.instance))
    page.click("#camera-toggle")   # the decoder runs in a worker from /static
    expect(page.locator("#feedback")).to_have_attribute("data-status", "ok", timeout=15_000)
    assert refused == []


def test_hub_dashboard_and_admin_pages_run_under_the_policy(open_context, hub_instance):  # noqa: F811
    with LiveServer(hub_instance, hub=True) as hub:
        page = open_context().new_page()
        refused = watch_for_refusals(page)
        sign_in(page, hub.url, "admin")
        seen = crawl(page, hub.url, ["/"])
        assert {"/hub/", "/hub/reports", "/hub/nodes", "/forms"} <= seen, seen
        page.goto(hub.url + "/hub/")   # the dashboard's charts: Chart.js from /static, data from a JSON block
        expect(page.locator("canvas").first).to_be_visible()
    assert refused == []
