"""Freshness bench (issue 17): how soon a scan at a town's laptop is in the city hub's figures.

`--laptops` town laptops (`fieldsync serve`, each its own process, auto-sync on as shipped:
AUTO_SYNC_SECONDS 300, PUSH_SOON_SECONDS 5) enrolled with one `fieldsync serve --hub`, all on
loopback. Each laptop's kiosk API takes `--rate` scans a second (each scan a fresh check-in of
one of its people, in then out) for `--seconds`. The bench notes when each scan was answered
and when its check-in appeared at the hub: every hub figure counts it from then on (the hub's
pages fold what synced check-ins wait for the rollups before they read them, decision 0016).
It prints p50/p95/max from scan to hub, how fast the kiosk answered meanwhile, and, for the
peer, what the timer alone (a sync every AUTO_SYNC_SECONDS, as before) gives: a scan waits for
the next sync, uniformly up to the interval.

    python bench/freshness_bench.py                           # 10 laptops × 5 scans/s × 60 s
    python bench/freshness_bench.py --laptops 2 --seconds 10  # a quick run
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import requests
from sync_bench import free_port, machine, make_hub, start_server, stop

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.store import new_id
from tests.support import WebClient

PEOPLE = 40   # on each laptop's roster, scanned in turn
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def build(folder: Path, hub: Path, hub_url: str, laptops: int) -> list[tuple[Path, str, list[str]]]:
    """Laptops enrolled with the hub, each with a session and people of its town, synced once."""
    from fieldsync.records import people, sessions
    from fieldsync.sync import enrollment
    from fieldsync.sync.upstream import node

    with closing(sqlite3.connect(hub / "fieldsync.db")) as conn:
        towns = [r[0] for r in conn.execute("SELECT code FROM places WHERE kind = 'town' ORDER BY code")]
    made = []
    for i in range(laptops):
        town, instance = towns[i % len(towns)], folder / f"laptop{i}"
        config.save(instance, mode="node", town=town)
        with open_store(instance / "fieldsync.db") as store:
            demo.places_and_accounts(store)
            rows = [{"name": NAMES[n % 20] + NAMES[(n // 20 + i) % 20] + "华", "town": town, "level": "level3",
                     "phone": f"139{i:02d}{n:06d}"} for n in range(PEOPLE)]
            roster = [p["id"] for p in people.register_many(store, rows, actor="staff")]
            session = sessions.create(store, {"kind": "training", "title": "健步走", "town": town,
                                              "starts_at": "2025-06-01T09:00:00"}, actor="staff")["id"]
            with open_store(hub / "fieldsync.db") as hub_store:
                _, code = enrollment.add_node(hub_store, town, f"laptop{i}")
            enrollment.enroll(store, instance, hub_url, code)
            node.sync(store, instance)
        made.append((instance, session, roster))
    return made


def serve_laptop(instance: Path, soon: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FIELDSYNC_AUTO_SYNC_SECONDS": "300",
           "FIELDSYNC_PUSH_SOON_SECONDS": str(soon)}
    proc = subprocess.Popen([sys.executable, "-m", "fieldsync", "--instance", str(instance), "serve",
                             "--port", str(port)], stdout=(instance / "serve.log").open("wb"),
                            stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/health", timeout=1)
            return proc, url
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"laptop did not start: {(instance / 'serve.log').read_text()}")


class Scanner(threading.Thread):
    """One laptop's stations: `rate` scans a second, each answered before the next is due."""

    def __init__(self, url: str, session: str, roster: list[str], rate: float, seconds: float):
        super().__init__(daemon=True)
        self.url, self.session, self.roster, self.rate, self.seconds = url, session, roster, rate, seconds
        self.scanned: dict[str, float] = {}   # check-in id -> when it was answered
        self.answers: list[float] = []
        self.error: str | None = None

        self.trainer = WebClient(url)

    def sign_in(self) -> None:
        """Before the clock starts: on a loaded machine the first page can take a while."""
        for _ in range(10):
            try:
                assert self.trainer.login("trainer").ok
                return
            except requests.Timeout:
                continue
        raise RuntimeError(f"could not sign in at {self.url}")

    def run(self) -> None:
        try:
            self._scan()
        except (requests.RequestException, AssertionError) as exc:   # said in the report, not lost in a thread
            self.error = f"{self.url}: {exc!r}"[:300]

    def _scan(self) -> None:
        started = time.monotonic()
        for n in range(int(self.rate * self.seconds)):
            time.sleep(max(started + n / self.rate - time.monotonic(), 0))
            scan = {"id": new_id(), "session": self.session, "person": self.roster[n % len(self.roster)],
                    "direction": "in" if (n // len(self.roster)) % 2 == 0 else "out"}
            sent = time.monotonic()
            answer = self.trainer.post("/api/v1/checkins", json=scan, timeout=120)
            assert answer.status_code == 201, answer.text
            self.scanned[scan["id"]] = time.monotonic()
            self.answers.append(self.scanned[scan["id"]] - sent)


def watch(hub: Path, expected: set[str], stop_after: float, arrived: dict[str, float]) -> None:
    """Note when each check-in appears at the hub, reading its database as a report does."""
    with closing(sqlite3.connect(f"file:{hub / 'fieldsync.db'}?mode=ro", uri=True)) as conn:
        seen_rowid = 0
        while time.monotonic() < stop_after and not (expected and expected <= arrived.keys()):
            for rowid, checkin_id in conn.execute("SELECT rowid, id FROM checkins WHERE rowid > ? ORDER BY rowid",
                                                  [seen_rowid]):
                arrived.setdefault(checkin_id, time.monotonic())
                seen_rowid = rowid
            time.sleep(0.1)


def run(workdir: Path, args) -> None:
    hub = make_hub(workdir)
    port = free_port()
    hub_server = start_server([sys.executable, "-m", "fieldsync", "--instance", str(hub), "serve", "--hub",
                               "--port", str(port)], port, workdir / "hub.log")
    laptops = []
    try:
        made = build(workdir, hub, f"http://127.0.0.1:{port}", args.laptops)
        laptops = [serve_laptop(instance, args.soon) for instance, _, _ in made]
        scanners = [Scanner(url, session, roster, args.rate, args.seconds)
                    for (_, url), (_, session, roster) in zip(laptops, made)]
        for scanner in scanners:
            scanner.sign_in()
        arrived: dict[str, float] = {}
        watcher = threading.Thread(target=watch, args=(hub, set(), time.monotonic() + args.seconds, arrived))
        watcher.start()
        for scanner in scanners:
            scanner.start()
        for scanner in scanners:
            scanner.join()
        watcher.join()
        scanned = {k: v for s in scanners for k, v in s.scanned.items()}
        watch(hub, set(scanned), time.monotonic() + args.wait, arrived)
    finally:
        for proc, _ in laptops:
            stop(proc)
        stop(hub_server)
    for scanner in scanners:
        if scanner.error:
            print(f"a laptop's scans stopped early: {scanner.error}")
    report(scanned, arrived, [a for s in scanners for a in s.answers], args)


def report(scanned: dict[str, float], arrived: dict[str, float], answers: list[float], args) -> None:
    delays = sorted(arrived[k] - v for k, v in scanned.items() if k in arrived)
    missing = len(scanned) - len(delays)
    if not delays:
        raise RuntimeError(f"none of the {len(scanned)} scans reached the hub (see the laptops' serve.log)")
    answers.sort()

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))]

    print(f"{len(scanned):,} scans on {args.laptops} laptops ({args.rate:g}/s each, {args.seconds:g} s), push soon: "
          f"{args.soon} s")
    print(f"scan → hub figures   p50 {statistics.median(delays):6.2f} s   p95 {pct(delays, 0.95):6.2f} s   "
          f"max {delays[-1]:6.2f} s   (target p95 ≤ 10 s){f'; {missing} not at the hub' if missing else ''}")
    print(f"kiosk answer         p50 {statistics.median(answers) * 1000:6.1f} ms  p99 {pct(answers, 0.99) * 1000:6.1f} ms"
          f"  max {answers[-1] * 1000:6.1f} ms   (while the pushes ran)")
    print(f"peer, the timer alone (a sync every 300 s): p50 ≈ 150 s, p95 ≈ 285 s → "
          f"{285 / pct(delays, 0.95):.0f}× the p95 above")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--laptops", type=int, default=10)
    parser.add_argument("--rate", type=float, default=5.0, help="scans a second at each laptop")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--soon", type=int, default=config.DEFAULTS["PUSH_SOON_SECONDS"],
                        help="PUSH_SOON_SECONDS on the laptops")
    parser.add_argument("--wait", type=float, default=120.0, help="after the scans, how long to wait for the hub")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    print(f"fieldsync freshness bench · {machine()}")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="fieldsync-freshness-bench-"))
    try:
        run(workdir, args)
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
