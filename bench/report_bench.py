"""Hub report benchmark (issue 8, DESIGN §9): the dashboard and every report over 10M check-ins, ≤ 2 s.

One run builds a city hub and prints:
- how fast check-ins load with the rollup triggers on and off (the same rows, the same connection),
  and how long one rebuild of every rollup from the raw check-ins takes;
- each dashboard query and each report, in this process, first call and median of three;
- the same figures computed the naive way from the raw check-ins (no rollups), as the baseline;
- the hub pages through a real `fieldsync serve --hub` over loopback HTTP, signed in as an admin.

The city: 4 counties × 16 towns × 40 villages; 20 people per 1,000 check-ins (200,000 at 10M);
sessions of 20-100 people over 2023-2025 (half of them in 2025, the year asked for); in and, for
3 in 4 people, out scans; 1 in 30 people scans in twice. Loading uses synchronous=NORMAL and a 1 GB
cache (it is set-up, not the product's check-in path); the timings use the app's own connections.

    python bench/report_bench.py                          # 10M check-ins: ~10 min, ~5 GB of disk
    python bench/report_bench.py --checkins 1000000       # a quick run
    python bench/report_bench.py --dir /tmp/hub --reuse   # time again on a hub built before

On PostgreSQL (`--database`, decision 0300): the hub built above is copied into a fresh database on
that server (pg_schema.copy_database, COPY, as `fieldsync hub migrate-to` does; then ANALYZE) and
every in-process figure is timed there too, printed beside SQLite's with the ratio. A report that
fails there is printed as such (the reports are being ported to PostgreSQL one by one).

    python bench/report_bench.py --checkins 1000000 --database postgresql://postgres@127.0.0.1:55433/postgres

With --dir the copy is kept (database fieldsync_report_bench) and --reuse times it again.
"""

from __future__ import annotations

import argparse
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldsync import config
from fieldsync.demo import GIVEN, SURNAMES
from fieldsync.parts import open_store
from fieldsync.records import users
from fieldsync.reports import (
    coverage,
    dashboard,
    hours,
    kpi,
    merges,
    pairings,
    registry,
    rollup,
    units,
)
from fieldsync.store import connect

TARGET_S = 2.0
YEAR = 2025
YEARS = {2023: 0.2, 2024: 0.3, 2025: 0.5}
KINDS = {"training": (0.2, 3.0), "volunteer": (0.45, 2.0), "theme": (0.15, 2.5), "monitoring": (0.2, 4.0)}
COUNTIES = ("371002", "371003", "371082", "371083")
TOWNS_PER_COUNTY, VILLAGES_PER_TOWN = 16, 40
PEOPLE_PER_1000_CHECKINS = 20
CHINA = timezone(timedelta(hours=8))
PASSWORD = "bench-password"
BATCH = 200_000
MERGE_BATCH = 5_000    # what a node pushes at once


# -- the city -------------------------------------------------------------------------------
def gazetteer() -> list[tuple]:
    places = [("371000", "威海市", "city", None, 2_900_000)]
    for county in COUNTIES:
        places.append((county, f"{county}区", "county", "371000", None))
        for t in range(TOWNS_PER_COUNTY):
            town = f"{county}{100 + t:03d}000"
            places.append((town, f"{county[-2:]}{t:02d}镇", "town", county, 45_000))
            places += [(f"{town[:9]}{201 + v:03d}", f"{t:02d}-{v:02d}村", "village", town, 1_100)
                       for v in range(VILLAGES_PER_TOWN)]
    return places


def ulid_like(rng: random.Random, moment: datetime) -> str:
    """26 characters, time first, like the ULIDs nodes make (cheaper to draw by the million)."""
    return f"{int(moment.timestamp() * 1000):013d}{rng.getrandbits(64):013X}"[:26]


def make_people(rng: random.Random, count: int, villages: list[tuple]) -> list[tuple]:
    people = []
    for n in range(count):
        village = villages[n % len(villages)]
        level = rng.choices(("none", "level3", "level2", "level1"), (75, 17, 6, 2))[0]
        people.append((ulid_like(rng, datetime(2022, 1, 1, tzinfo=UTC) + timedelta(seconds=n)),
                       rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)), f"1{rng.choice('3589')}{n:09d}",
                       village[3], village[0], level, "active", "2022-01-01"))
    # Registered twice, in another town: the duplicates queue has work to show.
    for n in range(0, count, 400):
        name, phone = people[n][1], people[n][2]
        other = villages[(n * 7 + 123) % len(villages)]
        people.append((ulid_like(rng, datetime(2023, 1, 1, tzinfo=UTC) + timedelta(seconds=n)), name, phone,
                       other[3], other[0], "none", "active", "2023-01-01"))
    return people


def make_sessions(rng: random.Random, count: int, towns: list[str]) -> list[tuple]:
    sessions = []
    kinds, weights = list(KINDS), [w for w, _ in KINDS.values()]
    for n in range(count):
        year = rng.choices(list(YEARS), list(YEARS.values()))[0]
        kind = rng.choices(kinds, weights)[0]
        start = datetime(year, 1, 1, 8) + timedelta(days=rng.randrange(365), minutes=rng.randrange(0, 180, 30))
        town = towns[rng.randrange(len(towns))]
        status = "cancelled" if rng.random() < 0.02 else "active"
        sessions.append((ulid_like(rng, start.replace(tzinfo=CHINA)), kind, f"{kind}活动{n}", f"{town}文体站",
                         f"第{n}次活动，面向各村群众。", "offline", start.isoformat(timespec="minutes"),
                         (start + timedelta(hours=KINDS[kind][1])).isoformat(timespec="minutes"), town,
                         "刘老师", "0631-5212345", KINDS[kind][1], status))
    return sorted(sessions, key=lambda s: s[6])


def scans_of(rng: random.Random, session: tuple, attendees: list[str]) -> list[tuple]:
    session_id, start, hours_credited = session[0], datetime.fromisoformat(session[6]), session[11]
    start = start.replace(tzinfo=CHINA).astimezone(UTC)
    node = f"node-{session[8]}"
    rows = []
    for person in attendees:
        arrived = start + timedelta(minutes=rng.randint(-10, 20))
        times = [("in", arrived)]
        if rng.random() < 1 / 30:
            times.append(("in", arrived + timedelta(seconds=40)))
        if rng.random() < 0.75:
            times.append(("out", start + timedelta(hours=hours_credited, minutes=rng.randint(-60, 30))))
        for direction, at in times:
            stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            rows.append((ulid_like(rng, at), session_id, person, direction, stamp,
                         f"{int(at.timestamp() * 1000):016d}-00000-{node}", node, "bench", "qr", ""))
    return rows


CHECKIN_INSERT = ("INSERT INTO {table} (id, session_id, person_id, direction, scanned_at, hlc, node, station,"
                  " method, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def build(path: Path, checkins: int, seed: int) -> dict:
    """Create the hub; returns load figures."""
    rng = random.Random(seed)
    config.save(path, mode="hub")
    with open_store(path / "fieldsync.db") as store:     # migrations, the app's way
        users.create(store, "admin", PASSWORD, "admin")
    db = sqlite3.connect(path / "fieldsync.db", isolation_level=None)
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -1000000")
    places = gazetteer()
    towns = [p[0] for p in places if p[2] == "town"]
    villages = [p for p in places if p[2] == "village"]
    people = make_people(rng, max(20_000, checkins * PEOPLE_PER_1000_CHECKINS // 1000), villages)
    sessions = make_sessions(rng, max(100, checkins // 108), towns)
    with_transaction(db, lambda: (
        db.executemany("INSERT INTO places (code, name, kind, parent) VALUES (?, ?, ?, ?)", [p[:4] for p in places]),
        db.executemany("INSERT INTO place_populations (code, year, population) VALUES (?, ?, ?)",
                       [(p[0], YEAR, p[4]) for p in places if p[4]]),
        db.executemany("INSERT INTO people (id, name, phone, town, village, level, status, registered_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", people),
        db.executemany("INSERT INTO sessions (id, kind, title, organizer, summary, mode, starts_at, ends_at,"
                       " town, contact_name, contact_phone, hours, status) VALUES"
                       " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sessions)))
    add_pairings(db, rng, villages, sessions)
    by_town: dict[str, list[str]] = {}
    for person in people:
        by_town.setdefault(person[3], []).append(person[0])
    stream = scan_stream(rng, sessions, by_town, checkins)
    figures = trigger_overhead(db, stream, min(500_000, checkins // 10))
    started = time.perf_counter()
    with rollup.bulk_load(db):
        loaded = insert_batches(db, "checkins", stream)
        figures["bulk_load_s"] = time.perf_counter() - started
        rebuild_started = time.perf_counter()
    figures["rebuild_s"] = time.perf_counter() - rebuild_started
    figures.update(people=len(people), sessions=len(sessions), checkins=loaded + figures["sample_rows"])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return figures


def with_transaction(db: sqlite3.Connection, work) -> None:
    db.execute("BEGIN")
    work()
    db.execute("COMMIT")


def add_pairings(db, rng: random.Random, villages: list[tuple], sessions: list[tuple]) -> None:
    """200 organisations (records since decision 0231), each paired with a village."""
    paired = [villages[rng.randrange(len(villages))] for _ in range(200)]
    pairs = [(f"pair{n:04d}", f"org{n:04d}", village[0], village[3], "2023-03-15", "2023-03-15T00:00:00Z")
             for n, village in enumerate(paired)]
    links = [(s[0], pairs[rng.randrange(len(pairs))][0]) for s in rng.sample(sessions, min(4000, len(sessions)))
             if s[1] in ("volunteer", "theme")]
    with_transaction(db, lambda: (
        db.executemany("INSERT INTO organisations (id, name) VALUES (?, ?)",
                       [(f"org{n:04d}", f"体育社会组织{n}") for n in range(len(pairs))]),
        db.executemany("INSERT INTO pairings (id, organisation_id, village, town, since, created_at)"
                       " VALUES (?, ?, ?, ?, ?, ?)", pairs),
        db.executemany("INSERT INTO session_pairings VALUES (?, ?)", links)))


def scan_stream(rng: random.Random, sessions: list[tuple], by_town: dict[str, list[str]], limit: int):
    """Check-in rows, session after session, until `limit` rows."""
    produced = 0
    while True:
        for session in sessions:
            local = by_town[session[8]]
            for row in scans_of(rng, session, rng.sample(local, min(len(local), rng.randint(20, 100)))):
                if produced == limit:
                    return
                produced += 1
                yield row


def take(stream, count: int) -> list[tuple]:
    return [row for _, row in zip(range(count), stream)]


def insert_batches(db, table: str, stream) -> int:
    total = 0
    while batch := take(stream, BATCH):
        with_transaction(db, lambda: db.executemany(CHECKIN_INSERT.format(table=table), batch))
        total += len(batch)
    return total


def trigger_overhead(db, stream, sample: int) -> dict:
    """Load the same rows three ways: into a trigger-less twin of checkins, into checkins with the
    rollup triggers row by row, and into checkins in blocks of 5,000 deferred and then folded in
    as a hub merge does (rollup.deferred, rollup.fold). The rollups this double-counts are
    rebuilt when the bulk load ends.

    Rates are per CPU second of this process: on a shared machine wall time mostly measures the
    neighbours."""
    rows = take(stream, sample)
    twin_sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'checkins'").fetchone()[0]
    db.execute(twin_sql.replace("CREATE TABLE checkins", "CREATE TABLE bench_plain_checkins"))
    for index in ("session_id, person_id", "person_id", "scanned_at"):
        db.execute(f"CREATE INDEX bench_plain_{index.replace(', ', '_')} ON bench_plain_checkins({index})")

    def folded_batches():
        for start in range(0, len(rows), MERGE_BATCH):
            db.execute("BEGIN")
            with rollup.deferred(db):
                db.executemany(CHECKIN_INSERT.format(table="checkins"), rows[start:start + MERGE_BATCH])
            db.execute("COMMIT")
        more = True
        while more:
            db.execute("BEGIN")
            more = rollup.fold(db)
            db.execute("COMMIT")

    ways = {"plain": lambda: insert_batches(db, "bench_plain_checkins", iter(rows)),
            "per_row": lambda: insert_batches(db, "checkins", iter(rows)),
            "folded": folded_batches}
    rates = {}
    for way, load in ways.items():
        if way == "folded":
            with_transaction(db, lambda: db.executemany("DELETE FROM checkins WHERE id = ?",
                                                        [(row[0],) for row in rows]))
        started = time.process_time()
        load()
        rates[way] = len(rows) / (time.process_time() - started)
    db.execute("DROP TABLE bench_plain_checkins")
    return {"sample_rows": len(rows), "plain_rows_s": rates["plain"], "trigger_rows_s": rates["per_row"],
            "folded_rows_s": rates["folded"]}


# -- timing ---------------------------------------------------------------------------------
def timed(work, repeat: int = 3) -> tuple[float, float]:
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        spent.append(time.perf_counter() - started)
    return spent[0], statistics.median(spent)


def report_file(db, name: str, fmt: str, **params) -> int:
    _, chunks = registry.prepare(db, name, fmt, params)
    return sum(len(chunk) for chunk in chunks)


def in_process(path: Path, database: str | None = None) -> list[tuple[str, float, float]]:
    """Each case's first and median time; on PostgreSQL a case that fails gives its error instead."""
    if database is None:
        return cases_timed(connect(path / "fieldsync.db"))
    with open_store(path / "fieldsync.db", database=database) as store:
        return cases_timed(store.db)


def cases_timed(db) -> list[tuple]:
    city = units.resolve(db)
    county = units.resolve(db, COUNTIES[0])
    town = units.resolve(db, county.towns[0])
    biggest = db.execute("SELECT session_id FROM rollup_attendance GROUP BY session_id"
                         " ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
    busiest = db.execute("SELECT person_id FROM rollup_person_year WHERE year = ?"
                         " ORDER BY sessions DESC LIMIT 1", [str(YEAR)]).fetchone()[0]
    cases = [
        ("dashboard: city (all parts)", lambda: dashboard.build(db, city, YEAR)),
        ("dashboard: county", lambda: dashboard.build(db, county, YEAR)),
        ("dashboard: town, kind=training", lambda: dashboard.build(db, town, YEAR, "training")),
        ("  check-ins per day (city)", lambda: dashboard.checkins_per_day(db, city, YEAR)),
        ("  sessions by kind (city)", lambda: dashboard.sessions_by_kind(db, city, YEAR)),
        ("  coverage per village (city)", lambda: coverage.of(db, city, YEAR)),
        ("  yearly targets (city)", lambda: kpi.yearly(db, city, YEAR)),
        ("  density (city)", lambda: kpi.density(db, city, YEAR)),
        ("  hours leaderboard (city)", lambda: hours.leaderboard(db, city, YEAR)),
        ("  pairings (city)", lambda: pairings.listing(db, city, YEAR)),
        ("volunteer hours, everyone (city)", lambda: hours.leaderboard(db, city, YEAR, instructors_only=False)),
        ("person history (busiest volunteer)", lambda: hours.history(db, busiest)),
        ("duplicates (name + mobile)", lambda: merges.duplicates(db)),
        ("统计表 XLSX: county", lambda: report_file(db, "statistics", "xlsx", year=YEAR, unit=county.code)),
        ("统计表 XLSX: city", lambda: report_file(db, "statistics", "xlsx", year=YEAR)),
        ("coverage XLSX: city", lambda: report_file(db, "coverage", "xlsx", year=YEAR)),
        ("KPI XLSX: city", lambda: report_file(db, "kpi", "xlsx", year=YEAR)),
        ("volunteer hours XLSX: city", lambda: report_file(db, "volunteer-hours", "xlsx", year=YEAR)),
        ("attendance sheet XLSX (biggest session)", lambda: report_file(db, "attendance", "xlsx", session=biggest)),
    ]
    return [(label, *attempt(work)) for label, work in cases]


def attempt(work) -> tuple:
    try:
        return timed(work)
    except sqlite3.Error as exc:   # a PostgreSQL hub's errors come as sqlite3's
        return None, str(exc).splitlines()[0][:60]


NAIVE_TRAINED = (
    "SELECT COUNT(DISTINCT c.person_id) FROM checkins c JOIN sessions s ON s.id = c.session_id"
    " WHERE c.direction = 'in' AND s.kind = 'training' AND s.status = 'active'"
    " AND s.starts_at >= ? AND s.starts_at < ?")
NAIVE_PER_DAY = (
    "SELECT date(first_in, '+8 hours') AS day, COUNT(*) FROM ("
    "  SELECT MIN(scanned_at) AS first_in FROM checkins WHERE direction = 'in'"
    "  AND scanned_at >= ? AND scanned_at < ? GROUP BY session_id, person_id) GROUP BY day")
NAIVE_LEADERBOARD = (
    "SELECT person_id, SUM(CASE WHEN first_in IS NULL THEN 0 WHEN last_out IS NULL OR last_out <= first_in"
    "  THEN cap ELSE MIN(cap, (julianday(last_out) - julianday(first_in)) * 1440) END) AS minutes FROM ("
    "  SELECT c.person_id, s.hours * 60 AS cap, MIN(CASE WHEN c.direction = 'in' THEN c.scanned_at END) AS first_in,"
    "   MAX(CASE WHEN c.direction = 'out' THEN c.scanned_at END) AS last_out"
    "  FROM checkins c JOIN sessions s ON s.id = c.session_id"
    "  WHERE s.kind IN ('volunteer', 'theme') AND s.status = 'active' AND s.starts_at >= ? AND s.starts_at < ?"
    "  GROUP BY c.session_id, c.person_id)"
    " GROUP BY person_id ORDER BY minutes DESC LIMIT 50")


def baselines(path: Path) -> list[tuple[str, float, float, float]]:
    """The naive query, its time, and the rollup query's time for the same figure."""
    db = connect(path / "fieldsync.db")
    city = units.resolve(db)
    years = [str(YEAR), str(YEAR + 1)]
    pairs = [
        ("trained people in the year", lambda: db.execute(NAIVE_TRAINED, years).fetchall(),
         lambda: coverage.people_by_place(db, city, YEAR, "training")),
        ("check-ins per day in the year",
         lambda: db.execute(NAIVE_PER_DAY, [f"{YEAR - 1}-12-31T16", f"{YEAR}-12-31T16"]).fetchall(),
         lambda: dashboard.checkins_per_day(db, city, YEAR)),
        ("volunteer-hours leaderboard", lambda: db.execute(NAIVE_LEADERBOARD, years).fetchall(),
         lambda: hours.leaderboard(db, city, YEAR, instructors_only=False)),
    ]
    return [(label, timed(naive, 1)[0], timed(fast)[1], 0.0) for label, naive, fast in pairs]


def over_http(path: Path) -> list[tuple[str, float, float]]:
    from tests.support import LiveServer, WebClient

    county = COUNTIES[0]
    pages = [
        ("GET /hub/ (city)", f"/hub/?year={YEAR}"),
        ("GET /hub/ (county, kind)", f"/hub/?year={YEAR}&county={county}&kind=volunteer"),
        ("GET /hub/volunteers", f"/hub/volunteers?year={YEAR}"),
        ("GET /hub/people?q=王", "/hub/people?q=%E7%8E%8B"),
        ("GET /hub/people/duplicates", "/hub/people/duplicates"),
        ("GET /hub/reports", "/hub/reports"),
        ("GET 统计表 XLSX (county)", f"/hub/reports/statistics.xlsx?year={YEAR}&unit={county}"),
        ("GET KPI XLSX (city)", f"/hub/reports/kpi.xlsx?year={YEAR}"),
    ]
    with LiveServer(path, hub=True) as server:
        client = WebClient(server.url)
        assert client.login("admin", PASSWORD).ok

        def fetch(url):
            answer = client.get(url, timeout=60)
            assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
            return answer

        return [(label, *timed(lambda url=url: fetch(url))) for label, url in pages]


def on_postgres(path: Path, admin_url: str, on_sqlite: list[tuple], *, reuse: bool, keep: bool) -> None:
    """The in-process figures again on a copy of the hub in PostgreSQL. reuse: time the copy an
    earlier run kept, if there is one; keep: leave the copy for such a run (with --dir)."""
    import pg_bench

    print(f"\n{pg_bench.describe(admin_url)}")
    url = pg_bench.database_url(admin_url, PG_COPY)
    if reuse and copied_before(url):
        print(f"timing the copy an earlier run left in {PG_COPY}")
    else:
        url, seconds = pg_bench.copy_hub(path / "fieldsync.db", admin_url, PG_COPY)
        print(f"copied to PostgreSQL (COPY, indexes, triggers, ANALYZE) in {seconds:.0f} s")
    try:
        print(f"\n{'in process on PostgreSQL':<44} {'first s':>8} {'median s':>9} {'SQLite s':>9}  ratio  target")
        for (label, first, median), (_, _, theirs) in zip(in_process(path, url), on_sqlite):
            if first is None:
                print(f"{label:<44} {'FAILED':>8} {median}")
            else:
                print(f"{label:<44} {first:>8.3f} {median:>9.3f} {theirs:>9.3f} {median / theirs:>6.1f}x"
                      f"  {verdict(max(first, median))}")
    finally:
        if not keep:
            pg_bench.drop_database(admin_url, PG_COPY)


PG_COPY = "fieldsync_report_bench"


def copied_before(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("SELECT to_regclass('checkins') IS NOT NULL").fetchone()[0]
    except psycopg.OperationalError:   # no such database
        return False


# -- output ---------------------------------------------------------------------------------
def verdict(seconds: float) -> str:
    return "ok" if seconds <= TARGET_S else "OVER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkins", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, help="Where to build the hub (default: a temporary folder).")
    parser.add_argument("--reuse", action="store_true", help="Time a hub built before in --dir.")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--database", help="also on PostgreSQL: a server address that may create databases")
    args = parser.parse_args()
    path = args.dir or Path(tempfile.mkdtemp(prefix="report-bench-"))
    print(f"# report_bench: {platform.node()} {platform.machine()}, Python {platform.python_version()},"
          f" SQLite {sqlite3.sqlite_version}, hub in {path}")
    if not args.reuse:
        if path.exists() and any(path.iterdir()):
            shutil.rmtree(path)
        started = time.perf_counter()
        figures = build(path, args.checkins, args.seed)
        print(f"built in {time.perf_counter() - started:.0f} s: {figures['checkins']:,} check-ins,"
              f" {figures['sessions']:,} sessions, {figures['people']:,} people,"
              f" {(path / 'fieldsync.db').stat().st_size / 2**30:.1f} GiB")
        plain = figures["plain_rows_s"]
        print(f"load, same {figures['sample_rows']:,} rows, per CPU second: {plain:,.0f} rows/s without rollups;"
              f" {figures['trigger_rows_s']:,.0f} rows/s with the triggers row by row"
              f" ({plain / figures['trigger_rows_s']:.2f}x the time per row);"
              f" {figures['folded_rows_s']:,.0f} rows/s folded per {MERGE_BATCH:,}"
              f" ({plain / figures['folded_rows_s']:.2f}x)")
        print(f"bulk load of the rest {figures['bulk_load_s']:.0f} s; rebuild of every rollup from the raw"
              f" check-ins {figures['rebuild_s']:.0f} s")
    print(f"\n{'in process (year ' + str(YEAR) + ')':<44} {'first s':>8} {'median s':>9}  target {TARGET_S} s")
    on_sqlite = in_process(path)
    for label, first, median in on_sqlite:
        print(f"{label:<44} {first:>8.3f} {median:>9.3f}  {verdict(max(first, median))}")
    if args.database:
        on_postgres(path, args.database, on_sqlite, reuse=args.reuse, keep=args.dir is not None)
    print(f"\n{'naive from raw check-ins vs rollups':<44} {'naive s':>8} {'rollup s':>9}  ratio")
    for label, naive, fast, _ in baselines(path):
        print(f"{label:<44} {naive:>8.3f} {fast:>9.3f}  {naive / fast:,.0f}x")
    if not args.no_http:
        print(f"\n{'over HTTP (waitress, loopback)':<44} {'first s':>8} {'median s':>9}  target {TARGET_S} s")
        for label, first, median in over_http(path):
            print(f"{label:<44} {first:>8.3f} {median:>9.3f}  {verdict(max(first, median))}")
    if not args.dir:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
