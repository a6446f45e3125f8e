"""Hub merge benchmark (DESIGN §9): 1M check-ins from 100 town laptops merged at one hub, ≤ 60 s.

One hub (`fieldsync serve --hub --threads 8`) and N enrolled node instances spread over the demo
gazetteer's towns, each with an outbox of TOTAL/N check-ins made by sync_bench's generator (its
own people, sessions and check-in ids). Building the nodes is set-up and not timed. Timed:
- from the first push until every node's outbox is acknowledged: K pusher processes, each
  pushing its share of the nodes one after another with the real `fieldsync.sync.push.push()`;
- then one GET of the hub dashboard by an admin (signed in before the pushes): the hub folds the
  check-ins not yet in its report rollups before a report page reads them (decision 0016), so
  when it answers the rollups are current. The total runs from the first push to that answer.
The run fails unless the hub holds exactly TOTAL check-ins and its rollups count every one.

    python bench/hub_merge_bench.py                              # 1M from 100 nodes: ~2¼ min, 100 s of it set-up
    python bench/hub_merge_bench.py --nodes 10 --total 20000     # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from sync_bench import (
    ROOT,
    free_port,
    machine,
    make_hub,
    make_node,
    peak_rss_mb,
    push_child,
    start_server,
    stop,
)

from fieldsync.records import places
from fieldsync.store import Store

TARGET_S = 60.0


def revision() -> str:
    """The commit measured; other engineers' edits in the shared tree are measured too, so say so."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], check=False, cwd=ROOT, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "fieldsync")
    return f"commit {git('rev-parse', '--short', 'HEAD') or 'unknown'}" + (" + uncommitted fieldsync/" if dirty else "")


# -- set-up ---------------------------------------------------------------------------------------------
def demo_towns(hub: Path) -> list[str]:
    with Store(hub / "fieldsync.db") as store:
        return [town["code"] for town in places.by_kind(store, "town")]


def make_nodes(folder: Path, hub: Path, hub_url: str, nodes: int, total: int) -> tuple[list[Path], str]:
    """Enrolled nodes, the towns taken in turn, the check-ins shared out as evenly as they go;
    returns them and the year their check-ins fall in."""
    towns = demo_towns(hub)
    instances, year = [], ""
    for index in range(nodes):
        count = total // nodes + (index < total % nodes)
        node, rows = make_node(folder, hub, hub_url, count, name=f"node{index:03d}", town=towns[index % len(towns)],
                               seed=index)
        instances.append(node)
        year = year or rows[0][6][:4]
    return instances, year


# -- timed ----------------------------------------------------------------------------------------------
def pusher(instances: list[Path]) -> None:
    """One pusher process: say it is ready, wait for the start, push each node's outbox in turn
    (push_child prints a line per node), then print when it started and ended."""
    from fieldsync.sync import node, push  # noqa: F401 — imported before the start, not on the clock

    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()   # CLOCK_MONOTONIC: the bench process reads the same clock
    for instance in instances:
        push_child(instance)
    print(json.dumps({"started": started, "ended": time.monotonic(), "peak_rss_mb": peak_rss_mb()}), flush=True)


def push_all(instances: list[Path], concurrency: int) -> dict:
    """Start the pushers and let them all go at once: when the first push began, and how long until
    the last answer."""
    shares = [instances[k::concurrency] for k in range(concurrency) if instances[k::concurrency]]
    procs = [subprocess.Popen([sys.executable, __file__, "--pusher", *map(str, share)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
             for share in shares]
    for proc in procs:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a pusher did not start")
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    lines = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"a pusher failed ({proc.returncode}): {out!r}")
        lines += [json.loads(line) for line in out.splitlines()]
    spans = [line for line in lines if "started" in line]
    started = min(s["started"] for s in spans)
    return {"started": started, "seconds": max(s["ended"] for s in spans) - started,
            "nodes": [line for line in lines if "pushed" in line],
            "pusher_rss_mb": max(s["peak_rss_mb"] for s in spans)}


def signed_in(hub_url: str):
    """An admin at a browser on the hub, signed in before the pushes so that nothing but the
    dashboard request stands between the last answer and the rollups being read."""
    from fieldsync.demo import DEMO_PASSWORD
    from tests.support import WebClient

    admin = WebClient(hub_url)
    if not admin.login("admin", DEMO_PASSWORD).ok:
        raise RuntimeError("could not sign in to the hub as admin")
    return admin


def open_dashboard(admin, year: str) -> float:
    """GET the city dashboard once (the hub folds what still waits first); when it answered."""
    page = admin.get(f"/hub/?year={year}", timeout=600)
    if page.status_code != 200:
        raise RuntimeError(f"the hub dashboard answered {page.status_code}: {page.text[:300]}")
    return time.monotonic()


def pending_checkins(hub: Path) -> int:
    """Check-ins the hub has taken but not yet folded into its rollups (decision 0016)."""
    with closing(sqlite3.connect(hub / "fieldsync.db")) as conn:
        return conn.execute("SELECT COALESCE(SUM(upto - after), 0) FROM rollup_pending").fetchone()[0]


def hub_peak_rss_mb(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


# -- checks ---------------------------------------------------------------------------------------------
def unacknowledged(instances: list[Path]) -> list[str]:
    """Nodes whose outbox is not acknowledged up to its last change."""
    behind = []
    for instance in instances:
        with closing(sqlite3.connect(instance / "fieldsync.db")) as conn:
            last = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()[0]
            acked = conn.execute("SELECT last_acked_seq FROM sync_state WHERE peer = 'hub'").fetchone()[0]
        if acked != last:
            behind.append(f"{instance.name}: acked {acked} of {last}")
    return behind


def hub_counts(hub: Path) -> tuple[int, int]:
    """Check-ins at the hub, and the scans its attendance rollup has counted."""
    with closing(sqlite3.connect(hub / "fieldsync.db")) as conn:
        checkins = conn.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
        folded = conn.execute("SELECT COALESCE(SUM(ins + outs), 0) FROM rollup_attendance").fetchone()[0]
    return checkins, folded


# -- one run --------------------------------------------------------------------------------------------
def run(folder: Path, nodes: int, total: int, concurrency: int) -> dict:
    hub = make_hub(folder)
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    server = start_server([sys.executable, "-m", "fieldsync", "--instance", str(hub), "serve", "--hub",
                           "--port", str(port), "--threads", "8"], port, folder / "hub.log")
    try:
        started = time.perf_counter()
        instances, year = make_nodes(folder, hub, hub_url, nodes, total)
        setup = time.perf_counter() - started
        admin = signed_in(hub_url)
        load_before = os.getloadavg()[0]
        pushed = push_all(instances, concurrency)
        pending = pending_checkins(hub)
        asked = time.monotonic()
        answered = open_dashboard(admin, year)
        load_after = os.getloadavg()[0]
        hub_rss = hub_peak_rss_mb(server.pid)
    finally:
        stop(server)
    checkins, folded = hub_counts(hub)
    return {"nodes": nodes, "total": total, "concurrency": concurrency, "towns": len(demo_towns(hub)),
            "setup": setup, "load": (load_before, load_after), "push": pushed, "pending": pending,
            "dashboard": answered - asked, "current": answered - pushed["started"],
            "hub_rss_mb": hub_rss, "checkins": checkins, "folded": folded, "behind": unacknowledged(instances)}


def report(result: dict) -> list[str]:
    """Print the figures; return what does not add up."""
    push, total = result["push"], result["total"]
    seconds = result["current"]
    per_node = sorted(node["seconds"] for node in push["nodes"])
    towns = min(result["towns"], result["nodes"])
    print(f"\n== {total:,} check-ins from {result['nodes']} nodes in {towns} towns, "
          f"{result['concurrency']} pushers → one hub over loopback ==")
    print(f"set-up (not timed)      {result['setup']:>9.1f} s")
    print(f"load average            {result['load'][0]:>9.2f} → {result['load'][1]:.2f} (before the pushes → after)")
    print(f"pushes, all acknowledged{push['seconds']:>9.1f} s  ({total / push['seconds']:,.0f} check-ins/s; "
          f"per node {per_node[0]:.2f} / {per_node[len(per_node) // 2]:.2f} / {per_node[-1]:.2f} s min/median/max)")
    print(f"not yet in the rollups  {result['pending']:>9,} check-ins when the pushers were done")
    print(f"dashboard GET /hub/     {result['dashboard']:>9.2f} s  (admin; the hub folds what waits, then answers)")
    print(f"merged, rollups current {seconds:>9.1f} s  ({total / seconds:,.0f} check-ins/s; first push → "
          "dashboard answered)")
    rss = result["hub_rss_mb"]
    print(f"hub peak RSS            {rss:>9.1f} MB (VmHWM)" if rss else "hub peak RSS            unknown")
    print(f"pusher peak RSS         {push['pusher_rss_mb']:>9.1f} MB (the largest pusher's VmHWM)")
    print(f"at the hub              {result['checkins']:>9,} check-ins, {result['folded']:,} counted in the rollups")
    print(f"ratio: {seconds:.1f} s against the ≤ {TARGET_S:.0f} s target = {seconds / TARGET_S:.2f}× "
          f"({'met' if seconds <= TARGET_S else 'NOT met'}; scaled to 1M: {seconds * 1e6 / total:.1f} s)")
    problems = [f"outbox not acknowledged: {node}" for node in result["behind"]]
    problems += [f"node pushed {n['pushed']}, accepted {n['accepted']}, rejected {n['rejected']}"
                 for n in push["nodes"] if n["rejected"] or n["pushed"] != n["accepted"]]
    if result["checkins"] != total:
        problems.append(f"the hub holds {result['checkins']:,} check-ins, not {total:,}")
    if result["folded"] != total:
        problems.append(f"the rollups count {result['folded']:,} scans, not {total:,}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=100, help="enrolled node instances (default 100)")
    parser.add_argument("--total", type=int, default=1_000_000, help="check-ins over all nodes (default 1M)")
    parser.add_argument("--concurrency", type=int, default=4, help="pusher processes (default 4)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--pusher", type=Path, nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pusher:
        pusher(args.pusher)
        return
    print(f"fieldsync hub merge bench · {revision()} · {machine()}")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="fieldsync-hub-merge-bench-"))
    folder = workdir / f"n{args.nodes}-{args.total}"
    folder.mkdir(parents=True)
    try:
        problems = report(run(folder, args.nodes, args.total, args.concurrency))
    finally:
        shutil.rmtree(workdir if not args.dir else folder, ignore_errors=True)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
