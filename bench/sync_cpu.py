"""bench/sync_bench.py --cpu: CPU per check-in of the push's two halves, in one process.

    python bench/sync_bench.py --cpu                # 100k check-ins
    python bench/sync_bench.py --cpu --profile      # and a cProfile of the hub's two threads
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from sync_bench import free_port, make_hub, make_node, start_server, stop

from fieldsync.parts import open_store


def measure_cpu(count: int, workdir: Path, profile: bool = False) -> dict:
    """CPU time per check-in of the push's two halves, in this one process and one after the other
    (far steadier than the end-to-end rate on a shared machine): the node reading and encoding its
    outbox into batches, and the hub decoding, checking and merging them (its request thread's
    checks and its writer thread together). No HTTP, no waiting on the other side."""
    import cProfile
    import gzip
    import pstats

    from fieldsync.reports import rollup
    from fieldsync.sync.downstream import receive
    from fieldsync.sync.upstream import push as push_sync

    folder = workdir / f"cpu{count}"
    folder.mkdir(parents=True)
    hub = make_hub(folder)
    port = free_port()
    server = start_server([sys.executable, "-m", "fieldsync", "--instance", str(hub), "serve", "--hub",
                           "--port", str(port)], port, folder / "hub.log")
    try:
        node, _ = make_node(folder, hub, f"http://127.0.0.1:{port}", count)   # enrolls over HTTP
    finally:
        stop(server)
    bodies = []
    with open_store(node / "fieldsync.db") as store:
        stream = push_sync.load_stream(store.db)
        after = stream.acked
        started = time.process_time()
        while True:
            stream.acked = after
            batch, body = push_sync._read(store.db, stream, 5_000, 4 * 1024 * 1024)
            if batch is None:
                break
            bodies.append(body)
            after = batch.to_seq
        node_cpu = time.process_time() - started
    with sqlite3.connect(hub / "fieldsync.db") as conn:
        node_id, name, origin = conn.execute("SELECT id, name, origin FROM nodes").fetchone()
    checks = [0.0]
    prepare = receive.prepare

    def timed_prepare(body, db):
        begun = time.thread_time()
        try:
            return prepare(body, db)
        finally:
            checks[0] += time.thread_time() - begun

    receive.prepare = timed_prepare
    profiles = (cProfile.Profile(), cProfile.Profile()) if profile else None   # request thread, writer
    try:
        with open_store(hub / "fieldsync.db", hub=True) as store:   # tuned as `serve --hub` tunes it
            if profiles:
                profiles[0].enable()
                store.write(lambda db: profiles[1].enable())   # a profile covers the thread that enables it
            started = time.process_time()
            for body in bodies:
                receive.receive(store, {"id": node_id, "name": name, "origin": origin},
                                json.loads(gzip.decompress(body)))
            hub_cpu = time.process_time() - started
            if profiles:
                store.write(lambda db: profiles[1].disable())
                profiles[0].disable()
                for label, prof in zip(("request thread (decode, checks)", "writer (merge, insert, commit)"),
                                       profiles):
                    print(f"-- cProfile of the hub's {label}, by own time --")
                    pstats.Stats(prof).sort_stats("tottime").print_stats(14)
            rollup.current(store)   # what the hub's idle writer does after the answers (decision 0016)
            fold_cpu = time.process_time() - started - hub_cpu
    finally:
        receive.prepare = prepare
    shutil.rmtree(folder)
    return {"count": count, "node_us": node_cpu / count * 1e6, "hub_us": hub_cpu / count * 1e6,
            "fold_us": fold_cpu / count * 1e6,
            "checks_us": checks[0] / count * 1e6, "batches": len(bodies)}
