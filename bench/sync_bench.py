"""Sync benchmark (issue 4, DESIGN §9): check-ins pushed node → hub over loopback.

One run prints, for each size (100k by default, then 1M):
- end-to-end records/s of `fieldsync` pushing its outbox to a real `fieldsync serve --hub`
  (the node is its own process: a child that runs the push and nothing else);
- bytes on the wire per check-in (request and response bodies plus headers);
- the node process's peak RSS (its own VmHWM);
- the same check-ins pushed one request per record (as ODK Collect and pretix do) to a plain
  Flask + waitress + SQLite endpoint (bench/naive_server.py), over a time-boxed sample;
- raw SQLite batched inserts of the same rows, 5,000 per transaction, synchronous=FULL: into the
  bare check-ins table, and into a hub database (with the report rollup triggers a hub keeps).

The check-ins look like a town's: sessions of 30-300 people who scan in and mostly out at one of
four stations, real ULIDs (10 random bytes each) made at scan time. Building the node's outbox
is set-up and not timed.

    python bench/sync_bench.py                            # 100k check-ins, under a minute
    python bench/sync_bench.py --sizes 100000,1000000     # and 1M: about 8 minutes
    python bench/sync_bench.py --cpu                      # CPU per check-in of each half, in process
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ulid import ULID

from fieldsync import config
from fieldsync.parts import open_store
from fieldsync.records import checkins as checkin_records
from fieldsync.store import new_id
from fieldsync.sync import columnar

TOWN = "371002100000"
COLUMNS = checkin_records.CHECKIN_COLUMNS
NAIVE_SECONDS = 10
RAW_BATCH = 5_000


# -- the town's check-ins ----------------------------------------------------------------------------
def town_checkins(count: int, node: str, *, seed: int = 4) -> list[tuple]:
    """Realistic scans in time order: whole sessions, in and (mostly) out, four stations."""
    rng = random.Random(seed)
    people = [str(ULID.from_timestamp(1_700_000_000 + rng.random() * 3e7)) for _ in range(max(count // 20, 300))]
    rows, now_ms = [], 1_732_500_000_000
    while len(rows) < count:
        session = new_id()
        attendees = rng.sample(people, rng.randint(30, 300))
        now_ms += rng.randint(3_600_000, 86_400_000)
        scans = [(p, "in") for p in attendees] + [(p, "out") for p in attendees if rng.random() < 0.7]
        for person, direction in scans:
            now_ms += rng.randint(200, 4_000) if direction == "in" else rng.randint(10, 400)
            rows.append((_ulid_at(now_ms, rng), session, person, 40001, 1, direction,
                         columnar.iso_ms(now_ms - rng.randint(0, 3)), f"{now_ms:016d}-00000-{node}", node,
                         f"station-{rng.randint(1, 4)}", "qr", ""))
            if len(rows) == count:
                break
    return rows


def _ulid_at(ms: int, rng: random.Random) -> str:
    return str(ULID.from_bytes(ms.to_bytes(6, "big") + rng.randbytes(10)))


def seed_roster(db_file: Path, rows: list[tuple], town: str = TOWN) -> None:
    """The town's people and sessions, as both the node and the hub hold them after earlier syncs."""
    people = sorted({row[2] for row in rows})
    sessions = {}
    for row in rows:
        sessions.setdefault(row[1], row[6][:16])
    from pg_bench import hub_write_many  # a hub's database may be on PostgreSQL

    hub_write_many(db_file.parent, "INSERT INTO people (id, name, town, level, status, badge_generation, field_hlcs)"
                   " VALUES (?, '张三', ?, 'level3', 'active', 1, '{}')", [(p, town) for p in people])
    hub_write_many(db_file.parent, "INSERT INTO sessions (id, kind, title, mode, starts_at, town, hours, status,"
                   " field_hlcs) VALUES (?, 'training', '社会体育指导员培训', 'offline', ?, ?, 2.0, 'active', '{}')",
                   [(sid, start, town) for sid, start in sessions.items()])


def fill_outbox(db_file: Path, rows: list[tuple]) -> None:
    """Write check-ins and their outbox rows the way records/checkins.py does, in bulk."""
    conn = sqlite3.connect(db_file)
    conn.execute("PRAGMA synchronous = OFF")
    created = "2025-01-01T00:00:00.000Z"
    with conn:
        conn.executemany(f"INSERT INTO checkins ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                         rows)
        conn.executemany("INSERT INTO changes (change_id, entity, record_id, op, hlc, payload, created_at)"
                         " VALUES (?, 'checkins', ?, 'upsert', ?, ?, ?)",
                         ((new_id(), row[0], row[7], json.dumps(dict(zip(COLUMNS, row)), separators=(",", ":")),
                           created) for row in rows))
    conn.close()


# -- processes ------------------------------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(args: list[str], port: int, log: Path) -> subprocess.Popen:
    import requests

    proc = subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env={**os.environ, "FIELDSYNC_AUTO_SYNC_SECONDS": "0", "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except (requests.ConnectionError, requests.Timeout):   # not up yet, or a busy machine
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start: {log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def make_hub(folder: Path, database: str | None = None) -> Path:
    """A hub with the demo gazetteer and accounts; its data in PostgreSQL when given a database."""
    from fieldsync import demo

    hub = folder / "hub"
    config.save(hub, mode="hub", database=database)
    with open_store(hub / "fieldsync.db") as store:
        demo.places_and_accounts(store)
    return hub


def make_node(folder: Path, hub: Path, hub_url: str, count: int, *, name: str = "node", town: str = TOWN,
              seed: int = 4) -> tuple[Path, list[tuple]]:
    """An enrolled laptop in folder/name with `count` check-ins in its outbox; nodes made with
    different seeds share no people and no check-in ids."""
    from fieldsync import demo
    from fieldsync.sync import enrollment

    node = folder / name
    config.save(node, mode="node", town=town)
    with open_store(node / "fieldsync.db") as store:
        demo.places_and_accounts(store)
        origin = store.node_id
    with open_store(hub / "fieldsync.db") as hub_store:
        _, code = enrollment.add_node(hub_store, town, name)
    with open_store(node / "fieldsync.db") as store:
        enrollment.enroll(store, node, hub_url, code)
    rows = town_checkins(count, origin, seed=seed)
    for db_file in (node / "fieldsync.db", hub / "fieldsync.db"):
        seed_roster(db_file, rows, town)
    fill_outbox(node / "fieldsync.db", rows)
    return node, rows


def push_child(instance: Path) -> None:
    """Run in the node's own process: push everything, print what it took."""
    from fieldsync.sync.upstream import node as node_sync
    from fieldsync.sync.upstream.push import push

    with open_store(instance / "fieldsync.db") as store:
        client = node_sync.client_for(instance)
        started = time.perf_counter()
        result = push(store, client)
        seconds = time.perf_counter() - started
        ended = time.monotonic()   # CLOCK_MONOTONIC: the bench process reads the same clock
    print(json.dumps({"seconds": seconds, "ended": ended, "pushed": result.pushed, "accepted": result.accepted,
                      "batches": result.batches, "rejected": len(result.rejected),
                      "bytes": client.bytes_sent + client.bytes_received, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's own high-water RSS since exec (wait4's figure would include the pages the
    child shared with the bench process before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure_push(node: Path) -> dict:
    proc = subprocess.Popen([sys.executable, __file__, "--push-child", str(node)], stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"push child failed ({proc.returncode}): {out!r}")
    return json.loads(out)


# -- baselines ------------------------------------------------------------------------------------------
def measure_naive(folder: Path, rows: list[tuple]) -> dict:
    import requests

    port = free_port()
    db_file = folder / "naive.db"
    server = start_server([sys.executable, str(ROOT / "bench" / "naive_server.py"), str(db_file), str(port)],
                          port, folder / "naive.log")
    http = requests.Session()
    url = f"http://127.0.0.1:{port}/checkins"
    sent = wire = 0
    started = time.perf_counter()
    try:
        for row in rows:
            response = http.post(url, json=dict(zip(COLUMNS, row)), timeout=10)
            response.raise_for_status()
            wire += len(response.request.body) + len(response.content) + _headers(response.request.headers) \
                + _headers(response.headers)
            sent += 1
            if time.perf_counter() - started > NAIVE_SECONDS:
                break
        seconds = time.perf_counter() - started
    finally:
        stop(server)
    stored = sqlite3.connect(db_file).execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
    assert stored == sent, (stored, sent)
    return {"records": sent, "seconds": seconds, "rate": sent / seconds, "bytes": wire / sent}


def measure_bare_batches(folder: Path, rows: list[tuple]) -> dict:
    """The bare batched endpoint (naive_server.py /batch): the same rows in batches of RAW_BATCH, gzip
    JSON lists, one request after another on one keep-alive connection, into a bare table."""
    import gzip

    import requests

    port = free_port()
    db_file = folder / "bare.db"
    server = start_server([sys.executable, str(ROOT / "bench" / "naive_server.py"), str(db_file), str(port)],
                          port, folder / "bare.log")
    http = requests.Session()
    wire = 0
    started = time.perf_counter()
    try:
        for at in range(0, len(rows), RAW_BATCH):
            body = gzip.compress(json.dumps(rows[at:at + RAW_BATCH], separators=(",", ":")).encode(), 6)
            response = http.post(f"http://127.0.0.1:{port}/batch", data=body, timeout=60,
                                 headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
            response.raise_for_status()
            wire += len(body) + len(response.content) + _headers(response.request.headers) \
                + _headers(response.headers)
        seconds = time.perf_counter() - started
    finally:
        stop(server)
    stored = sqlite3.connect(db_file).execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
    assert stored == len(rows), (stored, len(rows))
    return {"seconds": seconds, "rate": len(rows) / seconds, "bytes": wire / len(rows)}


def _headers(headers) -> int:
    return sum(len(k) + len(str(v)) + 4 for k, v in headers.items()) + 20


def measure_raw(folder: Path, rows: list[tuple], *, hub_schema: bool) -> float:
    """Rows per second of executemany into a fresh database, RAW_BATCH rows per transaction."""
    db_file = folder / ("raw-hub.db" if hub_schema else "raw.db")
    if hub_schema:
        open_store(db_file).close()          # every migration: indexes and the rollup triggers
    conn = sqlite3.connect(db_file, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    if not hub_schema:
        conn.execute("CREATE TABLE checkins (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, person_id TEXT,"
                     " badge_key INTEGER, badge_generation INTEGER, direction TEXT NOT NULL, scanned_at TEXT NOT"
                     " NULL, hlc TEXT NOT NULL, node TEXT NOT NULL, station TEXT, method TEXT NOT NULL,"
                     " flags TEXT NOT NULL DEFAULT '')")
        conn.execute("CREATE INDEX checkins_session_person ON checkins(session_id, person_id)")
        conn.execute("CREATE INDEX checkins_person ON checkins(person_id)")
        conn.execute("CREATE INDEX checkins_scanned ON checkins(scanned_at)")
    sql = f"INSERT INTO checkins ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    for at in range(0, len(rows), RAW_BATCH):
        conn.execute("BEGIN")
        conn.executemany(sql, rows[at:at + RAW_BATCH])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return len(rows) / seconds


# -- one size -------------------------------------------------------------------------------------------
def run(count: int, workdir: Path) -> dict:
    folder = workdir / f"n{count}"
    folder.mkdir(parents=True)
    hub = make_hub(folder)
    port = free_port()
    server = start_server([sys.executable, "-m", "fieldsync", "--instance", str(hub), "serve", "--hub",
                           "--port", str(port), "--threads", "8"], port, folder / "hub.log")
    try:
        node, rows = make_node(folder, hub, f"http://127.0.0.1:{port}", count)
        push = measure_push(node)
        push["fold_seconds"] = wait_for_rollups(hub) - push["ended"]
    finally:
        stop(server)
    with sqlite3.connect(hub / "fieldsync.db") as conn:
        at_hub = conn.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
    assert at_hub == count == push["pushed"] == push["accepted"], (at_hub, count, push)
    naive = measure_naive(folder, rows)
    bare = measure_bare_batches(folder, rows)
    raw = measure_raw(folder, rows, hub_schema=False)
    raw_hub = measure_raw(folder, rows, hub_schema=True)
    shutil.rmtree(folder)
    return {"count": count, "push": push, "naive": naive, "bare": bare, "raw": raw, "raw_hub": raw_hub}


def wait_for_rollups(hub: Path, limit: float = 300) -> float:
    """When (time.monotonic) the hub had folded every pushed check-in into its report rollups:
    it does so once its writer is idle, after the acknowledgements (decision 0016)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(hub / "fieldsync.db")) as conn:
            if not conn.execute("SELECT 1 FROM rollup_pending LIMIT 1").fetchone():
                return time.monotonic()
        time.sleep(0.01)
    raise RuntimeError(f"the hub's rollups were not current {limit:.0f} s after the push")


def report(result: dict) -> None:
    push, naive = result["push"], result["naive"]
    rate = push["pushed"] / push["seconds"]
    print(f"\n== {result['count']:,} check-ins, node → hub over loopback ==")
    print(f"fieldsync push        {rate:>10,.0f} records/s  ({push['seconds']:.1f} s, {push['batches']} batches)")
    print(f"  bytes on the wire   {push['bytes'] / push['pushed']:>10.1f} per check-in (bodies + headers, both ways)")
    print(f"  node peak RSS       {push['peak_rss_mb']:>10.1f} MB")
    folded = push["pushed"] / (push["seconds"] + push["fold_seconds"])
    print(f"  rollups current     {push['fold_seconds']:>10.2f} s after the last answer (push and fold: "
          f"{folded:,.0f} records/s)")
    print(f"naive, 1 req/record   {naive['rate']:>10,.0f} records/s  ({naive['records']:,} records in "
          f"{naive['seconds']:.1f} s, {naive['bytes']:.0f} bytes each)")
    bare = result["bare"]
    print(f"bare batched endpoint {bare['rate']:>10,.0f} records/s  ({bare['seconds']:.1f} s, {bare['bytes']:.1f} bytes "
          f"each; gzip JSON batches of {RAW_BATCH:,}, no checks)")
    print(f"raw SQLite batches    {result['raw']:>10,.0f} rows/s (bare check-ins table)")
    print(f"raw SQLite, hub db    {result['raw_hub']:>10,.0f} rows/s (hub schema: indexes + rollup triggers)")
    print(f"ratios: {rate / bare['rate']:.2f}× the bare batched endpoint (aim 1×); "
          f"{rate / naive['rate']:.1f}× naive (target ≥ 5×); {rate / result['raw']:.0%} of raw bare "
          f"(target ≥ 40%); {rate / result['raw_hub']:.0%} of raw into the hub schema")


def machine() -> str:
    """What a figure depends on besides the code, for the first line a bench prints."""
    return (f"Python {platform.python_version()} · SQLite {sqlite3.sqlite_version} · {os.cpu_count()} CPUs · "
            f"{platform.platform()} · load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated check-in counts (e.g. 100000,1000000)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--cpu", action="store_true",
                        help="only the CPU time per check-in of each half, in process (see measure_cpu)")
    parser.add_argument("--profile", action="store_true",
                        help="with --cpu: cProfile the hub's request thread and writer, top functions by own time")
    parser.add_argument("--push-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.push_child:
        push_child(args.push_child)
        return
    print(f"fieldsync sync bench · {machine()}")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="fieldsync-sync-bench-"))
    try:
        for count in (int(n) for n in args.sizes.split(",")):
            if args.cpu:
                from sync_cpu import measure_cpu

                cpu = measure_cpu(count, workdir, args.profile)
                print(f"{count:,} check-ins in {cpu['batches']} batches, CPU per check-in: node reads and encodes "
                      f"{cpu['node_us']:.1f} us; hub {cpu['hub_us']:.1f} us (checks {cpu['checks_us']:.1f}, "
                      f"writer and parsing {cpu['hub_us'] - cpu['checks_us']:.1f}); then the rollups "
                      f"{cpu['fold_us']:.1f} us")
                continue
            report(run(count, workdir))
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
