"""Kiosk latency in the browser (issue 17): what a trainer sees after a scan, five stations at once.

One `fieldsync serve` (waitress, a child process) on the demo town grown to hold a printed badge
for every scan, and Debian chromium driven by Playwright:

1. **keyboard wedge**: `--stations` pages, each in its own browser context signed in as a trainer,
   on the kiosk of today's training. Each types badge codes at scanner speed (`--key-delay` ms a
   character) then Enter, all stations at once, `--scans` badges each, a short pause between
   people. In the page, a keydown listener notes Enter's `performance.now()` and MutationObservers
   note when the result box takes its answer (`data-status` ok, warn or bad) and when the count
   changes: p50/p90/p99/max of Enter → feedback and Enter → count, over every scan.
2. **camera**: chromium's fake camera shows a printed badge (tests/e2e/fake_camera.py); the page
   starts its camera at a noted `performance.now()`, the video's first frame (its "playing" event:
   the badge is in view from then) is noted, and the observer notes the green screen.
   `--camera-trials` times, the page reloaded each time (a fresh reader), in and out in turn.
3. **memory**: the serving process's VmRSS, sampled from /proc every 0.2 s through both, and its
   VmHWM at the end; then `--day-scans` more scans over HTTP (a day of a busy town) and again.

    python bench/kiosk_bench.py                          # 5 stations × 60 scans: about two minutes
    python bench/kiosk_bench.py --stations 1 --scans 20  # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sync_bench import free_port, machine, start_server, stop

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.records import badges, places

CHROMIUM = os.environ.get("FIELDSYNC_CHROMIUM", "/usr/bin/chromium")
TOWN = demo.DEMO_TOWN

# In the page: Enter's time, and when the result box and the count first change after it.
WATCH = """() => {
  window.__lat = { fb: [], count: [], enter: null, fbDone: true, countDone: true };
  const lat = window.__lat;
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { lat.enter = performance.now(); lat.fbDone = lat.countDone = false; }
  }, true);
  const box = document.getElementById("feedback");
  new MutationObserver(() => {
    const s = box.dataset.status;
    if (!lat.fbDone && lat.enter !== null && ["ok", "warn", "bad"].includes(s)) {
      lat.fb.push([performance.now() - lat.enter, s]); lat.fbDone = true;
    }
  }).observe(box, { attributes: true, attributeFilter: ["data-status"] });
  new MutationObserver(() => {
    if (!lat.countDone && lat.enter !== null) { lat.count.push(performance.now() - lat.enter); lat.countDone = true; }
  }).observe(document.getElementById("count"), { childList: true, characterData: true, subtree: true });
}"""


def build(folder: Path, badges_needed: int) -> tuple[Path, str, list[str]]:
    """The demo town with enough people for every scan, a badge printed for each."""
    instance = folder / "node"
    config.save(instance, mode="node", town=TOWN)
    with open_store(instance / "fieldsync.db") as store:
        demo.places_and_accounts(store)
        villages = len(places.children(store, TOWN, "village"))
        demo.load(store, people_per_village=math.ceil(badges_needed / villages) + 1)
        roster = store.query("SELECT * FROM people WHERE town = ? ORDER BY id", [TOWN])
        codes = [badges.issue(store, person) for person in roster[:badges_needed]]
        session = store.query("SELECT id FROM sessions WHERE kind = 'training' ORDER BY starts_at LIMIT 1")[0]["id"]
    return instance, session, codes


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.running = pid, [], True

    def status(self, key: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def run(self) -> None:
        while self.running:
            self.samples.append((time.monotonic(), self.status("VmRSS")))
            time.sleep(0.2)

    def most(self, since: float = 0.0, until: float = float("inf")) -> float:
        return max(rss for at, rss in self.samples if since <= at <= until)


async def sign_in(context, url: str, session: str):
    page = await context.new_page()
    await page.goto(url + "/login")
    await page.fill("input[name=username]", "trainer")
    await page.fill("input[name=password]", demo.DEMO_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    await page.goto(f"{url}/kiosk/{session}")
    await page.wait_for_selector("#kiosk[data-ready='1']")
    await page.evaluate(WATCH)
    return page


async def station(page, codes: list[str], key_delay: float, rng: random.Random) -> None:
    for done, code in enumerate(codes, 1):
        await page.keyboard.type(code, delay=key_delay)
        await page.keyboard.press("Enter")
        await page.wait_for_function("(n) => window.__lat.fb.length >= n && window.__lat.count.length >= n",
                                     arg=done, timeout=30_000)
        await asyncio.sleep(rng.uniform(0.1, 0.4))     # the next person steps up


async def wedge_phase(browser, url: str, session: str, codes: list[str], stations: int, scans: int,
                      key_delay: float) -> dict:
    contexts = [await browser.new_context(locale="zh-CN") for _ in range(stations)]
    pages = [await sign_in(c, url, session) for c in contexts]
    scanning_from = time.monotonic()
    started = time.perf_counter()
    await asyncio.gather(*(station(page, codes[i * scans:(i + 1) * scans], key_delay, random.Random(i))
                           for i, page in enumerate(pages)))
    seconds = time.perf_counter() - started
    scanning_to = time.monotonic()
    results = [await page.evaluate("() => window.__lat") for page in pages]
    for context in contexts:
        await context.close()
    feedback = [ms for r in results for ms, _ in r["fb"]]
    statuses = [s for r in results for _, s in r["fb"]]
    return {"feedback": feedback, "count": [ms for r in results for ms in r["count"]], "seconds": seconds,
            "scanning": (scanning_from, scanning_to),
            "ok": statuses.count("ok"), "scans": len(statuses)}


async def camera_phase(browser, url: str, session: str, trials: int) -> list[tuple[float, float, str]]:
    """(first frame → result, camera button → result, status) of each trial, in ms."""
    context = await browser.new_context(locale="zh-CN")
    page = await sign_in(context, url, session)
    out = []
    for trial in range(trials):
        if trial:
            await page.reload()
            await page.wait_for_selector("#kiosk[data-ready='1']")
            await page.evaluate(WATCH)
        await page.check(f"input[name=direction][value={'in' if trial % 2 == 0 else 'out'}]")
        # The badge is in view from the camera's first frame: the video element's "playing".
        await page.evaluate("""() => {
          const lat = window.__lat, video = document.getElementById("camera-video");
          video.addEventListener("playing", () => { lat.frameAt = performance.now(); }, { once: true });
          lat.clickAt = lat.enter = performance.now(); lat.fbDone = false;
          document.getElementById("camera-toggle").click(); }""")
        await page.wait_for_function("() => window.__lat.fb.length >= 1", timeout=30_000)
        lat = await page.evaluate("() => window.__lat")
        ms, status = lat["fb"][0]
        out.append((ms - (lat["frameAt"] - lat["clickAt"]), ms, status))
        await page.click("#camera-toggle")
    await context.close()
    return out


async def browse(url: str, session: str, codes: list[str], args) -> tuple[dict, list]:
    from playwright.async_api import async_playwright

    from tests.e2e.fake_camera import write_y4m

    video = write_y4m(Path(tempfile.mkdtemp(prefix="kiosk-bench-camera-")) / "badge.y4m", codes[-1])
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        wedge = await wedge_phase(browser, url, session, codes, args.stations, args.scans, args.key_delay)
        camera = await camera_phase(browser, url, session, args.camera_trials)
        await browser.close()
    shutil.rmtree(video.parent, ignore_errors=True)
    return wedge, camera


def day_of_scans(url: str, session: str, codes: list[str], count: int) -> float:
    """More scans over HTTP as the kiosk sends them (in, then out, in turn): a busy town's day."""
    from fieldsync.store import new_id
    from tests.support import WebClient

    staff = WebClient(url)
    staff.login("trainer")
    staff.get(f"/kiosk/{session}")
    started = time.perf_counter()
    for i in range(count):
        answer = staff.post("/api/v1/checkins", json={
            "id": new_id(), "session": session, "code": codes[i % len(codes)],
            "direction": "in" if (i // len(codes)) % 2 == 0 else "out",
            "scanned_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())})
        assert answer.status_code in (200, 201), answer.text
    return time.perf_counter() - started


def quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    at = lambda q: ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]
    return (f"p50 {statistics.median(ordered):6.1f}  p90 {at(0.9):6.1f}  p99 {at(0.99):6.1f}  "
            f"max {ordered[-1]:6.1f} ms  (n={len(ordered)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=5)
    parser.add_argument("--scans", type=int, default=60, help="badges each station scans")
    parser.add_argument("--key-delay", type=float, default=4, help="ms between a scanner's characters")
    parser.add_argument("--camera-trials", type=int, default=10)
    parser.add_argument("--day-scans", type=int, default=3000, help="scans over HTTP after the browser")
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    print(f"fieldsync kiosk bench · {machine()}")
    folder = args.dir or Path(tempfile.mkdtemp(prefix="fieldsync-kiosk-bench-"))
    try:
        instance, session, codes = build(folder, args.stations * args.scans + 1)
        port = free_port()
        server = start_server([sys.executable, "-m", "fieldsync", "--instance", str(instance), "serve",
                               "--port", str(port)], port, folder / "serve.log")
        url = f"http://127.0.0.1:{port}"
        sampler = RssSampler(server.pid)
        sampler.start()
        try:
            at_start = sampler.status("VmRSS")
            wedge, camera = asyncio.run(browse(url, session, codes, args))
            after_browser = sampler.status("VmRSS")
            day_seconds = day_of_scans(url, session, codes, args.day_scans)
            sampler.running = False
            peak = sampler.status("VmHWM")
            after_day = sampler.status("VmRSS")
        finally:
            stop(server)
        print(f"\n== keyboard wedge: {args.stations} stations at once, {wedge['scans']} scans "
              f"({wedge['ok']} green), {wedge['seconds']:.1f} s ==")
        print(f"Enter → feedback   {quantiles(wedge['feedback'])}   target p99 ≤ 100 ms")
        print(f"Enter → count      {quantiles(wedge['count'])}")
        print(f"\n== camera: {len(camera)} trials, statuses {[s for _, _, s in camera]} ==")
        print(f"badge in view (first frame) → feedback   {quantiles([c[0] for c in camera])}   target median ≤ 300 ms")
        print(f"camera button → feedback                 {quantiles([c[1] for c in camera])}")
        print(f"\n== serving process (fieldsync serve) memory ==\nVmRSS at start {at_start:.1f} MB, after the "
              f"browser scans {after_browser:.1f} MB, after {args.day_scans:,} more scans over HTTP "
              f"({day_seconds:.1f} s) {after_day:.1f} MB; sampled max while scanning "
              f"{sampler.most(*wedge['scanning']):.1f} MB, with the sign-ins and page loads {sampler.most():.1f} MB; "
              f"VmHWM {peak:.1f} MB   target < 100 MB")
    finally:
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
