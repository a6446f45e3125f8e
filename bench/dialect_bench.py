"""Dialect bench (decision 0300): the hub merge's hot statements through our SQL shim and through
SQLAlchemy Core, on SQLite and on PostgreSQL, with the same data.

Each block is what the merge writes for one pushed block of check-ins, in one transaction:
10,000 rows into `checkins` (the hub's table with its three indexes; the per-scan rollup trigger
set aside, as rollup.deferred does during a merge) and the per-block bookkeeping: the batch's row
in `batches` (an upsert), the stream's high-water mark and the node's counters (updates), the
block's range in `rollup_pending` (an insert). On PostgreSQL both ways take the writer's advisory
lock first, as every write of a hub does.

- shim: what the program runs. On SQLite the Store and sqlite3's executemany; on PostgreSQL
  PgStore.write and PgDatabase (SQLite's dialect translated; a plain INSERT's executemany sent as
  COPY). "shim, no COPY" is the same statements through psycopg's executemany, to show what the
  COPY is worth.
- SQLAlchemy Core: Table objects reflected from the same database; `connection.execute(insert(t),
  list of dicts)` (SQLAlchemy's "insertmanyvalues": multi-row INSERTs), the upsert with the
  dialect's own insert().on_conflict_do_update, on the psycopg 3 driver (postgresql+psycopg://).

Each way writes into a fresh hub database of its own (the schema the migrations make). Figures
are rows/s of wall time over all blocks, and the ratio to the shim's.

    python bench/dialect_bench.py --database postgresql://postgres@127.0.0.1:55433/postgres
    python bench/dialect_bench.py --blocks 3                 # a quick run, SQLite only
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pg_bench
from sync_bench import COLUMNS, machine, town_checkins

from fieldsync.parts import open_store
from fieldsync.reports.schema import PER_SCAN_TRIGGER
from fieldsync.store import new_id, triggers
from fieldsync.store.clock import utc_now

NODE, REPLICA = "bench-node", "bench-replica"
INSERT = f"INSERT INTO checkins ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
BATCH_UPSERT = ("INSERT OR REPLACE INTO batches (node_id, replica, from_seq, to_seq, batch_id, digest, first_key, ack,"
                " source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
STREAM = "UPDATE streams SET high_water = ? WHERE node_id = ? AND replica = ?"
NODE_COUNTS = "UPDATE nodes SET records_received = records_received + ?, last_push = ? WHERE id = ?"
PENDING = "INSERT INTO rollup_pending (after, upto) VALUES (?, ?)"


def blocks_of(count: int, size: int) -> list[list[tuple]]:
    rows = town_checkins(count * size, "bench-origin", seed=11)
    return [rows[k * size:(k + 1) * size] for k in range(count)]


def bookkeeping(k: int, block: list[tuple]) -> dict:
    """The values of one block's bookkeeping statements."""
    first = k * len(block) + 1
    return {"from_seq": first, "to_seq": first + len(block) - 1, "batch_id": new_id(), "digest": f"{k:064x}",
            "first_key": block[0][0], "ack": json.dumps({"accepted": len(block)}), "source": "push",
            "received_at": utc_now(), "accepted": len(block)}


def fresh_hub(folder: Path, name: str, admin_url: str | None) -> tuple[Path, str | None]:
    """A hub database of its own: the migrations' schema, one enrolled node and its stream, the
    per-scan rollup trigger set aside."""
    database = pg_bench.fresh_database(admin_url, name) if admin_url else None
    db_file = folder / name / "fieldsync.db"
    with open_store(db_file, hub=True, database=database) as store:
        def setup(db):
            triggers.set_aside(db, "rollup_", PER_SCAN_TRIGGER)
            db.execute("INSERT INTO nodes (id, name, town, created_at) VALUES (?, 'bench', '371002100000', ?)",
                       [NODE, utc_now()])
            db.execute("INSERT INTO streams (node_id, replica, high_water, started_at) VALUES (?, ?, 0, ?)",
                       [NODE, REPLICA, utc_now()])
        store.write(setup)
    return db_file, database


# -- the shim ------------------------------------------------------------------------------------
def shim_block(db, k: int, block: list[tuple], copy: bool = True) -> None:
    if copy or not hasattr(db, "native"):
        db.conn.executemany(INSERT, block)
    else:   # the same INSERT through psycopg's executemany, as a statement that is not COPY
        from fieldsync.store import dialect

        text = dialect.postgres(INSERT)
        db._run(lambda conn: conn.cursor().executemany(text, block))
    b = bookkeeping(k, block)
    db.execute(BATCH_UPSERT, [NODE, REPLICA, b["from_seq"], b["to_seq"], b["batch_id"], b["digest"], b["first_key"],
                              b["ack"], b["source"], b["received_at"]])
    db.execute(STREAM, [b["to_seq"], NODE, REPLICA])
    db.execute(NODE_COUNTS, [b["accepted"], b["received_at"], NODE])
    db.execute(PENDING, [b["from_seq"] - 1, b["to_seq"]])


def through_shim(db_file: Path, database: str | None, blocks: list[list[tuple]], copy: bool = True) -> float:
    with open_store(db_file, hub=True, database=database) as store:
        started = time.perf_counter()
        for k, block in enumerate(blocks):
            store.write(lambda db, k=k, block=block: shim_block(db, k, block, copy))
        return time.perf_counter() - started


# -- SQLAlchemy Core -----------------------------------------------------------------------------
def through_sqlalchemy(db_file: Path, database: str | None, blocks: list[list[tuple]]) -> float:
    from sqlalchemy import MetaData, create_engine, text, update
    from sqlalchemy.dialects import postgresql, sqlite

    url = database.replace("postgresql://", "postgresql+psycopg://", 1) if database else f"sqlite:///{db_file}"
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine, only=["checkins", "batches", "streams", "nodes", "rollup_pending"])
    checkins, batches, streams, nodes, pending = (meta.tables[n] for n in
                                                  ("checkins", "batches", "streams", "nodes", "rollup_pending"))
    upsert = (postgresql if database else sqlite).insert(batches)
    upsert = upsert.on_conflict_do_update(index_elements=["node_id", "replica", "from_seq"],
                                          set_={c: upsert.excluded[c] for c in ("to_seq", "batch_id", "digest",
                                                                                "first_key", "ack", "source",
                                                                                "received_at")})
    started = time.perf_counter()
    for k, block in enumerate(blocks):
        b = bookkeeping(k, block)
        with engine.begin() as conn:
            if database:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": 0x6669656C64})
            conn.execute(checkins.insert(), [dict(zip(COLUMNS, row)) for row in block])
            conn.execute(upsert, {"node_id": NODE, "replica": REPLICA, **{c: b[c] for c in (
                "from_seq", "to_seq", "batch_id", "digest", "first_key", "ack", "source", "received_at")}})
            conn.execute(update(streams).where(streams.c.node_id == NODE, streams.c.replica == REPLICA)
                         .values(high_water=b["to_seq"]))
            conn.execute(update(nodes).where(nodes.c.id == NODE)
                         .values(records_received=nodes.c.records_received + b["accepted"], last_push=b["received_at"]))
            conn.execute(pending.insert().values(after=b["from_seq"] - 1, upto=b["to_seq"]))
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


# -- the run -------------------------------------------------------------------------------------
def run(folder: Path, blocks: list[list[tuple]], admin_url: str | None) -> list[tuple[str, float]]:
    """(way, seconds) on one backend, each way into a fresh hub database."""
    backend = "pg" if admin_url else "sqlite"
    ways = [("shim", lambda f, d: through_shim(f, d, blocks))]
    if admin_url:
        ways.append(("shim, no COPY", lambda f, d: through_shim(f, d, blocks, copy=False)))
    ways.append(("SQLAlchemy Core", lambda f, d: through_sqlalchemy(f, d, blocks)))
    out = []
    for n, (way, measure) in enumerate(ways):
        name = f"fieldsync_dialect_bench_{backend}_{n}"
        try:
            db_file, database = fresh_hub(folder, name, admin_url)
            out.append((way, measure(db_file, database)))
        finally:
            if admin_url:
                pg_bench.drop_database(admin_url, name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=20, help="blocks of check-ins each way writes (default 20)")
    parser.add_argument("--block", type=int, default=10_000, help="check-ins a block (default 10,000)")
    parser.add_argument("--database", help="also on PostgreSQL: a server address that may create databases")
    args = parser.parse_args()
    print(f"fieldsync dialect bench · {machine()}")
    if args.database:
        print(pg_bench.describe(args.database))
    import sqlalchemy

    print(f"SQLAlchemy {sqlalchemy.__version__}; {args.blocks} blocks of {args.block:,} check-ins each way, "
          "one transaction a block")
    blocks = blocks_of(args.blocks, args.block)
    rows = args.blocks * args.block
    folder = Path(tempfile.mkdtemp(prefix="fieldsync-dialect-bench-"))
    try:
        for label, admin_url in [("SQLite", None)] + ([("PostgreSQL", args.database)] if args.database else []):
            figures = run(folder, blocks, admin_url)
            shim = figures[0][1]
            for way, seconds in figures:
                print(f"{label:<11} {way:<16} {rows / seconds:>10,.0f} rows/s  {seconds:>7.2f} s  "
                      f"{shim / seconds:>5.2f}× the shim's rate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
