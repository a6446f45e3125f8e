"""Hub merge benchmark (DESIGN §9): 1M check-ins from 100 town laptops merged at one hub, ≤ 60 s.

One hub (`fieldsync serve --hub --threads 8`) and N enrolled node instances spread over the demo
gazetteer's towns, each with an outbox of TOTAL/N check-ins made by sync_bench's generator (its
own people, sessions and check-in ids). Building the nodes is set-up and not timed. Timed:
- from the first push until every node's outbox is acknowledged: K pusher processes, each
  pushing its share of the nodes one after another with the real `fieldsync.sync.upstream.push.push()`;
- then one GET of the hub dashboard by an admin (signed in before the pushes): the hub folds the
  check-ins not yet in its report rollups before a report page reads them (decision 0016), so
  when it answers the rollups are current. The total runs from the first push to that answer.
The run fails unless the hub holds exactly TOTAL check-ins and its rollups count every one.

Hubs of hubs (`--chain`, issue 19, decision 0130): the same check-ins twice, each time into a city
hub of its own: first from laptops enrolled straight with the city (as above), then from county
hubs enrolled with the city, each holding its laptops' check-ins in its outbox as its merge leaves
them (county_hubs.py), pushed by the same number of pusher processes. Both are timed the same way, and the ratio
of their check-ins/s until the city's rollups are current is printed. With `--database` both halves
run twice, the city's data first in SQLite, then in a fresh database on that server (the county hubs
stay SQLite, as real counties would); the ratios PostgreSQL/SQLite of each half are printed too.

A hub on PostgreSQL (`--database`, decision 0300): after the SQLite hub, the same laptops' check-ins
into a hub whose data is in a fresh database on that server, first served by one process, then by two
`fieldsync serve --hub` processes on the same instance folder and database, the laptops enrolled with
them in turn. Each is timed as above; the ratios to the SQLite hub's rates are printed (the target:
two processes on PostgreSQL merge at least as fast as the SQLite hub). The server's CPU is counted
beside the hub's.

    python bench/hub_merge_bench.py                              # 1M from 100 nodes: ~2¼ min, 100 s of it set-up
    python bench/hub_merge_bench.py --nodes 10 --total 20000     # a quick run
    python bench/hub_merge_bench.py --chain                      # 10 counties × 100,000 against 100 laptops
    python bench/hub_merge_bench.py --chain --counties 10 --per-county 10000     # a tenth of it
    python bench/hub_merge_bench.py --database postgresql://postgres@127.0.0.1:55433/postgres   # and on PostgreSQL
    python bench/hub_merge_bench.py --chain --counties 4 --per-county 10000 \
        --database postgresql://postgres@127.0.0.1:55433/postgres                # the city on either
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing, contextmanager
from pathlib import Path

import county_hubs
import pg_bench
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

from fieldsync.parts import open_store
from fieldsync.records import places
from fieldsync.reports import rollup

TARGET_S = 60.0


def revision() -> str:
    """The commit measured; other engineers' edits in the shared tree are measured too, so say so."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], check=False, cwd=ROOT, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "fieldsync")
    return f"commit {git('rev-parse', '--short', 'HEAD') or 'unknown'}" + (" + uncommitted fieldsync/" if dirty else "")


# -- set-up ---------------------------------------------------------------------------------------------
def demo_towns(hub: Path) -> list[str]:
    with open_store(hub / "fieldsync.db") as store:
        return [town["code"] for town in places.by_kind(store, "town")]


def make_nodes(folder: Path, hub: Path, hub_urls: list[str], laptops: list[tuple[int, str, int]]) -> tuple[list[Path], str]:
    """Enrolled nodes, one per (seed, town, check-ins) of county_hubs.plan, with the hub's processes
    in turn; returns them and the year their check-ins fall in."""
    instances, year = [], ""
    for k, (seed, town, count) in enumerate(laptops):
        node, rows = make_node(folder, hub, hub_urls[k % len(hub_urls)], count, name=f"node{seed:03d}", town=town,
                               seed=seed)
        instances.append(node)
        year = year or rows[0][6][:4]
    return instances, year


# -- timed ----------------------------------------------------------------------------------------------
def pusher(instances: list[Path]) -> None:
    """One pusher process: say it is ready, wait for the start, push each node's outbox in turn
    (push_child prints a line per node), then print when it started and ended."""
    from fieldsync.sync.upstream import push  # noqa: F401 — imported before the start, not on the clock

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


def open_dashboard(admin, year: str, strict: bool = True) -> tuple[float, int]:
    """GET the city dashboard once (the hub folds what still waits first); when it answered, and
    its status (not strict: a failure is reported, not raised)."""
    page = admin.get(f"/hub/?year={year}", timeout=600)
    if page.status_code != 200 and strict:
        raise RuntimeError(f"the hub dashboard answered {page.status_code}: {page.text[:300]}")
    return time.monotonic(), page.status_code


def pending_checkins(hub: Path) -> int:
    """Check-ins the hub has taken but not yet folded into its rollups (decision 0016)."""
    return pg_bench.hub_query(hub, "SELECT COALESCE(SUM(upto - after), 0) FROM rollup_pending")[0][0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used: what the hub spends, whatever else loads the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU of this process's children that have ended (the pushers, once waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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


def hub_counts(hub: Path) -> tuple[int, int, int]:
    """Check-ins at the hub, the scans its attendance rollup has counted, and what it quarantined."""
    return tuple(pg_bench.hub_query(hub, "SELECT (SELECT COUNT(*) FROM checkins),"
                                         " (SELECT COALESCE(SUM(ins + outs), 0) FROM rollup_attendance),"
                                         " (SELECT COUNT(*) FROM quarantine)")[0])


# -- one run --------------------------------------------------------------------------------------------
@contextmanager
def serving(hub: Path, folder: Path, processes: int = 1):
    """`fieldsync serve --hub --threads 8` on the hub (as many processes as asked, on the same
    folder), for the set-up and the timed part; yields them and their addresses."""
    servers, urls = [], []
    try:
        for k in range(processes):
            port = free_port()
            servers.append(start_server([sys.executable, "-m", "fieldsync", "--instance", str(hub), "serve", "--hub",
                                         "--port", str(port), "--threads", "8"], port, folder / f"{hub.name}{k}.log"))
            urls.append(f"http://127.0.0.1:{port}")
        yield servers, urls
    finally:
        for server in servers:
            stop(server)


def server_cpu(hub: Path, servers: list) -> float:
    """CPU of the hub's processes, and of the PostgreSQL server when its data is there."""
    database = pg_bench.hub_database(hub)
    return sum(cpu_seconds(s.pid) for s in servers) + (pg_bench.postgres_cpu_seconds(database) if database else 0.0)


def merge(hub: Path, servers: list, hub_url: str, senders: list[Path], year: str, pushers: int,
          fold_here: bool = False) -> dict:
    """The timed part: every sender's push, then the dashboard that folds what still waits. With
    fold_here, the clock stops when this process has folded it (rollup.current, what the dashboard
    calls first) and the dashboard is asked after, on its own clock: the same end on both backends
    while the reports are being ported to PostgreSQL."""
    admin = signed_in(hub_url)
    store = open_store(hub / "fieldsync.db") if fold_here else None   # opened before the clock starts
    load_before = os.getloadavg()[0]
    hub_cpu, pusher_cpu = server_cpu(hub, servers), children_cpu_seconds()
    pushed = push_all(senders, pushers)
    pusher_cpu = children_cpu_seconds() - pusher_cpu
    pending = pending_checkins(hub)
    asked = time.monotonic()
    own_cpu = time.process_time()
    if store is not None:   # a SQLite hub's fold then runs here: its CPU is counted as the hub's
        rollup.current(store)
        store.close()
        folded = time.monotonic()
    cpu = server_cpu(hub, servers) - hub_cpu + time.process_time() - own_cpu
    answered = open_dashboard(admin, year, strict=not fold_here)
    return {"load": (load_before, os.getloadavg()[0]), "push": pushed, "pending": pending,
            "dashboard": answered[0] - (folded if store else asked), "dashboard_status": answered[1],
            "current": (folded if store else answered[0]) - pushed["started"],
            "fold": folded - asked if store else None, "cpu": (cpu, pusher_cpu),
            "hub_rss_mb": max(hub_peak_rss_mb(s.pid) or 0 for s in servers)}


def logged_errors(hub: Path, folder: Path) -> list[str]:
    """Lines of the hub's server logs (serving's) that report an error or begin a traceback."""
    return [f"{log.name}: {line}" for log in sorted(folder.glob(f"{hub.name}[0-9]*.log"))
            for line in log.read_text(errors="replace").splitlines() if line.startswith(("ERROR", "Traceback"))]


def checked(hub: Path, folder: Path, senders: list[Path], result: dict) -> dict:
    checkins, folded, quarantined = hub_counts(hub)
    return {**result, "checkins": checkins, "folded": folded, "quarantined": quarantined,
            "behind": unacknowledged(senders), "errors": logged_errors(hub, folder)}


def laptops_to(hub: Path, folder: Path, laptops: list[tuple[int, str, int]], concurrency: int,
               processes: int = 1, fold_here: bool = False) -> dict:
    """Laptops enrolled with the hub push straight to it (to its processes in turn)."""
    with serving(hub, folder, processes) as (servers, urls):
        started = time.perf_counter()
        instances, year = make_nodes(folder, hub, urls, laptops)
        setup = time.perf_counter() - started
        result = merge(hub, servers, urls[0], instances, year, concurrency, fold_here)
    return checked(hub, folder, instances, {**result, "setup": setup, "total": sum(n for _, _, n in laptops)})


def counties_to(city: Path, folder: Path, units: list[tuple[str, list[str]]], added: list[dict],
                laptops: list[tuple[int, str, int]], concurrency: int, fold_here: bool = False) -> dict:
    """County hubs enrolled with the city push what their laptops gave them. The same pusher
    processes as the laptops': more would measure this machine's two cores shared among them
    (each county hub is its own machine), not the city."""
    with serving(city, folder) as (servers, [url]):
        started = time.perf_counter()
        made = [county_hubs.make_county(folder, city, url, unit, added, laptops[k::len(units)])
                for k, (unit, _) in enumerate(units)]
        setup = time.perf_counter() - started
        counties = [county for county, _ in made]
        result = merge(city, servers, url, counties, made[0][1], concurrency, fold_here)
    return checked(city, folder, counties, {**result, "setup": setup, "total": sum(n for _, _, n in laptops)})


def run(folder: Path, nodes: int, total: int, concurrency: int, database: str | None = None,
        processes: int = 1, fold_here: bool = False) -> dict:
    """The default bench: laptops of the demo gazetteer's towns in turn, straight to one hub (its
    data in PostgreSQL when given a database, served by `processes` processes)."""
    folder.mkdir(parents=True, exist_ok=True)
    hub = make_hub(folder, database)
    towns = demo_towns(hub)
    result = laptops_to(hub, folder, county_hubs.plan([towns], nodes, total), concurrency, processes, fold_here)
    where = "one SQLite hub" if database is None else \
        f"a hub on PostgreSQL, {processes} process{'es' if processes > 1 else ''}"
    return {**result, "label": "SQLite" if database is None else f"PostgreSQL ×{processes}",
            "heading": f"{total:,} check-ins from {nodes} nodes in {min(len(towns), nodes)} towns, "
                       f"{concurrency} pushers → {where} over loopback"}


@contextmanager
def database_of(admin_url: str | None, name: str):
    """A fresh database `name` on the server of admin_url, dropped after; None (SQLite) without one."""
    if admin_url is None:
        yield None
        return
    try:
        yield pg_bench.fresh_database(admin_url, name)
    finally:
        pg_bench.drop_database(admin_url, name)


def run_backends(folder: Path, nodes: int, total: int, concurrency: int, admin_url: str):
    """The same laptops' check-ins into a SQLite hub, a PostgreSQL hub of one process, and one of
    two processes (a fresh database each); yields each result as it is done."""
    for server, processes in ((None, 1), (admin_url, 1), (admin_url, 2)):
        with database_of(server, f"fieldsync_hub_merge_bench_{processes}") as database:
            yield run(folder / (f"pg{processes}" if database else "sqlite"), nodes, total, concurrency, database,
                      processes, fold_here=True)


def run_chain(folder: Path, counties: int, per_county: int, nodes: int, concurrency: int,
              admin_url: str | None = None, fold_here: bool = False) -> tuple[dict, dict]:
    """Hubs of hubs: the same check-ins twice, each into a city hub of its own: from laptops
    straight to the city, then through county hubs (SQLite); the city's data in a fresh database
    on the server of admin_url when given one."""
    total = counties * per_county
    backend = "SQLite" if admin_url is None else "PostgreSQL"
    halves = []
    for name in ("direct", "chain"):
        (folder / name).mkdir(parents=True)
        with database_of(admin_url, f"fieldsync_hub_merge_bench_{name}") as database:
            city = make_hub(folder / name, database)
            added, units = county_hubs.city_gazetteer(city, counties)
            laptops = county_hubs.plan([towns for _, towns in units], nodes, total)
            if name == "direct":
                halves.append({**laptops_to(city, folder / name, laptops, concurrency, fold_here=fold_here),
                               "heading": f"{total:,} check-ins from {nodes} laptops in the towns of {counties} "
                                          f"counties straight to the city hub ({backend}), {concurrency} pushers"})
            else:
                halves.append({**counties_to(city, folder / name, units, added, laptops, concurrency, fold_here),
                               "heading": f"the same {total:,} check-ins through {counties} county hubs of "
                                          f"{per_county:,} each into the city hub ({backend}), "
                                          f"{min(concurrency, counties)} pushers"})
        halves[-1].update(city=backend, label=f"{backend} city ({'through counties' if name == 'chain' else 'direct'})")
    return halves[0], halves[1]


def run_chains(folder: Path, counties: int, per_county: int, nodes: int, concurrency: int, admin_url: str | None):
    """run_chain with the city on SQLite; given a server, then with the city on PostgreSQL, the
    clock on both stopped when rollup.current has folded what waits (as run_backends does)."""
    if admin_url is None:
        yield run_chain(folder, counties, per_county, nodes, concurrency)
        return
    for server in (None, admin_url):
        yield run_chain(folder / ("pg" if server else "sqlite"), counties, per_county, nodes, concurrency, server,
                        fold_here=True)


def report(result: dict) -> list[str]:
    """Print the figures; return what does not add up."""
    push, total = result["push"], result["total"]
    seconds = result["current"]
    per_sender = sorted(node["seconds"] for node in push["nodes"])
    wire = sum(node["bytes"] for node in push["nodes"]) / total
    print(f"\n== {result['heading']} ==")
    print(f"set-up (not timed)      {result['setup']:>9.1f} s")
    print(f"load average            {result['load'][0]:>9.2f} → {result['load'][1]:.2f} (before the pushes → after)")
    print(f"pushes, all acknowledged{push['seconds']:>9.1f} s  ({total / push['seconds']:,.0f} check-ins/s; "
          f"per sender {per_sender[0]:.2f} / {per_sender[len(per_sender) // 2]:.2f} / {per_sender[-1]:.2f} s "
          "min/median/max)")
    print(f"bytes on the wire       {wire:>9.1f} per check-in (bodies + headers, both ways)")
    print(f"not yet in the rollups  {result['pending']:>9,} check-ins when the pushers were done")
    if result.get("fold") is None:
        print(f"dashboard GET /hub/     {result['dashboard']:>9.2f} s  (admin; the hub folds what waits, then answers)")
    else:
        print(f"fold (rollup.current)   {result['fold']:>9.2f} s  (in the bench's process, once the pushers were done)")
        print(f"dashboard GET /hub/     {result['dashboard']:>9.2f} s  (after the fold, not on the clock; "
              f"answered {result['dashboard_status']})")
    print(f"merged, rollups current {seconds:>9.1f} s  ({total / seconds:,.0f} check-ins/s; first push → "
          f"{'dashboard answered' if result.get('fold') is None else 'rollups folded'})")
    hub_cpu, pusher_cpu = (seconds * 1e6 / total for seconds in result["cpu"])
    print(f"CPU per check-in        {hub_cpu:>9.1f} us at the hub{' and its PostgreSQL server' if 'Postgre' in result.get('label', '') else ''}, "
          f"{pusher_cpu:.1f} us in the pushers (user + system, first push → rollups current; the pushers' start-up included)")
    rss = result["hub_rss_mb"]
    print(f"hub peak RSS            {rss:>9.1f} MB (VmHWM)" if rss else "hub peak RSS            unknown")
    print(f"pusher peak RSS         {push['pusher_rss_mb']:>9.1f} MB (the largest pusher's VmHWM)")
    print(f"at the hub              {result['checkins']:>9,} check-ins, {result['folded']:,} counted in the rollups")
    print(f"ratio: {seconds:.1f} s against the ≤ {TARGET_S:.0f} s target = {seconds / TARGET_S:.2f}× "
          f"({'met' if seconds <= TARGET_S else 'NOT met'}; scaled to 1M: {seconds * 1e6 / total:.1f} s)")
    problems = [f"outbox not acknowledged: {node}" for node in result["behind"]]
    problems += [f"{result.get('label')}: the hub logged {line}" for line in result["errors"]]
    if result.get("dashboard_status", 200) != 200:
        problems.append(f"{result.get('label')}: the dashboard answered {result['dashboard_status']} (not timed)")
    problems += [f"sender pushed {n['pushed']}, accepted {n['accepted']}, rejected {n['rejected']}"
                 for n in push["nodes"] if n["rejected"] or n["pushed"] != n["accepted"]]
    if result["checkins"] != total:
        problems.append(f"the hub holds {result['checkins']:,} check-ins, not {total:,}")
    if result["folded"] != total:
        problems.append(f"the rollups count {result['folded']:,} scans, not {total:,}")
    if result["quarantined"]:
        problems.append(f"the hub quarantined {result['quarantined']:,} changes")
    return problems


def compare(direct: dict, chain: dict) -> None:
    rates = [half["total"] / half["current"] for half in (direct, chain)]
    cpu = [half["cpu"][0] / half["total"] * 1e6 for half in (direct, chain)]
    print(f"\nthe city's ({direct['city']}) CPU per check-in: {cpu[1]:.1f} us from county hubs, {cpu[0]:.1f} us from laptops: "
          f"{cpu[1] / cpu[0]:.2f}× (steadier than the rates when the machine is shared)")
    print(f"ratio ({direct['city']} city): through county hubs {rates[1]:,.0f} check-ins/s until the city's rollups are current, "
          f"laptops straight to the city {rates[0]:,.0f} /s: {rates[1] / rates[0]:.2f}× "
          f"({chain['current']:.1f} s against {direct['current']:.1f} s)")


def compare_backends(results: list[dict]) -> None:
    sqlite, *others = results
    rate = sqlite["total"] / sqlite["current"]
    push_rate = sqlite["total"] / sqlite["push"]["seconds"]
    for other in others:
        mine, pushes = other["total"] / other["current"], other["total"] / other["push"]["seconds"]
        print(f"ratio: {other['label']} {mine:,.0f} check-ins/s until the rollups are current, {sqlite['label']} {rate:,.0f} /s: "
              f"{mine / rate:.2f}× (pushes alone {pushes:,.0f} against {push_rate:,.0f} /s: {pushes / push_rate:.2f}×)")
        cpu, base = (run["cpu"][0] * 1e6 / run["total"] for run in (other, sqlite))
        print(f"       CPU per check-in at the hub (and its server) {cpu:.1f} us against {base:.1f} us: {cpu / base:.2f}× "
              "(steadier than the rates on a shared machine)")
    two = [o for o in others if o["label"].endswith("×2")]
    if two:
        met = two[0]["total"] / two[0]["current"] >= rate
        print(f"target: two PostgreSQL hub processes merge at least as fast as the SQLite hub: {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, help="laptops (default 100; with --chain, 10 a county)")
    parser.add_argument("--total", type=int, default=1_000_000, help="check-ins over all nodes (default 1M)")
    parser.add_argument("--concurrency", type=int, default=4, help="pusher processes (default 4; with --chain, for the laptops and the counties alike)")
    parser.add_argument("--chain", action="store_true",
                        help="hubs of hubs: county hubs into a city hub, against laptops straight to a city")
    parser.add_argument("--counties", type=int, default=10, help="with --chain: county hubs (default 10)")
    parser.add_argument("--per-county", type=int, default=100_000,
                        help="with --chain: check-ins each county hub pushes (default 100,000)")
    parser.add_argument("--database", help="also on PostgreSQL (with --chain, the city hub): a server address that "
                                           "may create databases (a fresh database each run, dropped after)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--pusher", type=Path, nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pusher:
        pusher(args.pusher)
        return
    nodes = args.nodes or (10 * args.counties if args.chain else 100)
    print(f"fieldsync hub merge bench · {revision()} · {machine()}")
    if args.database:
        print(pg_bench.describe(args.database))
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="fieldsync-hub-merge-bench-"))
    folder = workdir / (f"chain{args.counties}x{args.per_county}" if args.chain else f"n{nodes}-{args.total}")
    folder.mkdir(parents=True)
    try:
        if args.chain:
            cities, problems = [], []
            for halves in run_chains(folder, args.counties, args.per_county, max(nodes, args.counties),
                                     args.concurrency, args.database):
                cities.append(halves)
                problems += [p for half in halves for p in report(half)]
                compare(*halves)
                sys.stdout.flush()
            if len(cities) > 1:   # each half with the city on PostgreSQL against the city on SQLite
                print()
                for city_halves in zip(*cities):
                    compare_backends(list(city_halves))
        elif args.database:
            results, problems = [], []
            for result in run_backends(folder, nodes, args.total, args.concurrency, args.database):
                results.append(result)
                problems += report(result)   # printed as each is done
                sys.stdout.flush()
            compare_backends(results)
        else:
            problems = report(run(folder, nodes, args.total, args.concurrency))
    finally:
        shutil.rmtree(workdir if not args.dir else folder, ignore_errors=True)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
