"""Screenshots for docs/screenshots/: the kiosk in Chinese and English at laptop and phone width.

Run from the repository root: `python -m tests.e2e.make_screenshots`. It builds
the demo town in a temporary folder, starts a real server, scans badges with a
typed wedge code as a USB scanner would, and photographs what a trainer sees.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from fieldsync import config, demo
from fieldsync.records import badges, checkins, people
from fieldsync.store import Store
from tests.e2e.conftest import CHROMIUM
from tests.e2e.pages import LAPTOP, PHONE, open_kiosk, sign_in, todays_session, wedge
from tests.support import LiveServer

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SHOTS = [("zh_CN", "zh", "laptop", LAPTOP), ("en", "en", "laptop", LAPTOP),
         ("zh_CN", "zh", "phone", PHONE), ("en", "en", "phone", PHONE)]
ALREADY_HERE = 9


def build_instance(folder: Path) -> list[str]:
    """The demo town with some people already checked in; returns badge codes for the next arrivals."""
    config.save(folder, mode="node", town=demo.DEMO_TOWN)
    with Store(folder / "fieldsync.db") as store:
        demo.load(store)
        session_id = todays_session(folder)
        roster = [p for p in people.search(store, "", limit=60) if p["level"] != "none"]
        for person in roster[:ALREADY_HERE]:
            checkins.check_in(store, session_id=session_id, person_id=person["id"], station="门口手机1")
        return [badges.issue(store, person) for person in roster[ALREADY_HERE:ALREADY_HERE + len(SHOTS)]]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        instance = Path(tmp) / "node"
        codes = build_instance(instance)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        with LiveServer(instance) as server:
            session_id = todays_session(instance)
            for (lang, short, width_name, viewport), code in zip(SHOTS, codes):
                phone = width_name == "phone"
                context = browser.new_context(viewport=viewport, device_scale_factor=2 if phone else 1,
                                              is_mobile=phone, has_touch=phone, locale=short)
                page = context.new_page()
                sign_in(page, server.url, "trainer")
                open_kiosk(page, server.url, f"{session_id}?lang={lang}")
                page.focus("#scan-input")
                wedge(page, code)
                page.wait_for_selector("#feedback[data-status='ok']")
                page.wait_for_timeout(300)  # the colour transition and the attendee list settle
                page.screenshot(path=OUT / f"kiosk-{short}-{width_name}.png")
                context.close()
            context = browser.new_context(viewport=LAPTOP, locale="zh")
            page = context.new_page()
            sign_in(page, server.url, "staff")
            page.goto(server.url + "/?lang=zh_CN")
            page.screenshot(path=OUT / "home-zh.png")
            page.goto(server.url + "/kiosk/stations")
            page.fill("input[name=name]", "门口手机1")
            page.select_option("select[name=session]", session_id)
            page.click("form[action$='/kiosk/stations'] button[type=submit]")
            page.screenshot(path=OUT / "stations-zh.png", full_page=True)
            context.close()
        browser.close()
    print(f"screenshots written to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
