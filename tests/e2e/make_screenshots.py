"""Screenshots for docs/screenshots/: every page of the crawl at phone and laptop width, and the kiosk.

Run from the repository root: `python -m tests.e2e.make_screenshots`. It builds the demo town and
the demo city's hub in a temporary folder, starts real servers, and photographs, in Chinese at
390×844 and 1280×900, each page the crawl opens (tests/e2e/pages.py `role_pages`), as the least
privileged role that can open it: `node-staff-people-phone.png`. The kiosk is shown in its four
states (checked in, already in, invalid badge, unknown person → walk-in) from a typed wedge code as
a USB scanner sends it, and, for the guides, in Chinese and English at laptop and phone width. The
instructor's own page and the certificate check, which open without an account, are shot too.
Pages are cut at two screens' height so the folder stays small; README.md there lists them all.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.records import badges, checkins, people, personal_links
from fieldsync.reports import hours, service_certificates
from tests.e2e.conftest import CHROMIUM
from tests.e2e.demo_sites import build_hub
from tests.e2e.page_checks import html_pages
from tests.e2e.pages import (
    LAPTOP,
    PHONE,
    ROLES,
    SCREENS,
    demo_ids,
    open_kiosk,
    role_pages,
    sign_in,
    todays_session,
    wedge,
)
from tests.support import LiveServer

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
GUIDE_SHOTS = [("zh_CN", "zh", "laptop", LAPTOP), ("en", "en", "laptop", LAPTOP),
               ("zh_CN", "zh", "phone", PHONE), ("en", "en", "phone", PHONE)]
STATES = ("ok", "already", "invalid", "walk-in")
ALREADY_HERE = 9
WALK_IN = "欧阳新来"


def build_instance(folder: Path) -> dict[str, list[str]]:
    """The demo town with some people already checked in; badge codes of one of them ("here")
    and of the next arrivals ("new")."""
    config.save(folder, mode="node", town=demo.DEMO_TOWN)
    with open_store(folder / "fieldsync.db") as store:
        demo.load(store)
        session_id = todays_session(folder)
        roster = [p for p in people.search(store, "", limit=60) if p["level"] != "none"]
        for person in roster[:ALREADY_HERE]:
            checkins.check_in(store, session_id=session_id, person_id=person["id"], station="门口手机1")
        arrivals = roster[ALREADY_HERE:ALREADY_HERE + len(GUIDE_SHOTS) + len(SCREENS)]
        return {"here": [badges.issue(store, roster[0])], "new": [badges.issue(store, p) for p in arrivals]}


def page_name(path: str, ids: dict[str, str]) -> tuple[str, str]:
    """A stable file name part for a page and the path to show for it, each id replaced by what it is."""
    for name, value in ids.items():
        if name.endswith("_id"):
            path = path.replace(value, f"<{name.removesuffix('_id')}>")
    path = path.split("?")[0]
    return path.strip("/").translate(str.maketrans("/.", "--", "<>")) or "home", path


def shoot(page, path: Path) -> None:
    """The page from the top, at most two screens long."""
    size = page.viewport_size
    height = min(page.evaluate("document.scrollingElement.scrollHeight"), 2 * size["height"])
    page.screenshot(path=path, full_page=True, clip={"x": 0, "y": 0, "width": size["width"], "height": height})


def every_page(browser, server: LiveServer, site: str) -> list[tuple[str, str, str]]:
    """Each page once, as the first role (trainer, staff, admin) that can open it.
    Returns (role, path shown, file name stem) for each."""
    shot, done, is_page = [], set(), {}
    ids = demo_ids(server.instance)
    for role in ROLES:
        context = browser.new_context(viewport=SCREENS["phone"], locale="zh-CN")
        page = context.new_page()
        sign_in(page, server.url, role)
        todo = [p for p in role_pages(server.instance, role, hub=site == "hub") if p not in done]
        for path, status in html_pages(page, server.url, todo, is_page):
            done.add(path)
            if status >= 400:  # an error page in place of a download: not a page anybody is meant to see
                continue
            name, shown = page_name(path, ids)
            for screen in sorted(SCREENS, key=lambda s: SCREENS[s] != page.viewport_size):
                page.set_viewport_size(SCREENS[screen])
                page.wait_for_timeout(150)  # charts redraw after a resize
                shoot(page, OUT / f"{site}-{role}-{name}-{screen}.png")
            shot.append((role, shown, f"{site}-{role}-{name}"))
        context.close()
    return shot


def kiosk_states(browser, server: LiveServer, codes: dict[str, list[str]]) -> None:
    """The kiosk in Chinese in each of its four states, at phone and laptop width."""
    session_id = todays_session(server.instance)
    for screen, size in SCREENS.items():
        context = browser.new_context(viewport=size, locale="zh-CN", is_mobile=screen == "phone",
                                      has_touch=screen == "phone")
        page = context.new_page()
        sign_in(page, server.url, "trainer")
        fresh = codes["new"].pop()
        scans = {"ok": (fresh, "ok"), "already": (codes["here"][0], "warn"), "invalid": (fresh[:-6] + "AAAAAA", "bad")}
        for state in STATES:
            open_kiosk(page, server.url, session_id)
            page.focus("#scan-input")
            if state in scans:
                code, status = scans[state]
                wedge(page, code)
                page.wait_for_selector(f"#feedback[data-status='{status}']")
            else:
                wedge(page, WALK_IN)
                page.click("#walkin-open")
                page.wait_for_selector("#walkin[open]")
            page.wait_for_timeout(300)  # the colour transition and the attendee list settle
            page.screenshot(path=OUT / f"kiosk-zh-{state}-{screen}.png")
        context.close()


def guide_shots(browser, server: LiveServer, codes: dict[str, list[str]]) -> None:
    """The kiosk after a scan, in both languages (the kiosk guides), the home page and the stations page."""
    session_id = todays_session(server.instance)
    for lang, short, width_name, viewport in GUIDE_SHOTS:
        phone = width_name == "phone"
        context = browser.new_context(viewport=viewport, device_scale_factor=2 if phone else 1,
                                      is_mobile=phone, has_touch=phone, locale=short)
        page = context.new_page()
        sign_in(page, server.url, "trainer")
        open_kiosk(page, server.url, f"{session_id}?lang={lang}")
        page.focus("#scan-input")
        wedge(page, codes["new"].pop())
        page.wait_for_selector("#feedback[data-status='ok']")
        page.wait_for_timeout(300)
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


def instructor_shots(browser, server: LiveServer) -> list[tuple[str, str, str]]:
    """The instructor's own page and the public check of their certificate (decision 0250, 0251),
    for the first instructor with reviewed hours: pages no role's crawl reaches."""
    with open_store(server.instance / "fieldsync.db") as store:
        person = next(p for p in people.search(store, "", limit=500)
                      if hours.per_year(store.db, p["id"]))
        link = personal_links.issue(store, person["id"], actor="staff")
        certificate, _ = service_certificates.issue(store, person["id"],
                                                    int(hours.per_year(store.db, person["id"])[0]["year"]))
    pages = [("/me/<link>", f"/me/{link}", "hub-public-me"),
             ("/verify/<code>", f"/verify/{certificate['code']}", "hub-public-verify")]
    for _shown, path, stem in pages:
        for screen, size in SCREENS.items():
            context = browser.new_context(viewport=size, locale="zh-CN", is_mobile=screen == "phone",
                                          has_touch=screen == "phone")
            page = context.new_page()
            page.goto(server.url + path)
            shoot(page, OUT / f"{stem}-{screen}.png")
            context.close()
    return [("public", shown, stem) for shown, _path, stem in pages]


def write_index(sites: dict[str, list[tuple[str, str, str]]]) -> None:
    lines = ["# Screenshots", "",
             "Written by `python -m tests.e2e.make_screenshots` (do not edit by hand): every page a role can",
             "open, in Chinese, on a 390×844 phone and a 1280×900 laptop, as the least privileged role that",
             "can open it. Long pages are cut at two screens.", "",
             "## The kiosk", "", "| state | phone | laptop |", "|---|---|---|"]
    lines += [f"| {state} | [phone](kiosk-zh-{state}-phone.png) | [laptop](kiosk-zh-{state}-laptop.png) |"
              for state in STATES]
    for site, title in (("node", "A town laptop"), ("hub", "The city hub")):
        lines += ["", f"## {title}", "", "| page | role | phone | laptop |", "|---|---|---|---|"]
        lines += [f"| `{shown}` | {role} | [phone]({stem}-phone.png) | [laptop]({stem}-laptop.png) |"
                  for role, shown, stem in sites[site]]
    (OUT / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*-phone.png"):  # pages that went away leave no stale picture behind
        old.unlink()
    for old in OUT.glob("*-laptop.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        node, hub = Path(tmp) / "node", Path(tmp) / "hub"
        codes = build_instance(node)
        build_hub(hub)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        with LiveServer(node) as server:
            kiosk_states(browser, server, codes)
            guide_shots(browser, server, codes)
            sites = {"node": every_page(browser, server, "node")}
        with LiveServer(hub, hub=True) as server:
            sites["hub"] = every_page(browser, server, "hub") + instructor_shots(browser, server)
        browser.close()
    write_index(sites)
    print(f"screenshots written to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
