"""The baselines of bench/sync_bench.py and bench/link_bench.py, Flask + waitress + SQLite (WAL,
synchronous=FULL):

- `POST /checkins`: one check-in per HTTP request, as ODK Collect and pretix upload, one commit each;
- `POST /records/<kind>`: any other record as a JSON document, one per request (the link bench);
- `POST /batch`: the bare batched endpoint, a gzip JSON list of rows inserted in one transaction,
  with no validation, outbox, dedupe or acknowledgement bookkeeping (what fieldsync's push is
  measured against: the same batches without its checks).

    python bench/naive_server.py DB_FILE PORT
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import sys
import threading

import waitress
from flask import Flask, request

COLUMNS = ("id", "session_id", "person_id", "badge_key", "badge_generation", "direction", "scanned_at",
           "hlc", "node", "station", "method", "flags")


def make_app(db_file: str) -> Flask:
    app = Flask("naive")
    local = threading.local()

    def db() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(db_file, isolation_level=None, timeout=30)
            local.conn.execute("PRAGMA synchronous = FULL")
        return local.conn

    with sqlite3.connect(db_file) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"CREATE TABLE IF NOT EXISTS checkins ({', '.join(COLUMNS)}, PRIMARY KEY (id))")
        conn.execute("CREATE TABLE IF NOT EXISTS records (kind TEXT, id TEXT, body TEXT, PRIMARY KEY (kind, id))")

    @app.get("/health")
    def health():
        return {"ok": True}

    @app.post("/checkins")
    def checkin():
        row = request.get_json()
        db().execute(f"INSERT OR IGNORE INTO checkins VALUES ({', '.join('?' * len(COLUMNS))})",
                     [row.get(c) for c in COLUMNS])
        return {"ok": True, "id": row["id"]}, 201

    @app.post("/records/<kind>")
    def record(kind):
        row = request.get_json()
        db().execute("INSERT OR IGNORE INTO records VALUES (?, ?, ?)", [kind, str(row["id"]), request.get_data()])
        return {"ok": True, "id": row["id"]}, 201

    @app.post("/batch")
    def batch():
        rows = json.loads(gzip.decompress(request.get_data()))
        conn = db()
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO checkins VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        conn.execute("COMMIT")
        return {"ok": True, "rows": len(rows)}, 201

    return app


if __name__ == "__main__":
    waitress.serve(make_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), threads=8, _quiet=True)
