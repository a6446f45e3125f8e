"""Bytes on the wire per record, of every kind, both ways (issue 17), with protocol 1 beside it.

One hub (`fieldsync serve --hub`, a child process) and two laptops of one town, over loopback:

1. **push**: laptop A holds the demo town grown to `--people` people (their sessions, check-ins and
   fitness-form submissions, as `fieldsync demo` makes them). Before pushing, every batch it would
   send is encoded in this process both ways, protocol 2 and protocol 1 (every person whole), and
   each kind's part gzipped alone: bytes per record by kind. Then A pushes.
2. **first pull**: laptop B, new in the same town, pulls everything (A's people and sessions): bytes
   both ways and time, per record.
3. **a day**: A edits `--edits` people, adds 3 sessions and scans `--scans` check-ins (people it
   pulled back by then, so they travel by reference); A pushes, B pulls what changed: bytes and time.

    python bench/wire_bench.py                      # 3,000 people: about a minute
    python bench/wire_bench.py --people 300         # a quick run
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sync_bench import free_port, machine, make_hub, start_server, stop

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.records import checkins, people, places, sessions
from fieldsync.store import Store
from fieldsync.sync import batches, columnar, enrollment, entities
from fieldsync.sync.upstream import node as node_sync
from fieldsync.sync.upstream.pull import pull
from fieldsync.sync.upstream.push import load_stream, push

TOWN = demo.DEMO_TOWN
# People merge at the hub one change at a time (a savepoint, the policy, field-by-field HLCs): on a
# loaded 2-core machine batches of 5,000 and of 1,000 people changes, three in flight, outlasted
# the client's 60 s read timeout (the third waits for the two before it). Batch sizes are issue 17's
# adaptive batches (another change); this bench pushes 300 changes at a time.
PUSH_BATCH = 300


def laptop(folder: Path, hub: Path, hub_url: str, name: str, people_count: int | None) -> Path:
    """An enrolled laptop of TOWN; with people_count, the demo town grown to about that many people."""
    instance = folder / name
    config.save(instance, mode="node", town=TOWN)
    with open_store(instance / "fieldsync.db") as store:
        demo.places_and_accounts(store)
        if people_count:
            villages = len(places.children(store, TOWN, "village"))
            demo.load(store, people_per_village=math.ceil(people_count / villages))
    with open_store(hub / "fieldsync.db") as hub_store:
        _, code = enrollment.add_node(hub_store, TOWN, name)
    with open_store(instance / "fieldsync.db") as store:
        enrollment.enroll(store, instance, hub_url, code)
    return instance


def bytes_by_kind(store: Store) -> dict[str, dict]:
    """Each kind's gzipped share of the batches the push would send, in protocol 2 and protocol 1."""
    stream = load_stream(store.db)
    out: dict[str, dict] = {}
    after = stream.acked
    while batch := batches.read_batch(store.db, after, max_changes=PUSH_BATCH, max_bytes=4 * 1024 * 1024,
                                      replica=stream.replica, hub_acked=stream.stream_acked):
        old = batches.read_batch(store.db, after, max_changes=PUSH_BATCH, max_bytes=4 * 1024 * 1024,
                                 replica=stream.replica)
        for name, block in batch.body["blocks"].items():
            row = out.setdefault(name, {"records": 0, "v2": 0, "v1": 0})
            row["records"] += block["n"]
            row["v2"] += _gz(block)
            row["v1"] += _gz(_protocol_1(store, name, old.body["blocks"][name]))
        kinds: dict[str, list] = {}
        for change in batch.body["changes"]:
            kinds.setdefault(change["entity"], []).append(change)
        for name, changes in kinds.items():
            row = out.setdefault(name, {"records": 0, "v2": 0, "v1": 0})
            row["records"] += len(changes)
            row["v2"] += _gz(changes)
            row["v1"] += _gz(changes)
        after = batch.to_seq
    return out


def _protocol_1(store: Store, name: str, block: dict) -> dict:
    """The same block as a protocol 1 laptop encodes it."""
    entity = entities.get(name)
    seqs, decoded = columnar.decode(block, entity.columns)
    from fieldsync.sync import column_checks

    values, _bad = column_checks.validate(seqs, decoded, entity.schema())
    return columnar.encode(seqs, dict(zip(entity.columns, values)), entity.columns)


def _gz(value) -> int:
    return len(gzip.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 6))


def timed(step, store: Store, instance: Path) -> dict:
    client = node_sync.client_for(instance)
    started = time.perf_counter()
    result = step(store, client)
    return {"seconds": time.perf_counter() - started, "sent": client.bytes_sent,
            "received": client.bytes_received, "result": result}


def a_day(store: Store, edits: int, scans: int, seed: int = 17) -> int:
    """A day at the town laptop: people edited, sessions held, people scanned in and out."""
    rng = random.Random(seed)
    roster = [p["id"] for p in store.query("SELECT id FROM people WHERE town = ? ORDER BY id", [TOWN])]
    for person_id in rng.sample(roster, edits):
        people.modify(store, person_id, {"phone": f"13{rng.randrange(10 ** 9):09d}"}, actor="bench")
    made = 0
    for hour in (9, 14, 19):
        starts = time.strftime("%Y-%m-%dT", time.localtime()) + f"{hour:02d}:00"
        session = sessions.create(store, {"kind": "volunteer", "title": "全民健身志愿服务", "mode": "offline",
                                          "starts_at": starts, "town": TOWN, "hours": 2.0}, actor="bench")
        attendees = rng.sample(roster, min(scans // 6, len(roster)))
        for direction in ("in", "out"):
            for person_id in attendees:
                checkins.check_in(store, session_id=session["id"], person_id=person_id, direction=direction,
                                  station=f"kiosk-{rng.randint(1, 4)}", method="qr")
                made += 1
    return made


def run(people_count: int, edits: int, scans: int, workdir: Path) -> None:
    hub = make_hub(workdir)
    port = free_port()
    server = start_server([sys.executable, "-m", "fieldsync", "--instance", str(hub), "serve", "--hub",
                           "--port", str(port)], port, workdir / "hub.log")
    url = f"http://127.0.0.1:{port}"
    try:
        a = laptop(workdir, hub, url, "a", people_count)
        b = laptop(workdir, hub, url, "b", None)
        with open_store(a / "fieldsync.db") as store:
            kinds = bytes_by_kind(store)
            pushed = timed(functools.partial(push, max_changes=PUSH_BATCH), store, a)
        with open_store(b / "fieldsync.db") as store:
            first = timed(pull, store, b)
        with open_store(a / "fieldsync.db") as store:
            timed(pull, store, a)                     # A's people come back from the hub: by reference now
            scanned = a_day(store, edits, scans)
            day_kinds = bytes_by_kind(store)
            day_push = timed(functools.partial(push, max_changes=PUSH_BATCH), store, a)
        with open_store(b / "fieldsync.db") as store:
            day_pull = timed(pull, store, b)
    finally:
        stop(server)
    report(kinds, pushed, first, day_kinds, day_push, day_pull, scanned)


def report(kinds, pushed, first, day_kinds, day_push, day_pull, scanned) -> None:
    print("\n== push: gzipped bytes per record, by kind (each kind's part of the batches alone) ==")
    print(f"{'kind':<22}{'records':>9}{'protocol 2':>12}{'protocol 1':>12}")
    for label, table in (("first push", kinds), ("a day's push", day_kinds)):
        for name, row in sorted(table.items()):
            print(f"{label + ': ' + name:<22}{row['records']:>9,}{row['v2'] / row['records']:>12.1f}"
                  f"{row['v1'] / row['records']:>12.1f}")
    for label, step, count in (("first push", pushed, pushed["result"].pushed),
                               ("a day's push", day_push, day_push["result"].pushed),
                               ("first full pull", first, first["result"].pulled),
                               ("a day's pull", day_pull, day_pull["result"].pulled)):
        total = step["sent"] + step["received"]
        print(f"{label:<16} {count:>7,} records  {step['seconds']:6.2f} s  {total:>10,} bytes both ways "
              f"({step['sent']:,} up, {step['received']:,} down)  {total / max(count, 1):7.1f} bytes/record")
    print(f"(a day: {scanned:,} check-ins, its people by reference)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--edits", type=int, default=30, help="people edited in the day")
    parser.add_argument("--scans", type=int, default=600, help="check-ins in the day (in and out)")
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    print(f"fieldsync wire bench · {machine()}")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="fieldsync-wire-bench-"))
    try:
        run(args.people, args.edits, args.scans, workdir)
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
