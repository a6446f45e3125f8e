"""Check-in benchmark (issue 3, DESIGN §9): 50 stations scanning against a running `fieldsync serve`.

One run on one machine prints:
- closed loop: every station scans again as soon as its answer arrives -> scans/s;
- open loop: 200 scans/s offered from 50 stations on a fixed schedule -> p50/p99 scan→ack
  latency, counted from the moment each scan was due, so a slow answer also delays (and
  charges) the scans queued behind it (no coordinated omission);
- baselines measured in the same run: raw SQLite single-row commits with synchronous=FULL,
  and a plain Flask + waitress endpoint committing one row per request, driven by the same
  two loops.

The load generator is this process (asyncio, one keep-alive socket per station, plain HTTP/1.1
written by hand so the client stays cheap); each server is a child process. On a 2-core machine
the generator and the server share the cores, so the figures are what a laptop serving its own
stations sees. Each station is a real fieldsync station with its own bearer token, as phones and
scanners use. Every scan is a fresh check-in (a station walks its people in, then out), and the
run fails unless the database holds exactly the scans answered 201.

    python bench/checkin_bench.py                 # about a minute
    python bench/checkin_bench.py --seconds 20 --stations 50 --rate 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ulid import ULID

CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")
TOY_SCHEMA = ("CREATE TABLE IF NOT EXISTS scans (id TEXT PRIMARY KEY, session_id TEXT, code TEXT,"
              " direction TEXT, station TEXT, at TEXT)")


# -- what a station sends -------------------------------------------------------------------
@dataclass
class Station:
    """One scanning station: its people, walked in, then out, then in again: every scan records."""

    name: str
    badges: list[str]
    session_id: str
    path: str
    headers: str
    sent: int = 0

    def next_request(self) -> bytes:
        badge = self.badges[self.sent % len(self.badges)]
        direction = "in" if (self.sent // len(self.badges)) % 2 == 0 else "out"
        self.sent += 1
        body = json.dumps({"id": str(ULID()), "session": self.session_id, "code": badge,
                           "direction": direction, "station": self.name}).encode()
        return (f"POST {self.path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                f"{self.headers}Content-Length: {len(body)}\r\n\r\n").encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one request on a keep-alive connection; return the status once the whole answer is in."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(int(CONTENT_LENGTH.search(head).group(1)))
    return int(head[9:12])


# -- the two loops --------------------------------------------------------------------------
@dataclass
class LoopResult:
    latencies: list[float] = field(default_factory=list)   # seconds, scans inside the window
    statuses: dict[int, int] = field(default_factory=dict)  # every answer, warm-up included
    window: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    repeats: float = 0.0   # share of scans of a badge already scanned in this loop (checking out)

    def count(self, status: int, latency: float | None) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if latency is not None:
            self.latencies.append(latency)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.window

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def _closed_station(port: int, station: Station, measure: tuple[float, float], result: LoopResult):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start, stop = measure
    while True:
        sent = time.perf_counter()
        status = await exchange(reader, writer, station.next_request())
        done = time.perf_counter()
        result.count(status, done - sent if start <= sent and done <= stop else None)
        if done >= stop:
            break
    writer.close()


async def _open_station(port: int, station: Station, measure: tuple[float, float], interval: float,
                        phase: float, result: LoopResult):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start, stop = measure
    due = start - 1.0 + phase  # one second of warm-up before the window
    while due < stop:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        status = await exchange(reader, writer, station.next_request())
        done = time.perf_counter()
        result.count(status, done - due if due >= start else None)
        due += interval
    writer.close()


def run_loop(port: int, stations: list[Station], seconds: float, server_pid: int,
             rate: float | None = None) -> LoopResult:
    """Closed loop when rate is None, else open loop offering `rate` scans/s in total."""
    result = LoopResult(window=seconds)

    async def main():
        start = time.perf_counter() + 1.0
        window = (start, start + seconds)
        if rate is None:
            tasks = [_closed_station(port, s, window, result) for s in stations]
        else:
            interval = len(stations) / rate
            tasks = [_open_station(port, s, window, interval, i * interval / len(stations), result)
                     for i, s in enumerate(stations)]
        await asyncio.gather(*tasks)

    cpu = (process_cpu(server_pid), time.process_time())
    began = time.perf_counter()
    asyncio.run(main())
    wall = time.perf_counter() - began
    result.server_cpu = (process_cpu(server_pid) - cpu[0]) / wall
    result.client_cpu = (time.process_time() - cpu[1]) / wall
    result.repeats = sum(max(0, s.sent - len(s.badges)) for s in stations) / sum(s.sent for s in stations)
    return result


def process_cpu(pid: int) -> float:
    """CPU seconds a child has used (Linux /proc); 0 elsewhere, where the column reads 0%."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- servers --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(args: list[str], port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, *args], stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            # 50 stations from one address: above the per-client cap a LAN phone has
                            env={**os.environ, "FIELDSYNC_AUTO_SYNC_SECONDS": "0", "FIELDSYNC_CLIENT_CONNECTIONS": "0"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server did not listen within 60 s:\n{log.read_text()}")


def toy_server(db_path: str, port: int, threads: int) -> None:
    """The baseline: a plain Flask endpoint that inserts one row and commits (fsync) per request."""
    import waitress
    from flask import Flask, request

    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(db_path, isolation_level=None, timeout=30)
            local.conn.execute("PRAGMA journal_mode = WAL")
            local.conn.execute("PRAGMA synchronous = FULL")
        return local.conn

    app = Flask("toy")

    @app.post("/scan")
    def scan():
        body = request.get_json()
        connection().execute("INSERT INTO scans VALUES (?, ?, ?, ?, ?, datetime('now'))",
                             [body["id"], body["session"], body["code"], body["direction"], body["station"]])
        return {"ok": True}, 201

    connection().execute(TOY_SCHEMA)
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, ident="toy")


# -- the fieldsync instance under test ------------------------------------------------------
@dataclass
class Roster:
    badges: list[str]
    session_ids: list[str]       # one fresh session per loop
    station_tokens: list[str]    # one bearer token per station, as phones and scanners hold them


def build_instance(path: Path, people_count: int, station_count: int) -> Roster:
    """A demo town with extra people, a badge each, two sessions and the stations."""
    from fieldsync import config, demo
    from fieldsync.parts import open_store
    from fieldsync.records import badges, people, places, sessions, stations

    config.save(path, mode="node", town=demo.DEMO_TOWN)
    with open_store(path / "fieldsync.db") as store:
        demo.load(store)
        rng = random.Random(3)
        villages = [v["code"] for v in places.children(store, demo.DEMO_TOWN, "village")]
        rows = []
        for i in range(people_count):
            person = demo.demo_person(rng, demo.DEMO_TOWN, villages[i % len(villages)])
            person.pop("id_number")  # random ID numbers could collide; scans do not need them
            rows.append(person)
        registered = people.register_many(store, rows, actor="bench")
        codes = [badges.issue(store, person) for person in registered]
        made = [sessions.create(store, {"kind": "training", "title": f"压力测试 {loop}",
                                        "starts_at": "2025-06-01T09:00:00", "town": demo.DEMO_TOWN},
                                actor="bench") for loop in ("closed", "open")]
        tokens = [stations.create(store, f"扫码{i:02d}")[1] for i in range(station_count)]
    return Roster(codes, [s["id"] for s in made], tokens)


def make_stations(roster: Roster, session_id: str, path: str, authorised: bool) -> list[Station]:
    """Station i scans every n-th badge; against fieldsync it sends its own bearer token."""
    count = len(roster.station_tokens)
    return [Station(f"s{i:02d}", roster.badges[i::count], session_id, path,
                    f"Authorization: Bearer {token}\r\n" if authorised else "")
            for i, token in enumerate(roster.station_tokens)]


# -- baseline without HTTP ------------------------------------------------------------------
def raw_sqlite_rate(path: Path, seconds: float) -> float:
    """Rows/s, one INSERT + COMMIT per row, WAL + synchronous=FULL, on the same disk."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(TOY_SCHEMA)
    rows, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.execute("INSERT INTO scans VALUES (?, 'S', 'FS1:X', 'in', 's00', datetime('now'))", [str(ULID())])
        rows += 1
    elapsed = time.perf_counter() - start
    conn.close()
    return rows / elapsed


# -- one run --------------------------------------------------------------------------------
@dataclass
class Target:
    label: str
    port: int
    proc: subprocess.Popen
    stations: Callable[[str], list[Station]]   # session id -> fresh stations
    sessions: tuple[str, str]


def measure(target: Target, args) -> tuple[LoopResult, LoopResult]:
    closed = run_loop(target.port, target.stations(target.sessions[0]), args.seconds, target.proc.pid)
    opened = run_loop(target.port, target.stations(target.sessions[1]), args.seconds, target.proc.pid,
                      rate=args.rate)
    return closed, opened


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def report(rows: list[tuple[str, LoopResult, LoopResult]], raw_rate: float, args) -> None:
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
          f" SQLite {sqlite3.sqlite_version}, load average {args.load:.2f} before the run;"
          f" {args.stations} stations, {args.threads} waitress threads, {args.seconds:g} s per loop,"
          f" open loop offered {args.rate:g} scans/s")
    print(f"raw SQLite, one row per COMMIT, synchronous=FULL: {raw_rate:,.0f} rows/s\n")
    print(f"{'server':<28}{'closed scans/s':>15}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'open scans/s':>14}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'cpu srv/gen':>13}")
    for label, closed, opened in rows:
        print(f"{label:<28}{closed.rate:>15,.0f}{closed.percentile(50):>8.1f}{closed.percentile(99):>8.1f}"
              f"{opened.rate:>14,.0f}{opened.percentile(50):>8.1f}{opened.percentile(99):>8.1f}"
              f"{opened.percentile(100):>8.1f}{closed.server_cpu:>7.0%}/{closed.client_cpu:.0%}")
    print(f"\nscans of a badge already scanned in the loop (checking out): closed {rows[-1][1].repeats:.0%},"
          f" open {rows[-1][2].repeats:.0%}")
    ours, toy = rows[-1][1], rows[0][1]
    print(f"\nfieldsync closed loop = {ours.rate / toy.rate:.2f}x the plain endpoint,"
          f" {ours.rate / raw_rate:.2f}x raw single-row commits"
          f" (target >= 1,000 scans/s: {'met' if ours.rate >= 1000 else 'MISSED'});"
          f" open-loop p99 {rows[-1][2].percentile(99):.1f} ms"
          f" (target <= 15 ms: {'met' if rows[-1][2].percentile(99) <= 15 else 'MISSED'})")


def check_statuses(label: str, results: tuple[LoopResult, LoopResult], stored: int) -> None:
    answered = sum(r.statuses.get(201, 0) for r in results)
    other = {s: n for r in results for s, n in r.statuses.items() if s != 201}
    print(f"{label}: {answered} scans answered 201, {stored} rows stored, other answers {other or 'none'}")
    if other or stored != answered:
        raise SystemExit(f"{label}: the run did not record exactly the acknowledged scans")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window of each loop")
    parser.add_argument("--rate", type=float, default=200.0, help="scans/s offered in the open loop")
    parser.add_argument("--people", type=int, default=3000,
                        help="extra people on the roster: at about 600 scans/s each is scanned in, then out")
    parser.add_argument("--threads", type=int, help="waitress threads, both servers"
                        " (default: one per station, as config.py advises)")
    parser.add_argument("--toy-server", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.threads = args.threads or args.stations
    if args.toy_server:
        return toy_server(args.toy_server[0], int(args.toy_server[1]), args.threads)

    args.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    work = Path(tempfile.mkdtemp(prefix="fieldsync-bench-"))
    try:
        raw_rate = raw_sqlite_rate(work / "raw.db", min(args.seconds, 5))
        roster = build_instance(work / "node", args.people, args.stations)
        rows = [bench_toy(work, roster, args), bench_fieldsync(work, roster, args)]
        report(rows, raw_rate, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_toy(work: Path, roster: Roster, args) -> tuple[str, LoopResult, LoopResult]:
    port, db = free_port(), work / "toy.db"
    proc = start_server([__file__, "--threads", str(args.threads), "--toy-server", str(db), str(port)],
                        port, work / "toy.log")
    try:
        target = Target("plain Flask+waitress", port, proc,
                        lambda sid: make_stations(roster, sid, "/scan", False), ("closed", "open"))
        results = measure(target, args)
    finally:
        stop(proc)
    check_statuses("plain endpoint", results, sqlite3.connect(db).execute("SELECT COUNT(*) FROM scans").fetchone()[0])
    return "plain Flask+waitress", *results


def bench_fieldsync(work: Path, roster: Roster, args) -> tuple[str, LoopResult, LoopResult]:
    port, instance, session_ids = free_port(), work / "node", roster.session_ids
    proc = start_server(["-m", "fieldsync", "--instance", str(instance), "serve", "--port", str(port),
                         "--threads", str(args.threads)], port, work / "node.log")
    try:
        target = Target("fieldsync serve", port, proc,
                        lambda sid: make_stations(roster, sid, "/api/v1/checkins", True), tuple(session_ids))
        results = measure(target, args)
    finally:
        stop(proc)
    stored = sqlite3.connect(instance / "fieldsync.db").execute(
        f"SELECT COUNT(*) FROM checkins WHERE session_id IN ({','.join('?' * len(session_ids))})",
        session_ids).fetchone()[0]
    check_statuses("fieldsync", results, stored)
    return "fieldsync serve (FULL)", *results


if __name__ == "__main__":
    main()
