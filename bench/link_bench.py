"""Link bench (issue 17): a town's week synced over a slow, far link that may cut connections.

A shaping proxy on loopback (tests/sync/proxy.py ShapedLink) paces each direction to a byte
rate, adds a one-way latency per connection, and on the cutting link resets each connection
after a random number of bytes. Through it, from a full outbox to "all acknowledged and pulled"
(`fieldsync sync` as the CLI runs it, in a node process of its own; the hub is
`fieldsync serve --hub`):
- a week of a town: 10,000 check-ins at 20 sessions, 300 people changes (100 registered,
  200 edited), the 20 sessions, 200 fitness-form submissions;
- on the clean link, then on the cutting one, each from the same copy of both databases.
It prints time and bytes both ways, the link's own limit (the bytes at the link's rate plus
four round trips: the connection, the first batch answered alone, the last answer, the pull)
and, for the cutting link, cuts and batches sent again. Then the same records, one request
each (as ODK Collect and pretix upload), to bench/naive_server.py through the same link, for
`--naive-seconds`, projected to the whole week; and, when Node and the npm packages are in the
bench-only folder bench/.peer/, PouchDB replicating a sample of them as documents to a
CouchDB-protocol server (bench/pouch_peer.js) through the same link, projected likewise; and the
ratios.

    python bench/link_bench.py                                  # the week: about 6 minutes
    python bench/link_bench.py --checkins 1000 --people 30 --sessions 4 --forms 20 --naive-seconds 3
"""

from __future__ import annotations

import argparse
import json
import os
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
sys.path.insert(0, str(ROOT / "bench"))

import requests
from sync_bench import _ulid_at, free_port, machine, make_hub, start_server, stop

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.records import checkins as checkin_records
from fieldsync.store import Store, new_id
from fieldsync.sync import columnar
from tests.sync.proxy import ShapedLink

TOWN = "371002100000"
ROSTER = 3_000                 # the town's people, at both ends already
FORM = "fitness_monitoring"
ANSWERS = {"measured_at": "2025-05-20", "age_group": "senior", "height_cm": "163.5", "weight_kg": "58",
           "grip_strength_kg": "24.6", "sit_and_reach_cm": "-4", "one_leg_stand_s": "9.5",
           "chronic_condition": "true", "conditions": ["hypertension", "joint"]}
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "芳伟娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


# -- the week, set up once (not timed) ---------------------------------------------------------------
def build(folder: Path, args) -> tuple[Path, Path]:
    """A hub and an enrolled town laptop whose outbox holds the week; returns their folders."""
    from fieldsync.sync import enrollment

    hub = make_hub(folder)
    node = folder / "node"
    config.save(node, mode="node", town=TOWN)
    with open_store(node / "fieldsync.db") as store:
        demo.places_and_accounts(store)
    roster = _seed_roster([hub / "fieldsync.db", node / "fieldsync.db"], args.seed)
    port = free_port()
    server = start_server([sys.executable, "-m", "fieldsync", "--instance", str(hub), "serve", "--hub",
                           "--port", str(port)], port, folder / "hub-setup.log")
    try:
        with open_store(hub / "fieldsync.db") as hub_store:
            _, code = enrollment.add_node(hub_store, TOWN, "张村镇办公室")
        with open_store(node / "fieldsync.db") as store:
            enrollment.enroll(store, node, f"http://127.0.0.1:{port}", code)
            _the_week(store, roster, args)
    finally:
        stop(server)
    return hub, node


def _seed_roster(databases: list[Path], seed: int) -> list[str]:
    rng = random.Random(seed)
    people = [(new_id(), rng.choice(NAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)) for _ in range(ROSTER)]
    for db_file in databases:
        with closing(sqlite3.connect(db_file)) as conn, conn:
            conn.executemany("INSERT INTO people (id, name, town, level, status, badge_generation, field_hlcs)"
                             " VALUES (?, ?, ?, 'level3', 'active', 1, '{}')", [(p, n, TOWN) for p, n in people])
    return [p for p, _ in people]


def _the_week(store: Store, roster: list[str], args) -> None:
    from fieldsync.forms import submissions
    from fieldsync.records import people, sessions

    rng = random.Random(args.seed)
    new = [people.register(store, {"name": rng.choice(NAMES) + rng.choice(GIVEN), "gender": rng.choice(["male", "female"]),
                                   "birth_year": rng.randint(1950, 2000), "phone": f"13{rng.randint(0, 999999999):09d}",
                                   "town": TOWN, "level": "level3"}, actor="staff")["id"]
           for _ in range(args.people // 3)]
    for person in rng.sample(roster, args.people - len(new)):
        people.modify(store, person, {"phone": f"15{rng.randint(0, 999999999):09d}"}, actor="staff")
    week = [sessions.create(store, {"kind": "training", "title": f"社会体育指导员培训第{i + 1}期",
                                    "starts_at": f"2025-06-{2 + i % 5:02d}T09:00:00", "town": TOWN,
                                    "form_id": FORM}, actor="staff")["id"]
            for i in range(args.sessions)]
    _fill_checkins(store, week, roster + new, args.checkins, rng)
    for _ in range(args.forms):
        submissions.submit(store, FORM, rng.choice(week), rng.choice(roster), ANSWERS, actor="trainer")


def _fill_checkins(store: Store, week: list[str], everyone: list[str], count: int, rng: random.Random) -> None:
    """Scans as records/checkins.py writes them, in bulk: each session's people in, most of them out."""
    columns = checkin_records.CHECKIN_COLUMNS
    node, rows, now_ms = store.node_id, [], 1_748_840_000_000
    per_session = -(-count // len(week))
    for session in week:
        now_ms += rng.randint(3_600_000, 86_400_000)
        attendees = rng.sample(everyone, min(len(everyone), int(per_session / 1.7) + 1))
        scans = [(p, "in") for p in attendees] + [(p, "out") for p in attendees if rng.random() < 0.7]
        for person, direction in scans[:per_session]:
            now_ms += rng.randint(200, 4_000) if direction == "in" else rng.randint(10, 400)
            rows.append((_ulid_at(now_ms, rng), session, person, None, None, direction,
                         columnar.iso_ms(now_ms - rng.randint(0, 3)), f"{now_ms:016d}-00000-{node}", node,
                         f"station-{rng.randint(1, 4)}", "manual", ""))
    rows = rows[:count]

    def work(db) -> None:
        db.conn.executemany(f"INSERT INTO checkins ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
        db.conn.executemany("INSERT INTO changes (change_id, entity, record_id, op, hlc, payload, created_at)"
                       " VALUES (?, 'checkins', ?, 'upsert', ?, ?, '2025-06-01T00:00:00.000Z')",
                       [(new_id(), row[0], row[7], json.dumps(dict(zip(columns, row)), separators=(",", ":")))
                        for row in rows])
    store.write(work)


# -- one sync through a link --------------------------------------------------------------------------
def sync_child(instance: Path) -> None:
    """In the node's own process: sync as `fieldsync sync` does, print what it took."""
    from fieldsync.sync.link import KeepGoing
    from fieldsync.sync.upstream import node as node_sync

    with open_store(instance / "fieldsync.db") as store:
        started = time.perf_counter()
        summary = node_sync.sync(store, instance, keep_going=KeepGoing())
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "pushed": summary.push.pushed, "pulled": summary.pull.pulled,
                      "batches": summary.push.batches, "rejected": len(summary.push.rejected),
                      "cuts": summary.pacing.cuts, "resent": summary.pacing.resent, "tries": summary.tries}))


def run_fieldsync(template: Path, folder: Path, link_args: dict) -> dict:
    shutil.copytree(template, folder)
    hub, node = folder / "hub", folder / "node"
    port = free_port()
    server = start_server([sys.executable, "-m", "fieldsync", "--instance", str(hub), "serve", "--hub",
                           "--port", str(port)], port, folder / "hub.log")
    try:
        with ShapedLink(port, **link_args) as link:
            credentials = node / "hub_credentials.json"
            saved = json.loads(credentials.read_text())
            credentials.write_text(json.dumps({**saved, "hub_url": link.url}))
            child = subprocess.run([sys.executable, __file__, "--sync-child", str(node)], capture_output=True, check=False,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=1800)
            if child.returncode != 0:
                raise RuntimeError(f"sync failed: {child.stderr.decode()[-2000:]}")
            result = {**json.loads(child.stdout), "up": link.bytes_up, "down": link.bytes_down,
                      "link_cuts": link.cuts}
    finally:
        stop(server)
    _check_exactly_once(hub, node)
    return result


def _check_exactly_once(hub: Path, node: Path) -> None:
    """Every record of the week at the hub once, nothing quarantined, the outbox acknowledged."""
    with closing(sqlite3.connect(hub / "fieldsync.db")) as h, closing(sqlite3.connect(node / "fieldsync.db")) as n:
        for table in ("checkins", "submissions"):
            local = {r[0] for r in n.execute(f"SELECT id FROM {table}")}
            at_hub = [r[0] for r in h.execute(f"SELECT id FROM {table}")]
            assert len(at_hub) == len(set(at_hub)) and set(at_hub) >= local, table
        for table in ("people", "sessions"):
            local, at_hub = ({key: json.loads(hlcs) for key, hlcs in db.execute(
                f"SELECT id, field_hlcs FROM {table} WHERE town = ?", [TOWN])} for db in (n, h))
            assert local == at_hub, table   # every field's last change
        assert h.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] == 0
        top = n.execute("SELECT MAX(seq) FROM changes").fetchone()[0]
        assert n.execute("SELECT last_acked_seq FROM sync_state WHERE peer = 'hub'").fetchone()[0] == top


# -- the naive peer: one request per record -------------------------------------------------------------
def week_records(node: Path) -> list[tuple[str, dict]]:
    """The week's records as documents, as a per-record uploader sends them."""
    with closing(sqlite3.connect(node / "fieldsync.db")) as conn:
        conn.row_factory = sqlite3.Row
        records = [("checkins", dict(r)) for r in conn.execute("SELECT * FROM checkins")]
        records += [("submissions", dict(r)) for r in conn.execute("SELECT * FROM submissions")]
        records += [("sessions", dict(r)) for r in conn.execute("SELECT * FROM sessions")]
        changed = conn.execute("SELECT DISTINCT record_id FROM changes WHERE entity = 'people'").fetchall()
        records += [("people", dict(conn.execute("SELECT * FROM people WHERE id = ?", [r[0]]).fetchone()))
                    for r in changed]
    return records


def run_naive(records: list[tuple[str, dict]], folder: Path, link_args: dict, seconds: float) -> dict:
    folder.mkdir(parents=True)
    port = free_port()
    server = start_server([sys.executable, str(ROOT / "bench" / "naive_server.py"), str(folder / "naive.db"),
                           str(port)], port, folder / "naive.log")
    order = random.Random(5).sample(records, len(records))   # every kind in its share, from the start
    sent = retries = 0
    try:
        with ShapedLink(port, **link_args) as link:
            http = requests.Session()
            started = time.perf_counter()
            while sent < len(order) and time.perf_counter() - started < seconds:
                kind, record = order[sent]
                path = "/checkins" if kind == "checkins" else f"/records/{kind}"
                try:
                    http.post(link.url + path, json=record, timeout=30).raise_for_status()
                    sent += 1
                except requests.ConnectionError:   # a cut: the same record again (the server ignores a twin)
                    retries += 1
            took = time.perf_counter() - started
            up, down = link.bytes_up, link.bytes_down
    finally:
        stop(server)
    scale = len(records) / max(sent, 1)
    return {"sent": sent, "sample_seconds": took, "seconds": took * scale, "up": up * scale, "down": down * scale,
            "retries": retries}


# -- the PouchDB peer: replication to a CouchDB-protocol server, when bench/.peer holds it --------------
POUCH = ROOT / "bench" / "pouch_peer.js"


def pouchdb_here() -> bool:
    return bool(shutil.which("node")) and (ROOT / "bench" / ".peer" / "node_modules" / "express-pouchdb").exists()


def run_pouchdb(records: list[tuple[str, dict]], folder: Path, link_args: dict, most: int) -> dict:
    """Replicate a sample of `most` records (every kind in its share) and project to them all."""
    folder.mkdir(parents=True)
    sample = random.Random(5).sample(records, min(most, len(records)))
    docs = folder / "docs.json"
    docs.write_text(json.dumps([{**record, "_id": f"{kind}:{record['id']}"} for kind, record in sample]))
    server = subprocess.Popen(["node", str(POUCH), "serve"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        with ShapedLink(port, **link_args) as link:
            child = subprocess.run(["node", str(POUCH), "replicate", f"{link.url}/week", str(docs)],
                                   capture_output=True, text=True, check=False, timeout=3600)
            if child.returncode != 0:
                raise RuntimeError(f"PouchDB replication failed: {child.stderr[-2000:]}")
            result = json.loads(child.stdout)
            up, down = link.bytes_up, link.bytes_down
    finally:
        stop(server)
    assert result["doc_count"] == len(sample), result
    scale = len(records) / len(sample)
    return {**result, "sent": len(sample), "sample_seconds": result["seconds"], "seconds": result["seconds"] * scale,
            "up": up * scale, "down": down * scale}


# -- the report -------------------------------------------------------------------------------------------
def link_limit(result: dict, args) -> float:
    return max(result["up"] / args.up, result["down"] / args.down) + 4 * 2 * sum(args.latency) / 2


def line(name: str, result: dict, args, extra: str = "") -> None:
    limit = link_limit(result, args)
    print(f"{name:<22} {result['seconds']:>8.1f} s {result['up'] / 1000:>9.1f} {result['down'] / 1000:>9.1f}"
          f" {limit:>8.1f} s {result['seconds'] / limit:>6.2f}×  {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkins", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=300, help="people changes (a third new, the rest edits)")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--forms", type=int, default=200, help="fitness-form submissions")
    parser.add_argument("--up", type=float, default=64_000, help="bytes/s from the laptop to the hub")
    parser.add_argument("--down", type=float, default=128_000, help="bytes/s from the hub to the laptop")
    parser.add_argument("--latency", type=lambda t: tuple(float(x) for x in t.split(",")), default=(0.15, 0.3),
                        help="one-way latency range in seconds, drawn per connection")
    parser.add_argument("--cut", type=lambda t: tuple(int(x) for x in t.split(",")), default=(20_000, 80_000),
                        help="the cutting link resets each connection after this many bytes (a random number)")
    parser.add_argument("--naive-seconds", type=float, default=20, help="time box of each naive run (0: none)")
    parser.add_argument("--no-pouchdb", dest="pouchdb", action="store_false",
                        help="skip the PouchDB peer even when bench/.peer/ holds it")
    parser.add_argument("--pouchdb-records", type=int, default=1_000,
                        help="records PouchDB replicates (a sample of every kind), projected to the week")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--sync-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sync_child:
        sync_child(args.sync_child)
        return
    print(f"fieldsync link bench · {machine()}")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="fieldsync-link-bench-"))
    try:
        report(workdir, args)
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)


def report(workdir: Path, args) -> None:
    template = workdir / "template"
    build(template, args)
    total = args.checkins + args.people + args.sessions + args.forms
    clean = {"up": args.up, "down": args.down, "latency": args.latency, "seed": args.seed}
    cutting = {**clean, "cut": args.cut}
    print(f"a town's week: {args.checkins:,} check-ins, {args.people} people changes, {args.sessions} sessions, "
          f"{args.forms} form submissions ({total:,} records)")
    print(f"link: up {args.up / 1000:.0f} KB/s, down {args.down / 1000:.0f} KB/s, one-way latency "
          f"{args.latency[0] * 1000:.0f}-{args.latency[1] * 1000:.0f} ms; the cutting link resets each connection "
          f"after {args.cut[0] / 1000:.0f}-{args.cut[1] / 1000:.0f} KB")
    print(f"{'':<22} {'time':>10} {'up KB':>9} {'down KB':>9} {'limit':>10} {'×limit':>7}")
    runs = {"clean": run_fieldsync(template, workdir / "clean", clean),
            "cutting": run_fieldsync(template, workdir / "cutting", cutting)}
    for name, result in runs.items():
        line(f"fieldsync, {name}", result, args, f"{result['batches']} batches, {result['link_cuts']} cuts, "
             f"{result['resent']} batches resent, {result['tries']} tries")
    a, b = runs["clean"], runs["cutting"]
    print(f"cutting/clean: time {b['seconds'] / a['seconds']:.2f}× (target ≤ 2×), bytes "
          f"{(b['up'] + b['down']) / (a['up'] + a['down']):.2f}× (target ≤ 1.3×)")
    records = week_records(workdir / "clean" / "node")
    for name, link_args in (("clean", clean), ("cutting", cutting)):
        ours = runs[name]
        if args.pouchdb and pouchdb_here():
            pouch = run_pouchdb(records, workdir / f"pouchdb-{name}", link_args, args.pouchdb_records)
            line(f"PouchDB, {name}", pouch, args, f"projected from {pouch['sent']:,} documents in "
                 f"{pouch['sample_seconds']:.0f} s, {pouch['tries']} tries")
            ratios("PouchDB", name, pouch, ours)
        if args.naive_seconds:
            naive = run_naive(records, workdir / f"naive-{name}", link_args, args.naive_seconds)
            line(f"naive 1 req/rec, {name}", naive, args, f"projected from {naive['sent']:,} records in "
                 f"{naive['sample_seconds']:.0f} s, {naive['retries']} resent")
            ratios("naive", name, naive, ours)
    if args.pouchdb and not pouchdb_here():
        print("PouchDB: not run (needs node and `npm install pouchdb pouchdb-adapter-memory express express-pouchdb`"
              " in bench/.peer/)")


def ratios(peer: str, name: str, theirs: dict, ours: dict) -> None:
    print(f"  {peer}/fieldsync, {name}: time {theirs['seconds'] / ours['seconds']:.1f}×, bytes "
          f"{(theirs['up'] + theirs['down']) / (ours['up'] + ours['down']):.1f}×")


if __name__ == "__main__":
    main()
